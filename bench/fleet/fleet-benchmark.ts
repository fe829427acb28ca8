import path from 'node:path';
import type { BenchStack } from '../harness/bench-stack.js';
import { fleetHosts } from './fleet-hosts.js';
import { runFleetRollout, type FleetRolloutResult } from './fleet-rollout.js';
import { fleetLowerBound, type LowerBound } from './lower-bound.js';
import { runNaiveBaseline, type NaiveResult } from './naive-baseline.js';
import { countsSince, type SimulatorCounts } from './simulator-counts.js';
import { DynatraceClient } from '../../src/dynatrace/index.js';
import { startDynatraceSimulator, type DynatraceSimulator } from '../../sandbox/dynatrace/index.js';

export interface FleetBenchmarkOptions {
  hosts: number;
  environments: number;
  installMs: number;
  concurrency: { global: number; perEnvironment: number };
  apiLatencyMs: number;
  baseline: boolean;
  /**
   * Runs the naive script at the same time as ours, against a simulator of its own (same knobs), so
   * each is counted apart; both then share the machine's cores.
   */
  baselineAlongside?: boolean;
  /** Which worker entry point runs (see WorkerSettings.entry). */
  workerEntry?: 'source' | 'build';
  log: (line: string) => void;
}

export interface FleetBenchmarkResult {
  settings: Omit<FleetBenchmarkOptions, 'log'>;
  ours: FleetRolloutResult;
  baseline?: NaiveResult & { counts: SimulatorCounts; hostsPerSecond: number; timeline: { t: number; done: number }[] };
  lowerBound: LowerBound;
  ratios: {
    oursToBound: number;
    oursToBaseline?: { time: number; apiCalls: number; tokens: number; downloads: number };
  };
  /** API calls per host: the roll-out's own (the status page's background scans apart), and all. */
  perHost: { apiCalls: number; allApiCalls: number; baselineApiCalls?: number };
}

/** Our fleet roll-out, then the naive per-host script on fresh environments, against one simulator. */
export async function runFleetBenchmark(
  stack: BenchStack,
  options: FleetBenchmarkOptions,
): Promise<FleetBenchmarkResult> {
  const { log } = options;
  log(
    `Fleet roll-out: ${options.hosts} hosts, ${options.environments} environments, install ${options.installMs / 1000} s, ` +
      `${options.concurrency.global} at a time (${options.concurrency.perEnvironment} per environment)`,
  );
  const runOurs = () =>
    runFleetRollout(stack, {
      hosts: fleetHosts('ap', options.hosts, options.environments),
      concurrency: options.concurrency,
      worker: {
        installMs: options.installMs,
        perEnvironmentRequests: 5,
        ...(options.workerEntry ? { entry: options.workerEntry } : {}),
      },
      log,
    }).then((ours) => {
      log(`  ours: ${ours.wallSeconds.toFixed(1)} s, ${ours.counts.apiRequests} API calls, ${ours.report.done} done`);
      for (const [route, n] of Object.entries(ours.counts.byRoute).sort((a, b) => b[1] - a[1]))
        log(`    ${String(n).padStart(7)}  ${route}`);
      return ours;
    });
  const runBaseline = async (): Promise<FleetBenchmarkResult['baseline']> => {
    if (!options.baseline) return undefined;
    if (!options.baselineAlongside) {
      log('Naive per-host script, same concurrency, same simulator, fresh environments');
      return naive(stack.simulator, stack.dynatrace, stack.clusterToken);
    }
    log('Naive per-host script alongside ours: same concurrency, a simulator of its own with the same knobs');
    const own = await startDynatraceSimulator({
      knobs: stack.simulator.knobs,
      clusterTokens: [{ name: 'admin', scopes: ['ServiceProviderAPI', 'EnvironmentTokenManagement'] }],
    });
    try {
      const client = new DynatraceClient({
        baseUrl: own.url,
        maxConcurrentPerEnvironment: 50,
        requestTimeoutMs: 30_000,
      });
      return await naive(own, client, own.clusterTokens.admin!);
    } finally {
      await own.stop();
    }
  };
  const naive = async (
    simulator: DynatraceSimulator,
    dynatrace: DynatraceClient,
    clusterToken: string,
  ): Promise<FleetBenchmarkResult['baseline']> => {
    const since = countsSince(simulator);
    const started = Date.now();
    const timeline: { t: number; done: number }[] = [];
    let lastSample = 0;
    let lastLogged = 0;
    const result = await runNaiveBaseline({
      dynatrace,
      clusterToken,
      hosts: fleetHosts('nv', options.hosts, options.environments),
      concurrency: options.concurrency.global,
      installMs: options.installMs,
      dir: path.join(stack.dir, 'naive'),
      onProgress: (done) => {
        const t = (Date.now() - started) / 1000;
        if (t - lastSample >= 2) {
          lastSample = t;
          timeline.push({ t, done });
        }
        if (t - lastLogged >= 30) {
          lastLogged = t;
          log(`  ${t.toFixed(0)} s: ${done}/${options.hosts} hosts`);
        }
      },
    });
    timeline.push({ t: result.wallSeconds, done: result.done + result.failed });
    const baseline = { ...result, counts: since(), hostsPerSecond: options.hosts / result.wallSeconds, timeline };
    log(
      `  baseline: ${result.wallSeconds.toFixed(1)} s, ${baseline.counts.apiRequests} API calls, ${result.done} done`,
    );
    return baseline;
  };
  let ours: FleetRolloutResult;
  let baseline: FleetBenchmarkResult['baseline'];
  if (options.baselineAlongside) [ours, baseline] = await Promise.all([runOurs(), runBaseline()]);
  else {
    ours = await runOurs();
    baseline = await runBaseline();
  }

  const lowerBound = fleetLowerBound({
    hosts: options.hosts,
    environments: options.environments,
    globalConcurrency: options.concurrency.global,
    perEnvironmentConcurrency: options.concurrency.perEnvironment,
    installMs: options.installMs,
    apiLatencyMs: options.apiLatencyMs,
  });
  const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);
  return {
    settings: {
      hosts: options.hosts,
      environments: options.environments,
      installMs: options.installMs,
      concurrency: options.concurrency,
      apiLatencyMs: options.apiLatencyMs,
      baseline: options.baseline,
      baselineAlongside: options.baselineAlongside ?? false,
    },
    ours,
    ...(baseline ? { baseline } : {}),
    lowerBound,
    ratios: {
      oursToBound: ratio(ours.wallSeconds, lowerBound.seconds),
      ...(baseline
        ? {
            oursToBaseline: {
              time: ratio(ours.wallSeconds, baseline.wallSeconds),
              apiCalls: ratio(ours.counts.apiRequests, baseline.counts.apiRequests),
              tokens: ratio(ours.counts.apiTokens, baseline.counts.apiTokens),
              downloads: ratio(ours.counts.installerDownloads, baseline.counts.installerDownloads),
            },
          }
        : {}),
    },
    perHost: {
      apiCalls: (ours.counts.apiRequests - ours.counts.scanRequests) / options.hosts,
      allApiCalls: ours.counts.apiRequests / options.hosts,
      ...(baseline ? { baselineApiCalls: baseline.counts.apiRequests / options.hosts } : {}),
    },
  };
}
