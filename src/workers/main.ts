import os from 'node:os';
import { ConfigError, loadConfig } from '../config/config.js';
import { codecKeysFor } from '../codec/codec-keys.js';
import { connectWorker, temporalAccess, TemporalUnreachableError } from '../temporal/connect.js';
import { installRuntime } from './runtime.js';
import { createAutopilotWorker } from './create-worker.js';
import { buildActivityDeps } from './activity-deps.js';

/**
 * The worker process on its own (containers, production). `npm start` embeds the same worker next to
 * a local Temporal dev server instead.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const { clusterUrl, clusterToken } = config.dynatrace;
  if (!clusterUrl || !clusterToken) {
    throw new ConfigError(
      'DT_CLUSTER_URL',
      'is required for the worker on its own (`npm start` runs a simulator instead)',
    );
  }
  const logger = installRuntime(config);
  const identity = `${process.pid}@${os.hostname()}`;
  const activityDeps = buildActivityDeps(config, { identity, dynatrace: { url: clusterUrl, clusterToken } });
  const codecKeys = codecKeysFor(config);
  const access = temporalAccess(config);
  const connection = await connectWorker(access);
  try {
    const worker = await createAutopilotWorker({
      config,
      connection,
      activityDeps,
      codecKeys,
    });
    logger.info('Worker started', {
      address: access.address,
      tls: Boolean(access.tls),
      codecKey: codecKeys.primary.id,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
    });
    await worker.run();
    logger.info('Worker stopped');
  } finally {
    await connection.close();
  }
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof TemporalUnreachableError) {
    console.error(`autopilot worker: ${err.message}`);
    process.exit(2);
  }
  console.error(err);
  process.exit(1);
});
