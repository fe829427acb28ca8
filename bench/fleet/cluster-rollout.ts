import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startProductionCluster } from '../../sandbox/cluster/production-cluster.js';
import type { SimulatorKnobsInput } from '../../sandbox/dynatrace/index.js';
import { startFleet } from '../../src/client/start-fleet.js';
import { projectRoot } from '../../src/config/config.js';
import { openFleetDatabase } from '../../src/database/open-fleet-database.js';
import { DatabaseInventoryStore } from '../../src/inventory/database-inventory-store.js';
import type { FleetHost } from '../../src/shared/fleet.js';
import { fleetProgressQuery } from '../../src/workflows/shared/fleet-signals.js';
import { fleetTaskQueue } from '../../src/shared/task-queues.js';
import { ProcessUsageSampler } from '../harness/process-usage.js';
import type { FleetRolloutResult } from './fleet-rollout.js';
import { countsSince } from './simulator-counts.js';

export interface ClusterRolloutOptions {
  dir: string;
  hosts: FleetHost[];
  workers: number;
  installMs: number;
  concurrency: { global: number; perEnvironment: number };
  simulatorKnobs: SimulatorKnobsInput;
  log?: (line: string) => void;
}

/** The dev-server run's figures; per role here: each worker, the Temporal server, PostgreSQL (all its processes), this process. */
export interface ClusterRolloutResult extends Pick<
  FleetRolloutResult,
  'report' | 'wallSeconds' | 'hostsPerSecond' | 'counts' | 'peakMemoryBytes' | 'cpuSeconds' | 'histories' | 'timeline'
> {
  workers: number;
}

/**
 * The roll-out of `npm run bench` on the production topology (`npm run cluster`): the Temporal server
 * on PostgreSQL instead of the dev server's SQLite, and N production-build workers sharing the load,
 * with the same simulator settings, hosts and limits.
 */
export async function runClusterRollout(options: ClusterRolloutOptions): Promise<ClusterRolloutResult> {
  const log = options.log ?? (() => undefined);
  const cluster = await startProductionCluster({
    projectRoot,
    dir: options.dir,
    workers: options.workers,
    ui: false,
    simulatorKnobs: options.simulatorKnobs,
    // The dev-server run's worker settings (bench/harness/worker-process.ts), without its heap cap.
    workerEnv: {
      AUTOPILOT_LOG_LEVEL: 'WARN',
      AUTOPILOT_LOCAL_INSTALL_MS: String(options.installMs),
      AUTOPILOT_MAX_CONCURRENT_ACTIVITIES: '400',
      DT_MAX_CONCURRENT_REQUESTS_PER_ENVIRONMENT: '5',
      AUTOPILOT_REPORTING_POLL_MS: '2000',
      AUTOPILOT_HOST_LOOKUP_BATCH_MS: '1000',
    },
    log,
  });
  try {
    // Where `autopilot enroll-fleet` puts it on a deployment with PostgreSQL.
    const database = await openFleetDatabase({ url: cluster.databaseUrl, embeddedDir: options.dir });
    const inventory = await new DatabaseInventoryStore(database.db).put(options.hosts);
    await database.close();

    const postmaster = Number(
      readFileSync(path.join(options.dir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0],
    );
    const usage = new ProcessUsageSampler(() => ({
      ...Object.fromEntries(cluster.workers.map((w) => [w.name, w.current().pid])),
      server: cluster.temporal.process().pid,
      ...Object.fromEntries(childrenOf(postmaster).map((pid) => [`postgres:${pid}`, pid])),
      [`postgres:${postmaster}`]: postmaster,
      harness: process.pid,
    }));
    const since = countsSince(cluster.simulator);
    const started = Date.now();
    const handle = await startFleet(cluster.client, inventory, {
      taskQueue: cluster.taskQueue,
      executor: 'local',
      concurrency: options.concurrency,
      pageSize: 500,
      historyLimit: 8_000,
    });
    const latest = cluster.client.workflow.getHandle(handle.workflowId);
    const timeline: { t: number; done: number }[] = [];
    let finished = false;
    const sampling = (async () => {
      let lastLogged = 0;
      while (!finished) {
        const p = await latest.query(fleetProgressQuery).catch(() => undefined);
        if (p) {
          const t = (Date.now() - started) / 1000;
          timeline.push({ t, done: p.done + p.failed });
          if (t - lastLogged >= 30) {
            lastLogged = t;
            log(`  ${t.toFixed(0)} s: ${p.done + p.failed}/${p.total} hosts`);
          }
        }
        await sleep(2_000);
      }
    })();
    const report = await handle.result();
    const wallSeconds = (Date.now() - started) / 1000;
    finished = true;
    await sampling;
    timeline.push({ t: wallSeconds, done: report.done + report.failed });
    const counts = since();
    const { peakMemoryBytes, cpuSeconds } = usage.stop();

    const byType = new Map<string, number[]>();
    for await (const run of cluster.client.workflow.list({
      query: `TaskQueue IN ("${cluster.taskQueue}", "${fleetTaskQueue(cluster.taskQueue)}")`,
    })) {
      const list = byType.get(run.type) ?? [];
      list.push(run.historyLength);
      byType.set(run.type, list);
    }
    return {
      workers: options.workers,
      report,
      wallSeconds,
      hostsPerSecond: options.hosts.length / wallSeconds,
      counts,
      peakMemoryBytes: byRole(peakMemoryBytes, Math.max),
      cpuSeconds: byRole(cpuSeconds, (a, b) => a + b),
      histories: [...byType].map(([type, lengths]) => ({
        type,
        count: lengths.length,
        averageEvents: Math.round(lengths.reduce((a, b) => a + b, 0) / lengths.length),
        maxEvents: Math.max(...lengths),
      })),
      timeline,
    };
  } finally {
    await cluster.stop();
  }
}

/** PostgreSQL is a process per connection: its figures are the postmaster's and its backends' together. */
function byRole(values: Record<string, number>, combine: (a: number, b: number) => number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [role, value] of Object.entries(values)) {
    const name = role.startsWith('postgres:') ? 'postgres' : role;
    out[name] = name in out ? combine(out[name]!, value) : value;
  }
  return out;
}

function childrenOf(parent: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent) children.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return children;
}
