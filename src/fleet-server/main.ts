import { createDynatraceAccess } from '../activities/dynatrace-access.js';
import { codecKeysFor } from '../codec/codec-keys.js';
import { ConfigError, loadConfig } from '../config/config.js';
import { FleetDatabaseError, openFleetDatabase } from '../database/open-fleet-database.js';
import { DynatraceClients } from '../dynatrace/dynatrace-clients.js';
import { createJsonLogger } from '../observability/json-logger.js';
import { EnvironmentRegistry } from '../registry/environment-registry.js';
import { createSecretStore } from '../secrets/create-secret-store.js';
import { autopilotClient, connectClient, temporalAccess, TemporalUnreachableError } from '../temporal/connect.js';
import { clusterEndpoints } from '../workers/cluster-endpoints.js';
import { tokenPolicyOf } from '../workers/activity-deps.js';
import { startFleetServer } from './start-fleet-server.js';

/**
 * The fleet server as its own service (containers): it reads the fleet database the workers
 * write, so it needs the PostgreSQL one; `npm start` runs it inside the sandbox's worker process.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.database.url) {
    throw new ConfigError(
      'AUTOPILOT_DATABASE_URL',
      'is required for the fleet server on its own: the embedded database belongs to one worker process',
    );
  }
  const logger = createJsonLogger(config.worker.logLevel);
  const database = await openFleetDatabase({
    url: config.database.url.reveal(),
    embeddedDir: config.database.embeddedDir,
  });
  const registry = new EnvironmentRegistry(database.db);
  const dynatrace = createDynatraceAccess({
    clients: new DynatraceClients(clusterEndpoints(config), {
      requestTimeoutMs: config.dynatrace.requestTimeoutMs,
      maxConcurrentPerEnvironment: config.dynatrace.maxConcurrentPerEnvironment,
      saasDomains: config.dynatrace.saasDomains,
    }),
    registry,
    secrets: createSecretStore(config),
    tokenPolicy: tokenPolicyOf(config),
  });
  const connection = await connectClient(temporalAccess(config));
  const client = autopilotClient(connection, config.temporal.namespace, codecKeysFor(config));
  const fleet = await startFleetServer(config, { dynatrace, client, logger }, { sandbox: false });
  logger.info('Fleet server started', { url: fleet.url });
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await fleet.stop();
  await connection.close();
  await database.close();
  logger.info('Fleet server stopped');
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof TemporalUnreachableError || err instanceof FleetDatabaseError) {
    console.error(`autopilot fleet server: ${err.message}`);
    process.exit(2);
  }
  console.error(err);
  process.exit(1);
});
