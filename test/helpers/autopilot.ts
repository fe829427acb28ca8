import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../../src/activities/index.js';
import { Secret, type SecretSource } from '../../src/config/secret.js';
import { InstallerCache } from '../../src/installers/installer-cache.js';
import { FileSecretStore } from '../../src/secrets/file-secret-store.js';
import { startTestCluster, type TestCluster } from './simulator.js';
import { connectToTestServer, createTestWorker, uniqueTaskQueue } from './temporal.js';
import type { SimulatorKnobsInput } from '../../src/sandbox/dynatrace/index.js';

export interface Testbed {
  env: TestWorkflowEnvironment;
  dt: TestCluster;
  deps: ActivityDeps;
  taskQueue: string;
  dir: string;
  /** A worker with the real activities (real simulator, real secret store, real installer cache). */
  worker(overrides?: Partial<ActivityDeps>): Promise<Worker>;
  teardown(): Promise<void>;
}

/** The real thing end to end: Temporal dev server, Managed simulator, secret store, installer cache. */
export async function startTestbed(
  options: { knobs?: SimulatorKnobsInput; clusterToken?: SecretSource; webhook?: ActivityDeps['webhook'] } = {},
): Promise<Testbed> {
  const env = await connectToTestServer();
  const dt = await startTestCluster(options.knobs ? { knobs: options.knobs } : {});
  const dir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-testbed-'));
  const deps: ActivityDeps = {
    identity: 'testbed-worker',
    version: 'test',
    startedAt: new Date(),
    dynatrace: {
      client: dt.client,
      clusterUrl: dt.simulator.url,
      clusterToken: options.clusterToken ?? new Secret(dt.clusterToken),
    },
    secrets: new FileSecretStore(path.join(dir, 'secrets'), randomBytes(32)),
    installers: new InstallerCache(path.join(dir, 'installers')),
    webhook: options.webhook ?? { publicUrl: undefined, apiKey: undefined },
  };
  const taskQueue = uniqueTaskQueue('testbed');
  return {
    env,
    dt,
    deps,
    taskQueue,
    dir,
    worker: (overrides = {}) =>
      createTestWorker(env, { taskQueue, activities: createActivities({ ...deps, ...overrides }) }),
    async teardown() {
      await dt.stop();
      await env.teardown();
    },
  };
}
