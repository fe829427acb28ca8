import type { ClusterRolloutResult } from '../fleet/cluster-rollout.js';
import type { FleetBenchmarkResult } from '../fleet/fleet-benchmark.js';

const MiB = 1024 * 1024;
const n = (v: number, digits = 1) => v.toFixed(digits);

/** What set the pace of a run, from where its CPU went. */
export function whatBinds(cpuSeconds: Record<string, number>, wallSeconds: number, cores: number): string {
  const total = Object.values(cpuSeconds).reduce((a, b) => a + b, 0);
  const busy = total / (wallSeconds * cores);
  const [top, seconds] = Object.entries(cpuSeconds).sort((a, b) => b[1] - a[1])[0] ?? ['nothing', 0];
  const topShare = seconds / wallSeconds;
  if (busy >= 0.85) return `CPU: the machine's ${cores} cores were ${n(100 * busy, 0)} % busy, most of it ${top}`;
  if (topShare >= 0.9)
    return `one core: ${top} used ${n(100 * topShare, 0)} % of one core, the most a single-threaded process can`;
  return `waiting, not CPU: the cores were ${n(100 * busy, 0)} % busy (${top} the busiest at ${n(100 * topShare, 0)} % of a core)`;
}

/** The same roll-out on the dev server and on the production topology, side by side. */
export function clusterMarkdown(fleet: FleetBenchmarkResult, cluster: ClusterRolloutResult, cores: number): string[] {
  const dev = fleet.ours;
  const bound = fleet.lowerBound.seconds;
  const workerRoles = Object.keys(cluster.cpuSeconds).filter((r) => r.startsWith('worker-'));
  const workerCpu = workerRoles.reduce((a, r) => a + (cluster.cpuSeconds[r] ?? 0), 0);
  const workerPeak = Math.max(0, ...workerRoles.map((r) => cluster.peakMemoryBytes[r] ?? 0));
  const row = (label: string, a: string, b: string) => `| ${label} | ${a} | ${b} |`;
  const histories = (h: { type: string; averageEvents: number }[]) =>
    h.map((x) => `${x.type} ${x.averageEvents}`).join(', ');
  return [
    `## The same roll-out on the production topology (\`npm run bench -- --cluster\`)`,
    '',
    `${fleet.settings.hosts} hosts, ${fleet.settings.environments} environments, the same simulator settings and limits; ` +
      `left: one worker against the Temporal CLI's dev server (SQLite), right: ${cluster.workers} production-build ` +
      'workers against the Temporal server 1.29.1 built from its Go module on PostgreSQL (`npm run cluster`), ' +
      'sharing only the fleet database, the installer bucket (moto) and the SSM secret store, all on this one machine.',
    '',
    `| | dev server, 1 worker | Temporal on PostgreSQL, ${cluster.workers} workers |`,
    '| --- | ---: | ---: |',
    row('wall time', `${n(dev.wallSeconds)} s`, `${n(cluster.wallSeconds)} s`),
    row('÷ lower bound', `${n(dev.wallSeconds / bound, 2)}×`, `${n(cluster.wallSeconds / bound, 2)}×`),
    row('hosts enrolled', String(dev.report.done), String(cluster.report.done)),
    row(
      'Dynatrace API calls per host',
      n(dev.counts.apiRequests / fleet.settings.hosts, 2),
      n(cluster.counts.apiRequests / fleet.settings.hosts, 2),
    ),
    row('tokens minted', String(dev.counts.apiTokens), String(cluster.counts.apiTokens)),
    row('installer downloads', String(dev.counts.installerDownloads), String(cluster.counts.installerDownloads)),
    row('CPU s, workers', n(dev.cpuSeconds.worker ?? 0), `${n(workerCpu)} (${workerRoles.length} processes)`),
    row('CPU s, Temporal server', n(dev.cpuSeconds.server ?? 0), n(cluster.cpuSeconds.server ?? 0)),
    row('CPU s, PostgreSQL', '— (SQLite inside the server)', n(cluster.cpuSeconds.postgres ?? 0)),
    row('CPU s, simulator and harness', n(dev.cpuSeconds.simulator ?? 0), n(cluster.cpuSeconds.harness ?? 0)),
    row('peak RSS per worker', `${n((dev.peakMemoryBytes.worker ?? 0) / MiB, 0)} MiB`, `${n(workerPeak / MiB, 0)} MiB`),
    row(
      'peak RSS, Temporal server',
      `${n((dev.peakMemoryBytes.server ?? 0) / MiB, 0)} MiB`,
      `${n((cluster.peakMemoryBytes.server ?? 0) / MiB, 0)} MiB`,
    ),
    row('history events (average)', histories(dev.histories), histories(cluster.histories)),
    '',
    `What binds — dev server: ${whatBinds(dev.cpuSeconds, dev.wallSeconds, cores)}; ` +
      `production topology: ${whatBinds(cluster.cpuSeconds, cluster.wallSeconds, cores)}.`,
  ];
}
