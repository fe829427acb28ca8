import os from 'node:os';
import { ConfigError, loadConfig } from '../config/config.js';
import { codecKeysFor } from '../codec/codec-keys.js';
import {
  autopilotClient,
  connectClient,
  connectWorker,
  temporalAccess,
  TemporalUnreachableError,
} from '../temporal/connect.js';
import { applySchedulesAtStart } from './apply-schedules.js';
import { installRuntime } from './runtime.js';
import { createAutopilotWorkers } from './create-worker.js';
import { openFleetDatabase, FleetDatabaseError } from '../database/open-fleet-database.js';
import { EnvironmentRegistry } from '../registry/environment-registry.js';
import { buildActivityDeps } from './activity-deps.js';
import { clusterEndpoints } from './cluster-endpoints.js';
import { fleetTaskQueue } from '../shared/task-queues.js';
import { startupWarnings } from './startup-warnings.js';

/**
 * The worker process on its own (containers, production). `npm start` embeds the same worker next to
 * a local Temporal dev server instead.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const clusters = clusterEndpoints(config);
  if (clusters.length === 0) {
    throw new ConfigError(
      'DT_CLUSTER_URL',
      '(or AUTOPILOT_CLUSTERS_FILE) is required for the worker on its own (`npm start` runs a simulator instead)',
    );
  }
  if (config.codec.acceptUnsealedPayloads) {
    throw new ConfigError(
      'AUTOPILOT_ACCEPT_UNSEALED_PAYLOADS',
      'is honoured only by the sandbox (npm start without TEMPORAL_ADDRESS and DT_CLUSTER_URL): a production worker acts only on sealed payloads',
    );
  }
  const { logger } = await installRuntime(config);
  const identity = `${process.pid}@${os.hostname()}`;
  const database = await openFleetDatabase({
    ...(config.database.url ? { url: config.database.url.reveal() } : {}),
    embeddedDir: config.database.embeddedDir,
  });
  const activityDeps = buildActivityDeps(config, {
    identity,
    clusters,
    registry: new EnvironmentRegistry(database.db),
    databaseKind: database.kind,
  });
  for (const warning of startupWarnings(config, { sandbox: false })) logger.warn(warning);
  const codecKeys = codecKeysFor(config);
  const access = temporalAccess(config);
  const connection = await connectWorker(access);
  try {
    const workers = await createAutopilotWorkers({
      config,
      connection,
      activityDeps,
      codecKeys,
    });
    const clientConnection = await connectClient(access);
    await applySchedulesAtStart(
      autopilotClient(clientConnection, config.temporal.namespace, codecKeys),
      config,
      logger,
    );
    await clientConnection.close();
    logger.info('Worker started', {
      address: access.address,
      tls: Boolean(access.tls),
      codecKey: codecKeys.primary.id,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      fleetTaskQueue: fleetTaskQueue(config.temporal.taskQueue),
    });
    await workers.run();
    logger.info('Worker stopped');
  } finally {
    await connection.close();
    await database.close();
  }
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof TemporalUnreachableError || err instanceof FleetDatabaseError) {
    console.error(`autopilot worker: ${err.message}`);
    process.exit(2);
  }
  console.error(err);
  process.exit(1);
});
