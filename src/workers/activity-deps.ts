import { readFileSync } from 'node:fs';
import { EnvironmentTokens } from '../activities/environment-tokens.js';
import type { ActivityDeps } from '../activities/index.js';
import type { AutopilotConfig } from '../config/config.js';
import type { SecretSource } from '../config/secret.js';
import { HostLookupBatcher, quoteSelectorValues } from '../dynatrace/host-lookup-batcher.js';
import { DynatraceClient } from '../dynatrace/index.js';
import { collect } from '../dynatrace/pagination.js';
import { createExecutors } from '../hosts/create-executors.js';
import { InstallerCache } from '../installers/installer-cache.js';
import { InventoryStore } from '../inventory/inventory-store.js';
import { createSecretStore } from '../secrets/create-secret-store.js';
import type { SecretStore } from '../secrets/secret-store.js';
import { autopilotVersion } from '../version.js';
import { createAwsClients, type AwsClients } from '../aws/aws-clients.js';

export interface DynatraceEndpoint {
  url: string;
  clusterToken: SecretSource;
}

/**
 * Builds the clients every activity receives: one Dynatrace client (and so one per-environment
 * limit and one host-lookup batcher) per worker process.
 */
export function buildActivityDeps(
  config: AutopilotConfig,
  options: { identity: string; dynatrace: DynatraceEndpoint; secrets?: SecretStore; aws?: AwsClients },
): ActivityDeps {
  const client = new DynatraceClient({
    baseUrl: options.dynatrace.url,
    maxConcurrentPerEnvironment: config.dynatrace.maxConcurrentPerEnvironment,
    requestTimeoutMs: config.dynatrace.requestTimeoutMs,
    ...(config.dynatrace.caCertificateFile
      ? { caCertificate: readFileSync(config.dynatrace.caCertificateFile, 'utf8') }
      : {}),
  });
  const secrets = options.secrets ?? createSecretStore(config);
  const environmentTokens = new EnvironmentTokens(secrets);
  return {
    identity: options.identity,
    version: autopilotVersion,
    startedAt: new Date(),
    dynatrace: { client, clusterUrl: options.dynatrace.url, clusterToken: options.dynatrace.clusterToken },
    secrets,
    installers: new InstallerCache(config.installerCacheDir),
    ...(config.dynatrace.installerCaFile ? { installerCaFile: config.dynatrace.installerCaFile } : {}),
    webhook: config.webhook,
    executors: createExecutors(config, secrets),
    environmentTokens,
    hostLookup: new HostLookupBatcher(hostLookup(client, environmentTokens), config.hosts.lookupBatchMs),
    reportingPollMs: config.hosts.reportingPollMs,
    inventories: new InventoryStore(config.inventoryDir),
    aws: options.aws ?? (config.aws.region ? createAwsClients({ region: config.aws.region }) : undefined),
    catalog: {
      approvedTypesParameter: config.remediation.approvedTypesParameter,
      templateBucket: config.remediation.templateBucket,
    },
  };
}

/** One entities query for a batch of host names of one environment (hosts seen in the last 30 minutes). */
export function hostLookup(client: DynatraceClient, tokens: EnvironmentTokens) {
  return async (environmentId: string, hostnames: string[]) => {
    const token = await tokens.get(environmentId, 'automation');
    const entities = await collect(
      client.environment(environmentId, token).entities.list({
        entitySelector: `type("HOST"),entityName.in(${quoteSelectorValues(hostnames)})`,
        fields: '+properties.installerVersion,+lastSeenTms',
        from: 'now-30m',
        pageSize: 500,
      }),
    );
    return entities.map((e) => ({
      entityId: e.entityId,
      displayName: e.displayName,
      ...(typeof e.properties?.installerVersion === 'string'
        ? { installerVersion: e.properties.installerVersion }
        : {}),
      ...(e.lastSeenTms !== undefined ? { lastSeenTms: e.lastSeenTms } : {}),
    }));
  };
}
