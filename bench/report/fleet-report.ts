import type { FleetBenchmarkResult } from '../fleet/fleet-benchmark.js';
import { barChart, lineChart } from './svg-chart.js';

const MiB = 1024 * 1024;
const n = (v: number, digits = 1) => v.toFixed(digits);
const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');

/** The roll-out's own API calls: the status page's scans, which run whatever rolls out, apart. */
// Results stored before the split have no scan count: all their calls count as the roll-out's.
const rollOutCallsOf = (r: FleetBenchmarkResult) => r.ours.counts.apiRequests - (r.ours.counts.scanRequests ?? 0);

/** The targets of the fleet benchmark, each with the figure measured and whether it is met. */
export function fleetTargets(r: FleetBenchmarkResult) {
  const E = r.settings.environments;
  const workerMiB = (r.ours.peakMemoryBytes.worker ?? 0) / MiB;
  return [
    {
      target: 'one token per environment and purpose',
      measured: `${r.ours.counts.apiTokens} tokens for ${E} environments (2 purposes)`,
      ok: r.ours.counts.apiTokens <= 2 * E,
    },
    {
      target: 'one installer download per environment and version',
      measured: `${r.ours.counts.installerDownloads} downloads for ${E} environments`,
      ok: r.ours.counts.installerDownloads <= E,
    },
    {
      target: '≤ 1.5 Dynatrace API calls per host for the roll-out',
      measured:
        `${n(r.perHost.apiCalls, 2)} per host; with the status page's scans that run whatever rolls out ` +
        `(${r.ours.counts.scanRequests ?? 0} calls), ${n(r.perHost.allApiCalls ?? r.perHost.apiCalls, 2)}`,
      ok: r.perHost.apiCalls <= 1.5,
    },
    {
      target: 'wall time within 1.05× of the lower bound',
      measured: `${n(r.ours.wallSeconds)} s vs ${n(r.lowerBound.seconds)} s = ${n(r.ratios.oursToBound, 2)}×`,
      ok: r.ratios.oursToBound <= 1.05,
    },
    ...(r.baseline
      ? [
          {
            target: 'wall time at most the naive script’s',
            measured: `${n(r.ours.wallSeconds)} s vs ${n(r.baseline.wallSeconds)} s = ${n(r.ratios.oursToBaseline?.time ?? 0, 2)}×`,
            ok: r.ours.wallSeconds <= r.baseline.wallSeconds,
          },
        ]
      : []),
    { target: 'worker memory under 1 GiB', measured: `${n(workerMiB, 0)} MiB peak RSS`, ok: workerMiB < 1024 },
    {
      target: 'every host enrolled, no workflow failed',
      measured: `${r.ours.report.done}/${r.settings.hosts} done, ${r.ours.failedWorkflows.length} failed workflows`,
      ok: r.ours.report.done === r.settings.hosts && r.ours.failedWorkflows.length === 0,
    },
  ];
}

/** Where our requests went, route by route (runs stored before the split have none). */
function requestsByRoute(r: FleetBenchmarkResult): string[] {
  const byRoute = r.ours.counts.byRoute as Record<string, number> | undefined;
  if (!byRoute) return [];
  const routes = Object.entries(byRoute).sort((a, b) => b[1] - a[1]);
  return [
    "Requests to the simulated cluster by route (the status page's scans included; OneAgent connects are the agents', not API calls): " +
      routes.map(([route, count]) => `${route} ${count}`).join('; ') +
      '.',
    '',
  ];
}

/** Where the CPU went during our run, and whether CPU or waiting set the pace. */
function cpuProfile(r: FleetBenchmarkResult): string[] {
  const cpu = r.ours.cpuSeconds;
  if (!cpu || !r.ours.cores) return [];
  const wall = r.ours.wallSeconds;
  const share = (seconds = 0) => `${n(seconds)} s (${n((100 * seconds) / wall, 0)} % of a core)`;
  const busy = (100 * Object.values(cpu).reduce((a, b) => a + b, 0)) / (wall * r.ours.cores);
  return [
    '',
    `CPU during our run: worker ${share(cpu.worker)}, Temporal server ${share(cpu.server)}, ` +
      `simulator and harness ${share(cpu.simulator)}; together ${n(busy, 0)} % of the machine's ${r.ours.cores} cores` +
      (busy >= 85
        ? ' — the run was CPU-bound.'
        : ' — on average the CPUs were not the limit: waiting (API latency, task hand-offs, bursts of work) set the pace.'),
  ];
}

export function fleetCharts(r: FleetBenchmarkResult): Record<string, string> {
  const charts: Record<string, string> = {
    'fleet-progress.svg': lineChart({
      title: `Hosts enrolled over time (${r.settings.hosts} hosts, ${r.settings.environments} environments)`,
      xLabel: 'seconds',
      yLabel: 'hosts done',
      series: [
        {
          name: 'Autopilot (EnrollFleet)',
          color: '#1f77b4',
          points: r.ours.timeline.map((p) => ({ x: p.t, y: p.done })),
        },
        ...(r.baseline
          ? [
              {
                name: 'naive per-host script',
                color: '#d62728',
                points: r.baseline.timeline.map((p) => ({ x: p.t, y: p.done })),
              },
            ]
          : []),
        {
          name: 'lower bound',
          color: '#2ca02c',
          points: [
            { x: 0, y: 0 },
            { x: r.lowerBound.seconds, y: r.settings.hosts },
          ],
        },
      ],
    }),
  };
  if (r.baseline) {
    charts['fleet-costs.svg'] = barChart({
      title: 'What the roll-out cost the cluster',
      unit: '',
      bars: [
        { label: 'API calls, Autopilot', value: rollOutCallsOf(r), color: '#1f77b4' },
        { label: 'API calls, naive', value: r.baseline.counts.apiRequests, color: '#d62728' },
        { label: 'tokens, Autopilot', value: r.ours.counts.apiTokens, color: '#1f77b4' },
        { label: 'tokens, naive', value: r.baseline.counts.apiTokens, color: '#d62728' },
        { label: 'downloads, Autopilot', value: r.ours.counts.installerDownloads, color: '#1f77b4' },
        { label: 'downloads, naive', value: r.baseline.counts.installerDownloads, color: '#d62728' },
      ],
    });
  }
  return charts;
}

export function fleetMarkdown(r: FleetBenchmarkResult): string[] {
  const b = r.baseline;
  const rollOutCalls = rollOutCallsOf(r);
  const row = (label: string, ours: string, naive: string, ratio: string) =>
    `| ${label} | ${ours} | ${naive} | ${ratio} |`;
  const ratio = (a: number, z: number | undefined) => (z ? `${n(a / z, 2)}×` : '—');
  const lines = [
    `## Fleet roll-out: ${r.settings.hosts} hosts, ${r.settings.environments} environments`,
    '',
    `Install time ${r.settings.installMs / 1000} s per host (local executor), ${r.settings.concurrency.global} hosts at a time, ` +
      `at most ${r.settings.concurrency.perEnvironment} per environment; simulator latency ${r.settings.apiLatencyMs} ms ` +
      `± ${r.settings.apiLatencyMs / 2} ms, 5 concurrent requests per environment before it queues and answers 429.`,
    ...(r.settings.baselineAlongside && b
      ? [
          '',
          'The naive script ran at the same time as Autopilot, against a simulator of its own with the same knobs: both shared this machine’s cores.',
        ]
      : []),
    '',
    '| | Autopilot | naive script | Autopilot / naive |',
    '| --- | ---: | ---: | ---: |',
    row(
      'wall time',
      `${n(r.ours.wallSeconds)} s`,
      b ? `${n(b.wallSeconds)} s` : '—',
      ratio(r.ours.wallSeconds, b?.wallSeconds),
    ),
    row('hosts per second', n(r.ours.hostsPerSecond, 2), b ? n(b.hostsPerSecond, 2) : '—', '—'),
    row(
      'Dynatrace API calls of the roll-out',
      String(rollOutCalls),
      b ? String(b.counts.apiRequests) : '—',
      ratio(rollOutCalls, b?.counts.apiRequests),
    ),
    row('API calls per host', n(r.perHost.apiCalls, 2), b ? n(r.perHost.baselineApiCalls ?? 0, 2) : '—', '—'),
    row('status page scans meanwhile (API calls)', String(r.ours.counts.scanRequests ?? 0), '—', '—'),
    row('429 answers', String(r.ours.counts.throttled), b ? String(b.counts.throttled) : '—', '—'),
    row(
      'tokens minted',
      String(r.ours.counts.apiTokens),
      b ? String(b.counts.apiTokens) : '—',
      ratio(r.ours.counts.apiTokens, b?.counts.apiTokens),
    ),
    row(
      'installer downloads',
      String(r.ours.counts.installerDownloads),
      b ? String(b.counts.installerDownloads) : '—',
      ratio(r.ours.counts.installerDownloads, b?.counts.installerDownloads),
    ),
    row('environments created', String(r.ours.counts.environments), b ? String(b.counts.environments) : '—', '—'),
    row('hosts enrolled', String(r.ours.report.done), b ? String(b.done) : '—', '—'),
    row('worker peak memory', `${n((r.ours.peakMemoryBytes.worker ?? 0) / MiB, 0)} MiB`, '—', '—'),
    row('Temporal server peak memory', `${n((r.ours.peakMemoryBytes.server ?? 0) / MiB, 0)} MiB`, '—', '—'),
    '',
    `Lower bound: ${n(r.lowerBound.seconds)} s (${r.lowerBound.limitedBy}: ${r.lowerBound.explanation}). Autopilot took ${n(r.ratios.oursToBound, 2)}× that.`,
    '',
    ...requestsByRoute(r),
    'History events per workflow: ' +
      r.ours.histories
        .map((h) => `${h.type} ${h.averageEvents} on average (max ${h.maxEvents}, ${h.count} runs)`)
        .join('; ') +
      '.',
    ...(r.ours.hostHistory?.sampled
      ? [
          '',
          `One HostEnrollment (${r.ours.hostHistory.sampled} sampled): ${r.ours.hostHistory.events} history events, ` +
            `${r.ours.hostHistory.workflowTasks} workflow tasks, ${r.ours.hostHistory.activities} activities, ` +
            `${r.ours.hostHistory.timers} timers.`,
        ]
      : []),
    ...memoryGrowth(r),
    ...cpuProfile(r),
    '',
    '![hosts over time](fleet-progress.svg)',
    ...(b ? ['', '![costs](fleet-costs.svg)'] : []),
    '',
    '| Target | Measured | |',
    '| --- | --- | --- |',
    ...fleetTargets(r).map((t) => `| ${t.target} | ${t.measured} | ${verdict(t.ok)} |`),
  ];
  return lines;
}

/** Worker RSS when a quarter, half, three quarters and all of the hosts were done: how memory grows with the fleet. */
function memoryGrowth(r: FleetBenchmarkResult): string[] {
  const samples = r.ours.workerMemory ?? [];
  if (samples.length === 0) return [];
  const total = r.ours.report.total;
  const points = [0.25, 0.5, 0.75, 1].map((share) => {
    const done = Math.round(total * share);
    const at = samples.find((s) => s.done >= done) ?? samples.at(-1)!;
    return `${done.toLocaleString('en-US')} done: ${n(at.rssBytes / MiB, 0)} MiB`;
  });
  return ['', `Worker RSS as the roll-out went on: ${points.join(', ')}.`];
}
