import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { projectRoot } from '../../src/config/config.js';
import { environmentWithoutSettings } from '../../sandbox/process-env.js';
import proto from '@temporalio/proto';
import { NAMESPACE, type BenchStack } from './bench-stack.js';

export interface WorkerSettings {
  taskQueue: string;
  /**
   * `build`: the production build (dist/, `npm run build` first), as the image runs it, with its
   * prebuilt workflow bundle; `source` (default): src/ through tsx, which bundles the workflows at
   * every start, costing a restarted worker seconds of CPU a deployed one does not spend.
   */
  entry?: 'source' | 'build';
  /** Simulated installer run time per host (local executor). */
  installMs: number;
  maxConcurrentActivities?: number;
  /** Dynatrace calls in flight per environment from this worker. */
  perEnvironmentRequests?: number;
  reportingPollMs?: number;
  lookupBatchMs?: number;
}

export interface WorkerProcess {
  pid: number;
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** Folders the worker keeps between restarts: secrets, installer cache, inventories, the "hosts". */
export function workerDirs(stack: BenchStack) {
  return {
    secrets: path.join(stack.dir, 'secrets'),
    installers: path.join(stack.dir, 'installers'),
    inventories: path.join(stack.dir, 'inventories'),
    hosts: path.join(stack.dir, 'hosts'),
    logs: path.join(stack.dir, 'logs'),
  };
}

/**
 * The production worker entry point (src/workers/main.ts) configured like a deployment against the
 * simulator: the same process an operator runs, so SIGKILL and memory mean what they say.
 */
export async function startWorkerProcess(
  stack: BenchStack,
  settings: WorkerSettings,
  secretKey: string,
  index = 0,
): Promise<WorkerProcess> {
  const dirs = workerDirs(stack);
  mkdirSync(dirs.logs, { recursive: true });
  const env = environmentWithoutSettings();
  Object.assign(env, {
    TEMPORAL_ADDRESS: stack.address,
    TEMPORAL_NAMESPACE: 'default',
    AUTOPILOT_TASK_QUEUE: settings.taskQueue,
    AUTOPILOT_CODEC_KEYS: stack.codecKeysText,
    AUTOPILOT_LOG_LEVEL: 'WARN',
    AUTOPILOT_METRICS_ADDRESS: 'off',
    DT_CLUSTER_URL: stack.simulator.url,
    DT_CA_CERT_FILE: stack.simulator.caFile,
    DT_CLUSTER_TOKEN: stack.clusterToken,
    DT_INSTALLER_CA_FILE: stack.simulator.installerCaFile,
    AUTOPILOT_SECRET_KEY: secretKey,
    AUTOPILOT_SECRETS_DIR: dirs.secrets,
    AUTOPILOT_INSTALLER_CACHE_DIR: dirs.installers,
    AUTOPILOT_INVENTORY_DIR: dirs.inventories,
    // One worker runs at a time (a restart follows the kill), so each in turn owns the one database.
    AUTOPILOT_EMBEDDED_DATABASE_DIR: path.join(stack.dir, 'fleet-db'),
    AUTOPILOT_HOST_EXECUTOR: 'local',
    AUTOPILOT_LOCAL_HOSTS_DIR: dirs.hosts,
    AUTOPILOT_LOCAL_INSTALL_MS: String(settings.installMs),
    DT_MAX_CONCURRENT_REQUESTS_PER_ENVIRONMENT: String(settings.perEnvironmentRequests ?? 5),
    // As the image sets it (Dockerfile): two malloc arenas, not up to eight per core.
    MALLOC_ARENA_MAX: '2',
    // Otherwise the worker's production defaults, heap size included: memory means what it says.
    ...(settings.maxConcurrentActivities
      ? { AUTOPILOT_MAX_CONCURRENT_ACTIVITIES: String(settings.maxConcurrentActivities) }
      : {}),
    ...(settings.reportingPollMs ? { AUTOPILOT_REPORTING_POLL_MS: String(settings.reportingPollMs) } : {}),
    ...(settings.lookupBatchMs ? { AUTOPILOT_HOST_LOOKUP_BATCH_MS: String(settings.lookupBatchMs) } : {}),
  });
  const args = settings.entry === 'build' ? ['dist/workers/main.js'] : ['--import', 'tsx', 'src/workers/main.ts'];
  const child = spawn(process.execPath, args, {
    cwd: projectRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(path.join(dirs.logs, `worker-${index}.log`));
  let output = '';
  const collect = (chunk: Buffer) => {
    log.write(chunk);
    if (output.length < 64_000) output += chunk.toString();
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      log.end();
      resolve({ code, signal });
    }),
  );
  let gone = false;
  void exited.then(() => (gone = true));
  // Logs are at WARN (12,000 hosts at INFO cost real CPU), so readiness is the server seeing it poll.
  const deadline = Date.now() + 120_000;
  while (!(await polling(stack, settings.taskQueue, child.pid!))) {
    if (gone) throw new Error(`the worker exited before it started:\n${output.slice(-3000)}`);
    if (Date.now() > deadline) throw new Error(`the worker did not start within 120 s:\n${output.slice(-3000)}`);
    await sleep(250);
  }
  return {
    pid: child.pid!,
    child,
    exited,
    async kill(signal) {
      if (!gone) child.kill(signal);
      await exited;
    },
  };
}

async function polling(stack: BenchStack, taskQueue: string, pid: number): Promise<boolean> {
  try {
    const { pollers } = await stack.connection.workflowService.describeTaskQueue({
      namespace: NAMESPACE,
      taskQueue: { name: taskQueue },
      taskQueueType: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    return (pollers ?? []).some((p) => p.identity?.startsWith(`${pid}@`));
  } catch {
    return false;
  }
}
