import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AutopilotConfig } from '../config/config.js';
import { Secret } from '../config/secret.js';

/**
 * The sandbox's file secret store is encrypted with a key kept next to its data (`npm start` and
 * the CLI on the same machine share it). Production sets AUTOPILOT_SECRET_KEY instead.
 */
export function sandboxSecretKey(config: AutopilotConfig, onCreate?: (file: string) => void): Secret {
  const file = path.join(config.dataDir, 'secret-store.key');
  if (!existsSync(file)) {
    mkdirSync(config.dataDir, { recursive: true });
    writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
    onCreate?.(file);
  }
  return new Secret(readFileSync(file, 'utf8').trim());
}

/** Sandbox mode (no real cluster configured): fill in the file store key when none is set. */
export function withSandboxSecretKey(config: AutopilotConfig, onCreate?: (file: string) => void): AutopilotConfig {
  if (!config.secrets.fileKey && config.secrets.store === 'file' && !config.dynatrace.clusterUrl) {
    config.secrets.fileKey = sandboxSecretKey(config, onCreate);
  }
  return config;
}
