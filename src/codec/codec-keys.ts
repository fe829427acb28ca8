import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../config/config-error.js';
import type { AutopilotConfig } from '../config/config.js';
import { parseCodecKeys, type CodecKeyring } from './codec-keyring.js';

export const sandboxCodecKeysFile = (config: AutopilotConfig) => path.join(config.dataDir, 'codec-keys');

/**
 * The payload keys every client and worker of this deployment must share. Against a configured
 * server they must be configured too (nothing would be readable without them); the sandbox keeps
 * one next to its data, created by `npm start` and read by the CLI.
 */
export function codecKeysFor(
  config: AutopilotConfig,
  options: { generate?: boolean; onCreate?: (file: string) => void } = {},
): CodecKeyring {
  if (config.codec.keys) return config.codec.keys;
  if (config.temporal.address) {
    throw new ConfigError(
      'AUTOPILOT_CODEC_KEYS',
      '(or AUTOPILOT_CODEC_KEYS_FILE) is required with TEMPORAL_ADDRESS: every payload is encrypted with it; create one with echo "k1:$(openssl rand -base64 32)"',
    );
  }
  const file = sandboxCodecKeysFile(config);
  if (!existsSync(file)) {
    if (!options.generate) {
      throw new ConfigError(
        'AUTOPILOT_CODEC_KEYS',
        `is unset and the sandbox has no key in ${file} yet: run npm start once`,
      );
    }
    mkdirSync(config.dataDir, { recursive: true });
    const id = `sandbox-${new Date().toISOString().slice(0, 10)}`;
    writeFileSync(file, `${id}:${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    options.onCreate?.(file);
  }
  return parseCodecKeys(readFileSync(file, 'utf8'), file);
}
