import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { inject } from 'vitest';
import { cleanEnv, freePort } from './processes.js';
import type { TestCluster } from './simulator.js';
import { ownNamespace, TEST_CODEC_KEYS_TEXT } from './temporal.js';

/**
 * The environment of a worker process (`src/workers/main.ts`) against the run-wide dev server and a
 * simulated cluster over https (trusting its certificate), in a namespace of the test's own: the
 * worker applies Autopilot's schedules, whose ids are fixed, so two such tests must not share a
 * namespace.
 */
export async function workerProcessEnv(
  options: { namespace: string; taskQueue: string; dt: TestCluster; dir: string },
  extra: Record<string, string | undefined>,
): Promise<Record<string, string | undefined>> {
  if (!options.dt.simulator.caFile) {
    throw new Error(
      'a worker process is production and takes no plain-http cluster: start the simulator with { tls: true }',
    );
  }
  return cleanEnv({
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_NAMESPACE: await ownNamespace(options.namespace),
    AUTOPILOT_CODEC_KEYS: TEST_CODEC_KEYS_TEXT,
    AUTOPILOT_TASK_QUEUE: options.taskQueue,
    AUTOPILOT_METRICS_ADDRESS: 'off',
    DT_CLUSTER_URL: options.dt.simulator.url,
    DT_CA_CERT_FILE: options.dt.simulator.caFile,
    DT_CLUSTER_TOKEN: options.dt.clusterToken,
    DT_INSTALLER_CA_FILE: options.dt.simulator.installerCaFile,
    AUTOPILOT_SECRET_KEY: randomBytes(32).toString('base64'),
    AUTOPILOT_SECRETS_DIR: path.join(options.dir, 'secrets'),
    AUTOPILOT_INSTALLER_CACHE_DIR: path.join(options.dir, 'installers'),
    AUTOPILOT_DATA_DIR: path.join(options.dir, 'data'),
    ...extra,
  });
}

/** Every port `npm start`'s sandbox listens on, free right now, as the variables that set them. */
export async function sandboxPorts() {
  return {
    AUTOPILOT_DEV_SERVER_PORT: String(await freePort()),
    AUTOPILOT_DEV_UI_PORT: String(await freePort()),
    AUTOPILOT_SIMULATOR_PORT: String(await freePort()),
    AUTOPILOT_MOTO_PORT: String(await freePort()),
    AUTOPILOT_WEBHOOK_PORT: String(await freePort()),
    AUTOPILOT_CODEC_PORT: String(await freePort()),
    AUTOPILOT_FLEET_PORT: String(await freePort()),
  };
}
