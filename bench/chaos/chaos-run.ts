import { setTimeout as sleep } from 'node:timers/promises';
import type { SimulatorKnobsInput } from '../../sandbox/dynatrace/index.js';
import { fleetHosts } from '../fleet/fleet-hosts.js';
import { runFleetRollout, type FleetRolloutResult, type RolloutControl } from '../fleet/fleet-rollout.js';
import { startBenchStack, type BenchStack } from '../harness/bench-stack.js';
import { fleetTaskQueue } from '../../src/shared/task-queues.js';
import { replayFleetRuns } from './fleet-replay.js';
import { hostsInFlight, watchUntilMovingAgain, type MovingAgain } from './moving-again.js';

export interface ChaosOptions {
  dir: string;
  hosts: number;
  environments: number;
  installMs: number;
  concurrency: { global: number; perEnvironment: number };
  /** SIGKILLs of the worker, spread over the run. */
  workerKills: number;
  /** Restarts of the Temporal dev server (same SQLite file). */
  serverRestarts: number;
  faults: NonNullable<SimulatorKnobsInput['faults']>;
  /** Which worker entry point runs (see WorkerSettings.entry). */
  workerEntry?: 'source' | 'build';
  log?: (line: string) => void;
}

export interface Disruption {
  what: 'worker SIGKILL' | 'Temporal server restart';
  atSeconds: number;
  hostsDoneBefore: number;
  /** From the disruption until hosts complete again. */
  recoverySeconds: number;
  /** Each host in flight at the disruption: how long until a worker moved it on again. */
  movingAgain: MovingAgain;
}

/** Every host in flight on a killed worker must be moving again within this long. */
export const MOVING_AGAIN_WITHIN_S = 25;
const RECOVERY_GIVE_UP_MS = 300_000;

export interface ChaosCheck {
  check: string;
  expected: number | string;
  actual: number | string;
  ok: boolean;
}

export interface ChaosResult {
  settings: Omit<ChaosOptions, 'log' | 'dir'>;
  rollout: FleetRolloutResult;
  disruptions: Disruption[];
  checks: ChaosCheck[];
  ok: boolean;
}

function liveTokens(stack: BenchStack, prefix: string): number {
  let live = 0;
  for (const [id, environment] of stack.simulator.state.environments) {
    if (!id.startsWith(prefix)) continue;
    for (const token of environment.tokens.values()) if (token.kind === 'api' && token.enabled) live++;
  }
  return live;
}

export const CHAOS_FAULTS = { rate500: 0.05, rate429: 0.05, rateReset: 0.01, rateHang: 0.002, hangMs: 15_000 };

/**
 * A fleet roll-out while everything goes wrong: the simulator answers 500 and 429, drops and hangs
 * connections, the worker is SIGKILLed and the Temporal server restarted. Afterwards the simulator's
 * counts must show each environment, group, token, download and install exactly once.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const log = options.log ?? (() => undefined);
  const stack = await startBenchStack({
    dir: options.dir,
    knobs: { latencyMs: 20, latencyJitterMs: 10, faults: { ...options.faults, routes: [] } },
  });
  const disruptions: Disruption[] = [];
  try {
    const plan: Disruption['what'][] = [];
    for (let i = 0; i < Math.max(options.workerKills, options.serverRestarts); i++) {
      if (i < options.workerKills) plan.push('worker SIGKILL');
      if (i < options.serverRestarts) plan.push('Temporal server restart');
    }
    const started = Date.now();
    const disrupt = async (control: RolloutControl) => {
      for (const [i, what] of plan.entries()) {
        // Spread over the run by progress, so every disruption hits hosts in flight.
        const goal = Math.floor(((i + 1) / (plan.length + 1)) * options.hosts);
        let before = 0;
        for (;;) {
          const p = await control.progress();
          if (p && p.done >= goal) {
            before = p.done;
            break;
          }
          await sleep(500);
        }
        const inFlight = await hostsInFlight(control.stack.client, control.taskQueue);
        const at = Date.now();
        log(
          `  ${((at - started) / 1000).toFixed(0)} s: ${what} with ${before}/${options.hosts} hosts done, ${inFlight.length} in flight`,
        );
        if (what === 'worker SIGKILL') await control.killWorker();
        else await control.stack.restartDevServer();
        const watching = watchUntilMovingAgain(control.stack.client, inFlight, at);
        // Bounded, so a fleet that never moves again fails the run instead of hanging it.
        for (;;) {
          const p = await control.progress();
          // A disruption that came after the last host finished has nothing left to recover.
          if (p && (p.done > before || p.done >= p.total)) break;
          if (Date.now() - at > RECOVERY_GIVE_UP_MS) break;
          await sleep(250);
        }
        const recoverySeconds = (Date.now() - at) / 1000;
        const movingAgain = await watching;
        log(
          `    hosts completing again after ${recoverySeconds.toFixed(1)} s; the ${movingAgain.hosts} in flight moving again ` +
            `after ${movingAgain.p50.toFixed(1)} s (median), ${movingAgain.max.toFixed(1)} s (last)` +
            (movingAgain.stuck.length ? `, ${movingAgain.stuck.length} not at all` : ''),
        );
        disruptions.push({
          what,
          atSeconds: (at - started) / 1000,
          hostsDoneBefore: before,
          recoverySeconds,
          movingAgain,
        });
      }
    };
    const rollout = await runFleetRollout(stack, {
      hosts: fleetHosts('cx', options.hosts, options.environments),
      concurrency: options.concurrency,
      worker: {
        installMs: options.installMs,
        perEnvironmentRequests: 5,
        ...(options.workerEntry ? { entry: options.workerEntry } : {}),
      },
      during: disrupt,
      log,
    });
    const replayed = await replayFleetRuns(stack, [rollout.taskQueue, fleetTaskQueue(rollout.taskQueue)]);
    for (const failure of replayed.failures) log(`  fleet history does not replay: ${failure}`);
    const E = options.environments;
    const c = rollout.counts;
    const check = (name: string, expected: number | string, actual: number | string): ChaosCheck => ({
      check: name,
      expected,
      actual,
      ok: expected === actual,
    });
    const checks = [
      check('hosts enrolled', options.hosts, rollout.report.done),
      check('hosts failed', 0, rollout.report.failed),
      check('workflows failed', 0, rollout.failedWorkflows.length),
      check('environments created', E, c.environments),
      check('user groups created', 2 * E, c.groups),
      // A worker killed between minting a token and storing it leaves an orphan, which the next
      // attempt revokes: what must hold is one live token per environment and purpose.
      check('live tokens (installer-download, automation)', 2 * E, liveTokens(stack, 'cx')),
      check('installer downloads', E, c.installerDownloads),
      check('hosts reporting', options.hosts, c.hostsConnected),
      check('installer runs (agent connects)', options.hosts, c.agentConnects),
      check(
        'worker SIGKILLs survived',
        options.workerKills,
        disruptions.filter((d) => d.what === 'worker SIGKILL').length,
      ),
      check(
        `worker SIGKILLs after which every host in flight moved again within ${MOVING_AGAIN_WITHIN_S} s`,
        options.workerKills,
        disruptions.filter(
          (d) =>
            d.what === 'worker SIGKILL' &&
            d.movingAgain.stuck.length === 0 &&
            d.movingAgain.max <= MOVING_AGAIN_WITHIN_S,
        ).length,
      ),
      check(
        `fleet runs that replay against the code (of ${replayed.runs})`,
        replayed.runs,
        replayed.runs - replayed.failures.length,
      ),
      check(
        'server restarts survived',
        options.serverRestarts,
        disruptions.filter((d) => d.what !== 'worker SIGKILL').length,
      ),
    ];
    return {
      settings: {
        hosts: options.hosts,
        environments: options.environments,
        installMs: options.installMs,
        concurrency: options.concurrency,
        workerKills: options.workerKills,
        serverRestarts: options.serverRestarts,
        faults: options.faults,
      },
      rollout,
      disruptions,
      checks,
      ok: checks.every((x) => x.ok),
    };
  } finally {
    await stack.stop();
  }
}
