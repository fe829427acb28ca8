import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import proto from '@temporalio/proto';
import { startFleet } from '../../src/client/start-fleet.js';
import { HOST_ENROLLMENT } from '../../src/shared/enrollment.js';
import { FLEET_SCAN } from '../../src/shared/fleet-scan.js';
import { FLEET_MAINTENANCE } from '../../src/shared/maintenance.js';
import { STANDARDS_DRIFT } from '../../src/shared/standards.js';
import { FolderInventoryStore } from '../../src/inventory/folder-inventory-store.js';
import type { FleetHost, FleetReport } from '../../src/shared/fleet.js';
import { fleetProgressQuery } from '../../src/workflows/shared/fleet-signals.js';
import { fleetTaskQueue } from '../../src/shared/task-queues.js';
import type { BenchStack } from '../harness/bench-stack.js';
import { processMemory, ProcessUsageSampler } from '../harness/process-usage.js';
import { startWorkerProcess, workerDirs, type WorkerProcess, type WorkerSettings } from '../harness/worker-process.js';
import { countsSince, type SimulatorCounts } from './simulator-counts.js';

/** What the worker's schedules start, whatever rolls out. */
const SCHEDULED = new Set([FLEET_SCAN, FLEET_MAINTENANCE, STANDARDS_DRIFT]);

export interface FleetRolloutOptions {
  hosts: FleetHost[];
  concurrency: { global: number; perEnvironment: number };
  worker: Omit<WorkerSettings, 'taskQueue'>;
  /** Called with the worker while the fleet runs (the chaos run kills and restarts things here). */
  during?: (control: RolloutControl) => Promise<void>;
  log?: (line: string) => void;
}

export interface RolloutControl {
  stack: BenchStack;
  taskQueue: string;
  worker(): WorkerProcess;
  /** SIGKILLs the worker and starts a new one; resolves when the new one polls. */
  killWorker(): Promise<void>;
  progress(): Promise<{ done: number; total: number } | undefined>;
}

export interface WorkflowHistoryStats {
  type: string;
  count: number;
  averageEvents: number;
  maxEvents: number;
}

/** What one HostEnrollment costs the server, from a sample of their histories. */
export interface HostHistoryCost {
  sampled: number;
  events: number;
  workflowTasks: number;
  activities: number;
  timers: number;
}

export interface FleetRolloutResult {
  /** The hosts' queue (the fleet ran on its `-fleets` companion). */
  taskQueue: string;
  report: FleetReport;
  wallSeconds: number;
  hostsPerSecond: number;
  counts: SimulatorCounts;
  peakMemoryBytes: Record<string, number>;
  /** CPU seconds used during the run by the worker, the Temporal server and this process (simulator + harness). */
  cpuSeconds: Record<string, number>;
  cores: number;
  histories: WorkflowHistoryStats[];
  hostHistory: HostHistoryCost;
  failedWorkflows: { workflowId: string; type: string }[];
  timeline: { t: number; done: number }[];
  /** The worker's resident memory as the roll-out went on (sampled with the progress), to show how it grows. */
  workerMemory: { done: number; rssBytes: number }[];
  workerRestarts: number;
}

/** Our way: one EnrollFleet over the inventory, run by the production worker process. */
export async function runFleetRollout(stack: BenchStack, options: FleetRolloutOptions): Promise<FleetRolloutResult> {
  const log = options.log ?? (() => undefined);
  const taskQueue = `bench-${randomBytes(4).toString('hex')}`;
  const secretKey = randomBytes(32).toString('base64');
  const settings = { ...options.worker, taskQueue };
  // The worker runs on the embedded database, so it reads inventories from the folder, as in the sandbox.
  const inventory = await new FolderInventoryStore(workerDirs(stack).inventories).put(options.hosts);
  let restarts = 0;
  let worker = await startWorkerProcess(stack, settings, secretKey, restarts);
  const usage = new ProcessUsageSampler(() => ({
    worker: worker.pid,
    server: stack.devServer.pid,
    simulator: process.pid,
  }));
  const since = countsSince(stack.simulator);
  const started = Date.now();
  const handle = await startFleet(stack.client, inventory, {
    taskQueue,
    executor: 'local',
    concurrency: options.concurrency,
    pageSize: 500,
    historyLimit: 8_000,
  });
  const latest = stack.client.workflow.getHandle(handle.workflowId);
  const progress = async () => {
    try {
      const p = await latest.query(fleetProgressQuery);
      return { done: p.done + p.failed, total: p.total };
    } catch {
      return undefined;
    }
  };

  const timeline: { t: number; done: number }[] = [];
  const workerMemory: { done: number; rssBytes: number }[] = [];
  let finished = false;
  const sampling = (async () => {
    let lastLogged = 0;
    while (!finished) {
      const p = await progress();
      if (p) {
        const t = (Date.now() - started) / 1000;
        timeline.push({ t, done: p.done });
        const memory = worker.pid === undefined ? undefined : processMemory(worker.pid);
        if (memory) workerMemory.push({ done: p.done, rssBytes: memory.rss });
        if (t - lastLogged >= 30) {
          lastLogged = t;
          const rss = memory ? `, worker RSS ${(memory.rss / 2 ** 20).toFixed(0)} MiB` : '';
          log(`  ${t.toFixed(0)} s: ${p.done}/${p.total} hosts${rss}`);
        }
      }
      await sleep(2_000);
    }
  })();

  const control: RolloutControl = {
    stack,
    taskQueue,
    worker: () => worker,
    async killWorker() {
      await worker.kill('SIGKILL');
      restarts++;
      worker = await startWorkerProcess(stack, settings, secretKey, restarts);
    },
    progress,
  };
  const chaos = options.during?.(control);
  // The client reconnects by itself when the server restarts; a result call cut off by it is retried.
  let report: FleetReport | undefined;
  for (let attempt = 0; !report; attempt++) {
    try {
      report = await handle.result();
    } catch (err) {
      if (attempt >= 30) throw err;
      await sleep(2_000);
    }
  }
  const wallSeconds = (Date.now() - started) / 1000;
  await chaos;
  finished = true;
  await sampling;
  timeline.push({ t: wallSeconds, done: report.done + report.failed });
  const counts = since();
  await worker.kill('SIGTERM');
  const { peakMemoryBytes, cpuSeconds } = usage.stop();

  const byType = new Map<string, number[]>();
  const failedWorkflows: { workflowId: string; type: string }[] = [];
  const sample: string[] = [];
  for await (const run of stack.client.workflow.list({
    query: `TaskQueue IN ("${taskQueue}", "${fleetTaskQueue(taskQueue)}")`,
  })) {
    if (run.type === HOST_ENROLLMENT && sample.length < 100) sample.push(run.workflowId);
    const list = byType.get(run.type) ?? [];
    list.push(run.historyLength);
    byType.set(run.type, list);
    // A scheduled scan or maintenance the schedule started as the worker stopped is still running:
    // not a failure of the roll-out. Any roll-out workflow left running is.
    const scheduledAndRunning = run.status.name === 'RUNNING' && SCHEDULED.has(run.type);
    if (run.status.name !== 'COMPLETED' && run.status.name !== 'CONTINUED_AS_NEW' && !scheduledAndRunning) {
      failedWorkflows.push({ workflowId: run.workflowId, type: run.type });
    }
  }
  const histories = [...byType].map(([type, lengths]) => ({
    type,
    count: lengths.length,
    averageEvents: Math.round(lengths.reduce((a, b) => a + b, 0) / lengths.length),
    maxEvents: Math.max(...lengths),
  }));
  const hostHistory = await hostHistoryCost(stack, sample);
  return {
    taskQueue,
    report,
    wallSeconds,
    hostsPerSecond: options.hosts.length / wallSeconds,
    counts,
    peakMemoryBytes,
    cpuSeconds,
    cores: availableParallelism(),
    histories,
    hostHistory,
    failedWorkflows,
    timeline,
    workerMemory,
    workerRestarts: restarts,
  };
}

/** Events, workflow tasks, activities and timers per HostEnrollment, averaged over a sample. */
async function hostHistoryCost(stack: BenchStack, workflowIds: string[]): Promise<HostHistoryCost> {
  const { EventType } = proto.temporal.api.enums.v1;
  const total = { events: 0, workflowTasks: 0, activities: 0, timers: 0 };
  for (const workflowId of workflowIds) {
    const history = await stack.client.workflow.getHandle(workflowId).fetchHistory();
    for (const event of history.events ?? []) {
      total.events++;
      if (event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) total.workflowTasks++;
      else if (event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) total.activities++;
      else if (event.eventType === EventType.EVENT_TYPE_TIMER_STARTED) total.timers++;
    }
  }
  const per = (x: number) => (workflowIds.length ? Math.round((10 * x) / workflowIds.length) / 10 : 0);
  return {
    sampled: workflowIds.length,
    events: per(total.events),
    workflowTasks: per(total.workflowTasks),
    activities: per(total.activities),
    timers: per(total.timers),
  };
}
