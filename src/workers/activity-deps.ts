import { readFileSync } from 'node:fs';
import type { ActivityDeps } from '../activities/index.js';
import type { AutopilotConfig } from '../config/config.js';
import type { SecretSource } from '../config/secret.js';
import { DynatraceClient } from '../dynatrace/index.js';
import { InstallerCache } from '../installers/installer-cache.js';
import { createSecretStore } from '../secrets/create-secret-store.js';
import type { SecretStore } from '../secrets/secret-store.js';
import { autopilotVersion } from '../version.js';

export interface DynatraceEndpoint {
  url: string;
  clusterToken: SecretSource;
}

/** Builds the clients every activity receives: one Dynatrace client (and its per-environment limit) per worker. */
export function buildActivityDeps(
  config: AutopilotConfig,
  options: { identity: string; dynatrace: DynatraceEndpoint; secrets?: SecretStore },
): ActivityDeps {
  return {
    identity: options.identity,
    version: autopilotVersion,
    startedAt: new Date(),
    dynatrace: {
      client: new DynatraceClient({
        baseUrl: options.dynatrace.url,
        maxConcurrentPerEnvironment: config.dynatrace.maxConcurrentPerEnvironment,
        requestTimeoutMs: config.dynatrace.requestTimeoutMs,
        ...(config.dynatrace.caCertificateFile
          ? { caCertificate: readFileSync(config.dynatrace.caCertificateFile, 'utf8') }
          : {}),
      }),
      clusterUrl: options.dynatrace.url,
      clusterToken: options.dynatrace.clusterToken,
    },
    secrets: options.secrets ?? createSecretStore(config),
    installers: new InstallerCache(config.installerCacheDir),
    ...(config.dynatrace.installerCaFile ? { installerCaFile: config.dynatrace.installerCaFile } : {}),
    webhook: config.webhook,
  };
}
