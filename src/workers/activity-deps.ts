import { FleetHistory } from '../fleet/fleet-history.js';
import { InstallSlots } from '../fleet/install-slots.js';
import { DatabaseLeaseBook, MemoryLeaseBook } from '../fleet/install-slot-leases.js';
import { StandardsStore } from '../standards/standards-store.js';
import { createDynatraceAccess } from '../activities/dynatrace-access.js';
import type { EnvironmentAccess } from '../activities/environment-access.js';
import type { TokenPolicy } from '../activities/tokens/token-keeper.js';
import type { ActivityDeps } from '../activities/index.js';
import type { AutopilotConfig } from '../config/config.js';
import { HostLookupBatcher, quoteSelectorValues } from '../dynatrace/host-lookup-batcher.js';
import { DynatraceClients, type ClusterEndpoint } from '../dynatrace/dynatrace-clients.js';
import type { EnvironmentRegistry } from '../registry/environment-registry.js';
import { collect } from '../dynatrace/pagination.js';
import { createExecutors } from '../hosts/create-executors.js';
import { createInstallerStore } from '../installers/create-installer-store.js';
import { installerTrustOf, readInstallerCa, type InstallerTrust } from '../installers/installer-trust.js';
import { inventoryStoreOf } from '../inventory/open-inventory-store.js';
import type { FleetDatabase } from '../database/open-fleet-database.js';
import { createSecretStore } from '../secrets/create-secret-store.js';
import type { SecretStore } from '../secrets/secret-store.js';
import { autopilotVersion } from '../version.js';
import { createAwsClients, type AwsClients } from '../aws/aws-clients.js';

/**
 * Builds the clients every activity receives: one Dynatrace client per cluster and SaaS host (and so
 * one set of concurrency limits and one host-lookup batcher) per worker process.
 */
export function buildActivityDeps(
  config: AutopilotConfig,
  options: {
    identity: string;
    clusters: readonly ClusterEndpoint[];
    registry: EnvironmentRegistry;
    /** PostgreSQL holds the inventories; the embedded database leaves them to the sandbox's folder. */
    databaseKind: FleetDatabase['kind'];
    secrets?: SecretStore;
    aws?: AwsClients;
    /** `npm start` with both stand-ins; every other worker is production. */
    sandbox?: boolean;
  },
): ActivityDeps {
  const sandbox = options.sandbox ?? false;
  const secrets = options.secrets ?? createSecretStore(config);
  const dynatrace = createDynatraceAccess({
    clients: new DynatraceClients(options.clusters, {
      requestTimeoutMs: config.dynatrace.requestTimeoutMs,
      maxConcurrentPerEnvironment: config.dynatrace.maxConcurrentPerEnvironment,
      saasDomains: config.dynatrace.saasDomains,
      sandbox: options.sandbox ?? false,
    }),
    registry: options.registry,
    secrets,
    tokenPolicy: tokenPolicyOf(config),
  });
  const aws = options.aws ?? (config.aws.region ? createAwsClients({ region: config.aws.region }) : undefined);
  return {
    sandbox,
    identity: options.identity,
    version: autopilotVersion,
    startedAt: new Date(),
    dynatrace,
    secrets,
    installers: createInstallerStore({
      bucket: config.installerBucket,
      prefix: config.installerPrefix,
      localDir: config.installerCacheDir,
      s3: aws?.s3,
    }),
    installerTrust: workerInstallerTrust(config, sandbox),
    webhook: config.webhook,
    executors: createExecutors(config, secrets, { sandbox }),
    hostLookup: new HostLookupBatcher(
      hostLookup(dynatrace.environments),
      config.hosts.lookupBatchMs,
      config.hosts.lookupGatherMs,
    ),
    reportingPollMs: config.hosts.reportingPollMs,
    // The embedded database has one process, so its slots need no database round trip.
    installSlots: new InstallSlots(
      options.databaseKind === 'postgresql' ? new DatabaseLeaseBook(options.registry.db) : new MemoryLeaseBook(),
    ),
    maintenance: { scopeCheckHours: config.maintenance.scopeCheckHours },
    fleetHistory: new FleetHistory(options.registry.db),
    standards: new StandardsStore(options.registry.db),
    inventories: inventoryStoreOf({ db: options.registry.db, kind: options.databaseKind }, config),
    aws,
    catalog: {
      approvedTypesParameter: config.remediation.approvedTypesParameter,
      templateBucket: config.remediation.templateBucket,
    },
  };
}

/** What installers must prove on this worker; a configured CA that cannot be read stops the start. */
export function workerInstallerTrust(config: AutopilotConfig, sandbox: boolean): InstallerTrust {
  const caFile = config.dynatrace.installerCaFile;
  if (caFile) readInstallerCa(caFile);
  return installerTrustOf({ caFile, signature: config.dynatrace.installerSignature, sandbox });
}

export function tokenPolicyOf(config: AutopilotConfig): TokenPolicy {
  return {
    validityDays: config.tokens.validityDays,
    rotateBeforeDays: config.tokens.rotateBeforeDays,
    revokeGraceMs: config.tokens.revokeGraceMinutes * 60_000,
  };
}

/** One entities query for a batch of host names of one environment (hosts seen in the last 30 minutes). */
export function hostLookup(environments: EnvironmentAccess) {
  return async (environmentId: string, hostnames: string[]) => {
    const entities = await environments.withApi(environmentId, 'automation', ({ entities }) =>
      collect(
        entities.list({
          entitySelector: `type("HOST"),entityName.in(${quoteSelectorValues(hostnames)})`,
          fields: '+properties.installerVersion,+lastSeenTms',
          from: 'now-30m',
          pageSize: 500,
        }),
      ),
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
