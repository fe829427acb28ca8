import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeConnection } from '@temporalio/worker';
import { bundleWorkflowCode, Worker, type WorkerOptions } from '@temporalio/worker';
import { autopilotDataConverter } from '../codec/data-converter.js';
import type { CodecKeyring } from '../codec/codec-keyring.js';
import type { AutopilotConfig } from '../config/config.js';
import { createActivities, type ActivityDeps } from '../activities/index.js';
import { keepAliveInterceptors } from '../activities/keep-alive.js';
import { HEARTBEAT_SENT_AT_MOST_EVERY } from '../shared/heartbeats.js';
import { fleetTaskQueue } from '../shared/task-queues.js';
import { workflowBundleOptions } from './workflow-bundle.js';

const here = fileURLToPath(import.meta.url);
const prebuiltBundle = path.join(path.dirname(here), '..', 'workflow-bundle.js');

export interface AutopilotWorkerOptions {
  config: AutopilotConfig;
  connection: NativeConnection;
  activityDeps: ActivityDeps;
  /** Payload keys shared with every client; the bundle must be built with `failureConverterPath`. */
  codecKeys: CodecKeyring;
  /** A bundle produced by `bundleWorkflowCode`; tests pass one so that only one bundle is built per run. */
  workflowBundlePath?: string;
  /** Or its code, built in this process. */
  workflowBundleCode?: string;
  taskQueue?: string;
  overrides?: Partial<WorkerOptions>;
  /** Sandbox only (AUTOPILOT_ACCEPT_UNSEALED_PAYLOADS): plain payloads steer the workflows too. */
  acceptUnsealedPayloads?: boolean;
}

export async function createAutopilotWorker(options: AutopilotWorkerOptions): Promise<Worker> {
  const { config, connection } = options;
  const bundlePath = options.workflowBundlePath ?? (existsSync(prebuiltBundle) ? prebuiltBundle : undefined);
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: options.taskQueue ?? config.temporal.taskQueue,
    ...(options.workflowBundleCode
      ? { workflowBundle: { code: options.workflowBundleCode } }
      : bundlePath
        ? { workflowBundle: { codePath: bundlePath } }
        : {
            workflowsPath: workflowBundleOptions.workflowsPath,
            bundlerOptions: { preloadModules: workflowBundleOptions.preloadModules },
          }),
    activities: createActivities(options.activityDeps),
    interceptors: {
      activity: [keepAliveInterceptors],
      // Built into a prebuilt bundle already; needed when the worker bundles the sources itself.
      ...(options.workflowBundleCode || bundlePath
        ? {}
        : { workflowModules: workflowBundleOptions.workflowInterceptorModules }),
    },
    maxHeartbeatThrottleInterval: HEARTBEAT_SENT_AT_MOST_EVERY,
    dataConverter: autopilotDataConverter(options.codecKeys, options.acceptUnsealedPayloads ? 'accept' : 'mark'),
    maxConcurrentActivityTaskExecutions: config.worker.maxConcurrentActivities,
    maxConcurrentWorkflowTaskExecutions: config.worker.maxConcurrentWorkflowTasks,
    maxCachedWorkflows: config.worker.maxCachedWorkflows,
    // A fleet starts hundreds of workflows at once: a fixed ten pollers left their first tasks
    // waiting in the backlog for seconds while the worker idled. The server's hints scale them.
    workflowTaskPollerBehavior: {
      type: 'autoscaling',
      minimum: 2,
      initial: 10,
      maximum: Math.max(2, Math.floor(config.worker.maxConcurrentWorkflowTasks / 2)),
    },
    activityTaskPollerBehavior: {
      type: 'autoscaling',
      minimum: 2,
      initial: 10,
      maximum: Math.max(2, Math.min(100, Math.floor(config.worker.maxConcurrentActivities / 2))),
    },
    // Activities get this long to notice cancellation and finish cleanly on SIGINT/SIGTERM.
    shutdownGraceTime: '10 seconds',
    shutdownForceTime: '30 seconds',
    ...options.overrides,
  });
}

/** The workers of one process: the hosts' and every other workflow's, and the fleet coordinators'. */
export interface AutopilotWorkers {
  /** Runs both until shutdown; if one fails, the other is shut down too and the failure rethrown. */
  run(): Promise<void>;
}

/**
 * A coordinator handles a few tasks at a time, each carrying many hosts' news: a handful of slots,
 * its own sticky cache and pollers, and the activities it schedules (inventory pages, starts,
 * onboarding checks) run next to it.
 */
const FLEET_WORKER: Partial<WorkerOptions> = {
  maxConcurrentWorkflowTaskExecutions: 4,
  maxCachedWorkflows: 50,
  maxConcurrentActivityTaskExecutions: 20,
  workflowTaskPollerBehavior: { type: 'simple-maximum', maximum: 2 },
  activityTaskPollerBehavior: { type: 'simple-maximum', maximum: 2 },
};

export async function createAutopilotWorkers(options: AutopilotWorkerOptions): Promise<AutopilotWorkers> {
  const taskQueue = options.taskQueue ?? options.config.temporal.taskQueue;
  // Bundled once for both when no prebuilt bundle is at hand (sandbox under tsx).
  const bundlePath = options.workflowBundlePath ?? (existsSync(prebuiltBundle) ? prebuiltBundle : undefined);
  const bundle = bundlePath
    ? { workflowBundlePath: bundlePath }
    : { workflowBundleCode: (await bundleWorkflowCode(workflowBundleOptions)).code };
  const main = await createAutopilotWorker({ ...options, ...bundle, taskQueue });
  const fleets = await createAutopilotWorker({
    ...options,
    ...bundle,
    taskQueue: fleetTaskQueue(taskQueue),
    overrides: FLEET_WORKER,
  });
  const shutdown = () => {
    for (const w of [main, fleets]) if (w.getState() === 'RUNNING') w.shutdown();
  };
  return {
    async run() {
      const stopOthersOnFailure = async (run: Promise<void>) => {
        try {
          await run;
        } catch (err) {
          shutdown();
          throw err;
        }
      };
      await Promise.all([main.run(), fleets.run()].map(stopOthersOnFailure));
    },
  };
}
