import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { Executors } from '../../src/activities/enrollment/host-failure.js';
import { EnvironmentTokens } from '../../src/activities/environment-tokens.js';
import { createActivities, type ActivityDeps } from '../../src/activities/index.js';
import { Secret, type SecretSource } from '../../src/config/secret.js';
import { HostLookupBatcher } from '../../src/dynatrace/host-lookup-batcher.js';
import { LocalExecutor } from '../../src/hosts/local-executor.js';
import { InstallerCache } from '../../src/installers/installer-cache.js';
import { InventoryStore } from '../../src/inventory/inventory-store.js';
import type { SimulatorKnobsInput } from '../../sandbox/dynatrace/index.js';
import { FileSecretStore } from '../../src/secrets/file-secret-store.js';
import { hostLookup } from '../../src/workers/activity-deps.js';
import type { TestAws } from './aws.js';
import { startTestCluster, type TestCluster } from './simulator.js';
import { connectToTestServer, createTestWorker, uniqueTaskQueue } from './temporal.js';

/** The activities' dependencies, all real: simulator client, encrypted secret store, caches, local hosts. */
export function testActivityDeps(options: {
  dt: TestCluster;
  dir: string;
  secretKey?: Buffer;
  clusterToken?: SecretSource;
  webhook?: ActivityDeps['webhook'];
  executors?: Partial<Executors>;
  aws?: TestAws;
}): ActivityDeps {
  const secrets = new FileSecretStore(path.join(options.dir, 'secrets'), options.secretKey ?? randomBytes(32));
  const environmentTokens = new EnvironmentTokens(secrets);
  return {
    identity: 'test-worker',
    version: 'test',
    startedAt: new Date(),
    dynatrace: {
      client: options.dt.client,
      clusterUrl: options.dt.simulator.url,
      clusterToken: options.clusterToken ?? new Secret(options.dt.clusterToken),
    },
    secrets,
    installers: new InstallerCache(path.join(options.dir, 'installers')),
    webhook: options.webhook ?? { publicUrl: undefined, apiKey: undefined },
    executors: {
      default: 'local',
      local: new LocalExecutor({ rootDir: path.join(options.dir, 'hosts') }),
      ...options.executors,
    },
    environmentTokens,
    hostLookup: new HostLookupBatcher(hostLookup(options.dt.client, environmentTokens), 500),
    reportingPollMs: 200,
    inventories: new InventoryStore(path.join(options.dir, 'inventories')),
    aws: options.aws?.clients,
    catalog: {
      approvedTypesParameter: options.aws?.approvedTypesParameter ?? '/dynatrace/approvedinstancetypes',
      templateBucket: options.aws?.bucket,
    },
  };
}

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

/**
 * The real thing end to end: Temporal dev server, Managed simulator, secret store, installer cache.
 * Every test file shares the one Temporal server, and workflow ids derive from customers and hosts:
 * each file uses customer ids of its own, or runs find another file's completed workflows.
 */
export async function startTestbed(
  options: {
    knobs?: SimulatorKnobsInput;
    clusterToken?: SecretSource;
    webhook?: ActivityDeps['webhook'];
    executors?: Partial<Executors>;
    aws?: TestAws;
    secretKey?: Buffer;
  } = {},
): Promise<Testbed> {
  const env = await connectToTestServer();
  const dt = await startTestCluster(options.knobs ? { knobs: options.knobs } : {});
  const dir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-testbed-'));
  const deps = testActivityDeps({
    dt,
    dir,
    ...(options.clusterToken ? { clusterToken: options.clusterToken } : {}),
    ...(options.webhook ? { webhook: options.webhook } : {}),
    ...(options.executors ? { executors: options.executors } : {}),
    ...(options.aws ? { aws: options.aws } : {}),
    ...(options.secretKey ? { secretKey: options.secretKey } : {}),
  });
  const taskQueue = uniqueTaskQueue('testbed');
  let previous: Worker | undefined;
  return {
    env,
    dt,
    deps,
    taskQueue,
    dir,
    async worker(overrides = {}) {
      // A test that timed out leaves its worker polling; one failure must not fail every later test.
      if (previous) await stopWorker(previous);
      previous = await createTestWorker(env, { taskQueue, activities: createActivities({ ...deps, ...overrides }) });
      return previous;
    },
    async teardown() {
      if (previous) await stopWorker(previous);
      await dt.stop();
      await env.teardown();
    },
  };
}

async function stopWorker(worker: Worker): Promise<void> {
  if (worker.getState() === 'RUNNING') worker.shutdown();
  const deadline = Date.now() + 30_000;
  while (!['STOPPED', 'FAILED', 'INITIALIZED'].includes(worker.getState()) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
}
