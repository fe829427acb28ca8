import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { projectRoot } from '../src/config/config.js';
import { runFleetBenchmark } from './fleet/fleet-benchmark.js';
import { runClusterRollout } from './fleet/cluster-rollout.js';
import { fleetHosts } from './fleet/fleet-hosts.js';
import { clusterMarkdown } from './report/cluster-report.js';
import { startBenchStack } from './harness/bench-stack.js';
import { runMaintenanceBenchmark } from './maintenance/maintenance-benchmark.js';
import { runFleetViewBenchmark } from './fleet-view/fleet-view-benchmark.js';
import { runStandardsBenchmark } from './standards/standards-benchmark.js';
import { standardsMarkdown } from './report/standards-report.js';
import { fleetViewMarkdown } from './report/fleet-view-report.js';
import { fleetCharts, fleetMarkdown } from './report/fleet-report.js';
import { maintenanceMarkdown } from './report/maintenance-report.js';
import { stormCharts, stormMarkdown } from './report/storm-report.js';
import { runWebhookStorm } from './storm/webhook-storm.js';

/**
 * `npm run bench`: the fleet roll-out (ours, the naive per-host script, the lower bound), the
 * webhook storm and token maintenance of a large registry, on this machine. Results:
 * bench/results/latest.json and report.md with charts.
 */
const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '12000' },
    environments: { type: 'string', default: '500' },
    'install-ms': { type: 'string', default: '40000' },
    concurrency: { type: 'string', default: '200' },
    'per-environment': { type: 'string', default: '10' },
    'latency-ms': { type: 'string', default: '40' },
    notifications: { type: 'string', default: '10000' },
    'storm-rate': { type: 'string', default: '400' },
    'storm-seconds': { type: 'string', default: '60' },
    'no-baseline': { type: 'boolean', default: false },
    'baseline-alongside': { type: 'boolean', default: false },
    'no-fleet': { type: 'boolean', default: false },
    'no-storm': { type: 'boolean', default: false },
    'no-maintenance': { type: 'boolean', default: false },
    'maintenance-environments': { type: 'string', default: '5000' },
    'maintenance-due-percent': { type: 'string', default: '10' },
    'maintenance-latency-ms': { type: 'string', default: '20' },
    'maintenance-capacity': { type: 'string', default: '2' },
    'no-fleet-view': { type: 'boolean', default: false },
    'fleet-view-environments': { type: 'string', default: '5000' },
    'no-standards': { type: 'boolean', default: false },
    'standards-environments': { type: 'string', default: '5000' },
    cluster: { type: 'boolean', default: false },
    'cluster-workers': { type: 'string', default: '2' },
    out: { type: 'string', default: path.join(projectRoot, 'bench', 'results') },
  },
});
const log = (line: string) => console.log(line);
const latency = Number(values['latency-ms']);
const startedAt = new Date().toISOString();
const machine = {
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model,
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
};

let fleet: Awaited<ReturnType<typeof runFleetBenchmark>> | undefined;
let fleetCluster: Awaited<ReturnType<typeof runClusterRollout>> | undefined;
const knobs = { latencyMs: latency, latencyJitterMs: latency / 2, throttle: { maxConcurrent: 5, queueSize: 50 } };
if (!values['no-fleet']) {
  // The worker runs the production build, as the image does (and as a restart costs in production).
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: projectRoot, stdio: 'inherit' });
  const stack = await startBenchStack({ dir: mkdtempSync(path.join(os.tmpdir(), 'autopilot-bench-')), knobs });
  try {
    fleet = await runFleetBenchmark(stack, {
      hosts: Number(values.hosts),
      environments: Number(values.environments),
      installMs: Number(values['install-ms']),
      concurrency: { global: Number(values.concurrency), perEnvironment: Number(values['per-environment']) },
      apiLatencyMs: latency,
      baseline: !values['no-baseline'],
      baselineAlongside: values['baseline-alongside'],
      workerEntry: 'build',
      log,
    });
  } finally {
    await stack.stop();
  }
  if (values.cluster) {
    const workers = Number(values['cluster-workers']);
    log(`Fleet roll-out on the production topology: Temporal on PostgreSQL, ${workers} workers`);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-bench-cluster-'));
    try {
      fleetCluster = await runClusterRollout({
        dir,
        hosts: fleetHosts('ap', Number(values.hosts), Number(values.environments)),
        workers,
        installMs: Number(values['install-ms']),
        concurrency: fleet.settings.concurrency,
        simulatorKnobs: knobs,
        log,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    log(
      `  cluster: ${fleetCluster.wallSeconds.toFixed(1)} s, ${fleetCluster.counts.apiRequests} API calls, ${fleetCluster.report.done} done`,
    );
  }
  // The fleet part takes the better part of an hour: keep it even if the storm fails.
  mkdirSync(values.out, { recursive: true });
  writeFileSync(
    path.join(values.out, 'fleet.partial.json'),
    JSON.stringify({ startedAt, machine, fleet, fleetCluster }) + '\n',
  );
}

// Saturation (a closed loop: the highest rate it sustains), then a steady rate (an open loop: the
// latency a sender sees at that rate).
const storm = values['no-storm']
  ? undefined
  : await runWebhookStorm({ notifications: Number(values.notifications), log });
const stormOpen = values['no-storm']
  ? undefined
  : await runWebhookStorm({
      notifications: Number(values['storm-rate']) * Number(values['storm-seconds']),
      load: { kind: 'open', ratePerSecond: Number(values['storm-rate']) },
      log,
    });

// Last, so the sections before run as they always did: its in-process worker installs this
// process's Temporal runtime (WARN logs), which they would otherwise share.
let maintenance: Awaited<ReturnType<typeof runMaintenanceBenchmark>> | undefined;
if (!values['no-maintenance']) {
  log(`Token maintenance: ${values['maintenance-environments']} environments`);
  maintenance = await runMaintenanceBenchmark({
    environments: Number(values['maintenance-environments']),
    duePercent: Number(values['maintenance-due-percent']),
    latencyMs: Number(values['maintenance-latency-ms']),
    capacityPerEnvironment: Number(values['maintenance-capacity']),
    log,
  });
}

let fleetView: Awaited<ReturnType<typeof runFleetViewBenchmark>> | undefined;
if (!values['no-fleet-view']) {
  log(`Fleet view: ${values['fleet-view-environments']} environments`);
  fleetView = await runFleetViewBenchmark({
    environments: Number(values['fleet-view-environments']),
    latencyMs: 40,
    latencyJitterMs: 20,
    capacityPerEnvironment: 5,
    problemsPerEnvironmentDay: 2,
    log,
  });
}

let standards: Awaited<ReturnType<typeof runStandardsBenchmark>> | undefined;
if (!values['no-standards']) {
  log(`Standards: ${values['standards-environments']} environments`);
  standards = await runStandardsBenchmark({
    environments: Number(values['standards-environments']),
    latencyMs: 40,
    latencyJitterMs: 20,
    capacityPerEnvironment: 5,
    log,
  });
}

mkdirSync(values.out, { recursive: true });
const charts = {
  ...(fleet ? fleetCharts(fleet) : {}),
  ...(storm ? stormCharts(storm) : {}),
  ...(stormOpen ? stormCharts(stormOpen) : {}),
};
for (const [file, svg] of Object.entries(charts)) writeFileSync(path.join(values.out, file), svg);
writeFileSync(
  path.join(values.out, 'latest.json'),
  JSON.stringify(
    {
      startedAt,
      finishedAt: new Date().toISOString(),
      machine,
      fleet,
      fleetCluster,
      storm,
      stormOpen,
      maintenance,
      fleetView,
      standards,
    },
    null,
    2,
  ) + '\n',
);
const report = [
  '# Dynatrace Autopilot benchmark',
  '',
  `${startedAt} on ${machine.cpus} cores (${machine.cpuModel ?? 'unknown CPU'}), ${machine.memoryGiB} GiB; ` +
    'everything (Temporal dev server with SQLite, worker, simulator, load generator) on this one machine. ' +
    'Reproduce with `npm run bench` (options: `--hosts`, `--environments`, `--install-ms`, `--concurrency`, `--notifications`, `--storm-rate`, `--storm-seconds`, ' +
    '`--maintenance-environments`, `--fleet-view-environments`, `--standards-environments`; `--baseline-alongside` runs the naive script at the same time as ours, on a simulator of its own; `--cluster [--cluster-workers N]` runs the roll-out ' +
    'on the production topology as well; `--no-fleet`, `--no-storm`, `--no-maintenance`, ' +
    '`--no-fleet-view`, `--no-standards` skip a section).',
  '',
  ...(fleet ? fleetMarkdown(fleet) : []),
  '',
  ...(fleet && fleetCluster ? [...clusterMarkdown(fleet, fleetCluster, machine.cpus), ''] : []),
  ...(storm ? stormMarkdown(storm) : []),
  '',
  ...(stormOpen ? [...stormMarkdown(stormOpen), ''] : []),
  ...(maintenance ? [...maintenanceMarkdown(maintenance), ''] : []),
  ...(fleetView ? [...fleetViewMarkdown(fleetView), ''] : []),
  ...(standards ? [...standardsMarkdown(standards), ''] : []),
];
writeFileSync(path.join(values.out, 'report.md'), report.join('\n'));
rmSync(path.join(values.out, 'fleet.partial.json'), { force: true });
console.log('');
console.log(report.join('\n'));
console.log(`\nWritten to ${path.relative(process.cwd(), values.out)}/ (latest.json, report.md, charts)`);
