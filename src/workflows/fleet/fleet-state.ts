import type { OnboardedEnvironment } from '../../activities/enrollment/environment-onboarding.js';
import { environmentIdOf } from '../../shared/environment-id.js';
import { enrollmentWorkflowId, type HostEnrollmentInput, type HostStatusReport } from '../../shared/enrollment.js';
import type { EnvironmentTally, FleetHost, FleetIssue, FleetProgress } from '../../shared/fleet.js';
import { AutopilotPhase } from '../../shared/phases.js';

interface RunningHost {
  environmentId: string;
  hostname: string;
  /** Workflow time of the last news from it. */
  lastNews: number;
  attention?: string;
}

interface EnvironmentState {
  customer: string;
  stage: string;
  status: 'pending' | 'onboarding' | 'ready' | 'failed';
  reason?: string;
  checkedAt: number;
  /** As the fleet found it ready: handed to its hosts, so they need not ask. */
  onboarded?: OnboardedEnvironment;
}

/** Everything the fleet carries into its next run when it continues as new. */
export interface FleetCarried {
  runs: number;
  startedAt: string;
  cursor: number;
  window: FleetHost[];
  running: Record<string, RunningHost>;
  environments: Record<string, EnvironmentState>;
  tally: Record<string, EnvironmentTally>;
  started: number;
  done: number;
  failed: number;
  failures: FleetIssue[];
}

export interface EnrollmentToStart {
  workflowId: string;
  environmentId: string;
  input: HostEnrollmentInput;
}

const ONBOARDING_POLL_MS = 2_000;
const FAILED_ENVIRONMENT_RECHECK_MS = 120_000;
const QUIET_HOST_MS = 120_000;
const MAX_LISTED_ISSUES = 200;

export const emptyTally = (): EnvironmentTally => ({
  total: 0,
  done: 0,
  running: 0,
  needsAttention: 0,
  failed: 0,
  installed: 0,
  upgraded: 0,
  alreadyEnrolled: 0,
});

/**
 * Where every host of a fleet stands, and the only place that changes: hosts enter from the
 * inventory into a window, start when their environment is ready and a slot is free, and are
 * counted by what their enrollments report. `changes` wakes the fleet's loop.
 */
export class FleetState {
  readonly carried: FleetCarried;
  changes = 0;

  constructor(carried?: FleetCarried) {
    this.carried = carried ?? {
      runs: 1,
      startedAt: new Date().toISOString(),
      cursor: 0,
      window: [],
      running: {},
      environments: {},
      tally: {},
      started: 0,
      done: 0,
      failed: 0,
      failures: [],
    };
  }

  /** The inventory's hosts per environment, before the first host is read. */
  expect(environments: Record<string, number>): void {
    this.carried.tally = Object.fromEntries(
      Object.entries(environments).map(([env, total]) => [env, { ...emptyTally(), total }]),
    );
  }

  /** A page of the inventory joins the window; its environments are checked before its hosts start. */
  admit(page: FleetHost[]): void {
    const c = this.carried;
    c.cursor += page.length;
    for (const host of page) {
      const env = environmentIdOf(host);
      c.environments[env] ??= { customer: host.customer, stage: host.stage, status: 'pending', checkedAt: 0 };
      c.tally[env] ??= { ...emptyTally(), total: 0 };
    }
    c.window.push(...page);
  }

  /**
   * True while the window should read more of the inventory: until it holds `lookahead` hosts (at
   * least a page), or up to four pages while none of them can start.
   */
  wantsMoreHosts(totalHosts: number, pageSize: number, lookahead = pageSize): boolean {
    const c = this.carried;
    const startable = c.window.some((h) => c.environments[environmentIdOf(h)]?.status === 'ready');
    return (
      c.cursor < totalHosts &&
      (c.window.length < Math.max(pageSize, lookahead) || (!startable && c.window.length < 4 * pageSize))
    );
  }

  /** What an enrollment said about itself (signal). */
  report(report: HostStatusReport): void {
    const host = this.carried.running[report.workflowId];
    if (!host) return;
    host.lastNews = Date.now();
    const tally = this.carried.tally[host.environmentId]!;
    if (report.status === 'needs-attention') {
      if (!host.attention) {
        tally.running--;
        tally.needsAttention++;
      }
      host.attention = report.reason ?? 'needs attention';
    } else if (report.status === 'running' && host.attention) {
      delete host.attention;
      tally.needsAttention--;
      tally.running++;
    } else if (report.status === 'done') {
      this.finish(report.workflowId, undefined, report.outcome);
    } else if (report.status === 'failed') {
      this.finish(report.workflowId, report.reason ?? 'failed');
    }
    this.changes++;
  }

  /** A host is done (no failure) or failed for good. */
  finish(workflowId: string, failure: string | undefined, outcome?: string): void {
    const c = this.carried;
    const host = c.running[workflowId];
    if (!host) return;
    const tally = c.tally[host.environmentId]!;
    if (host.attention) tally.needsAttention--;
    else tally.running--;
    delete c.running[workflowId];
    if (failure === undefined) {
      c.done++;
      tally.done++;
      if (outcome === 'installed') tally.installed++;
      else if (outcome === 'upgraded') tally.upgraded++;
      else if (outcome === 'already-enrolled') tally.alreadyEnrolled++;
    } else {
      c.failed++;
      tally.failed++;
      if (c.failures.length < MAX_LISTED_ISSUES) {
        c.failures.push({ hostname: host.hostname, environmentId: host.environmentId, workflowId, reason: failure });
      }
    }
    this.changes++;
  }

  /** Environments that are new, still onboarding, or failed a while ago (at most 50 per check). */
  environmentsToCheck(): { environmentId: string; customer: string; stage: string }[] {
    const now = Date.now();
    return Object.entries(this.carried.environments)
      .filter(
        ([, e]) =>
          (e.status === 'pending' && now - e.checkedAt >= ONBOARDING_POLL_MS) ||
          (e.status === 'onboarding' && now - e.checkedAt >= ONBOARDING_POLL_MS) ||
          (e.status === 'failed' && now - e.checkedAt >= FAILED_ENVIRONMENT_RECHECK_MS),
      )
      .slice(0, 50)
      .map(([environmentId, e]) => ({ environmentId, customer: e.customer, stage: e.stage }));
  }

  /**
   * Where onboarding stands. Hosts of an environment whose onboarding failed or was aborted cannot
   * be enrolled: they are reported, not left waiting forever; re-running the fleet picks them up.
   */
  onboardingChecked(
    states: {
      environmentId: string;
      state: EnvironmentState['status'] | 'not-started';
      reason?: string;
      onboarded?: OnboardedEnvironment;
    }[],
  ): void {
    const c = this.carried;
    for (const s of states) {
      const env = c.environments[s.environmentId]!;
      env.checkedAt = Date.now();
      env.status = s.state === 'not-started' ? 'pending' : s.state;
      if (s.onboarded) env.onboarded = s.onboarded;
      if (s.state === 'failed') env.reason = s.reason;
    }
    c.window = c.window.filter((h) => {
      const environmentId = environmentIdOf(h);
      const env = c.environments[environmentId]!;
      if (env.status !== 'failed') return true;
      const workflowId = this.startHost(environmentId, h.hostname);
      this.finish(workflowId, env.reason);
      return false;
    });
  }

  /**
   * Hosts of ready environments, as many as the global and per-environment limits allow now. With a
   * `groupSize`, up to that many of one environment's window hosts start one after another
   * (environments in the order the window first met them, then the next group of each), so they
   * install side by side and their agents are looked up in one query; otherwise in inventory order,
   * which a CMDB export interleaves.
   */
  takeStartable(
    limits: { global: number; perEnvironment: number },
    inputFor: (h: FleetHost) => HostEnrollmentInput,
    groupSize?: number,
  ) {
    const c = this.carried;
    let active = Object.values(c.tally).reduce((n, t) => n + t.running, 0);
    const toStart: EnrollmentToStart[] = [];
    const remaining: FleetHost[] = [];
    const groups = groupSize ? inGroups(c.window, Math.min(groupSize, limits.global)) : c.window.map((h) => [h]);
    let full = false;
    for (const group of groups) {
      const env = environmentIdOf(group[0]!);
      const startable =
        c.environments[env]?.status !== 'ready'
          ? 0
          : Math.min(group.length, limits.perEnvironment - (c.tally[env]?.running ?? 0));
      // A group starts whole, or waits for room (and the groups after it with it): started apart,
      // its hosts would finish apart.
      if (full || startable <= 0 || active + startable > limits.global) {
        full ||= startable > 0;
        remaining.push(...group);
        continue;
      }
      remaining.push(...group.slice(startable));
      for (const host of group.slice(0, startable)) {
        const workflowId = this.startHost(env, host.hostname);
        active++;
        toStart.push({ workflowId, environmentId: env, input: inputFor(host) });
      }
    }
    // The window keeps inventory order: which environment comes first stays the inventory's choice.
    if (!groupSize) c.window = remaining;
    else {
      const waiting = new Set(remaining);
      c.window = c.window.filter((h) => waiting.has(h));
    }
    return toStart;
  }

  private startHost(environmentId: string, hostname: string): string {
    const workflowId = enrollmentWorkflowId(environmentId, hostname);
    this.carried.running[workflowId] = { environmentId, hostname, lastNews: Date.now() };
    this.carried.tally[environmentId]!.running++;
    this.carried.started++;
    return workflowId;
  }

  /** How the fleet found an environment ready, if it has. */
  onboardedEnvironment(environmentId: string): OnboardedEnvironment | undefined {
    return this.carried.environments[environmentId]?.onboarded;
  }

  /** Environments whose onboarding runs now. */
  get onboarding(): number {
    return Object.values(this.carried.environments).filter((e) => e.status === 'onboarding').length;
  }

  /** Hosts the fleet has not heard from for a while (a lost signal, a terminated run). */
  quietHosts(): string[] {
    const now = Date.now();
    return Object.entries(this.carried.running)
      .filter(([, h]) => now - h.lastNews >= QUIET_HOST_MS)
      .map(([id]) => id)
      .slice(0, 100);
  }

  heardOf(workflowId: string): void {
    this.carried.running[workflowId]!.lastNews = Date.now();
  }

  get finished(): boolean {
    const c = this.carried;
    return c.window.length === 0 && Object.keys(c.running).length === 0;
  }

  /** How long the loop may sleep when nothing happens: short while environments are being onboarded. */
  get idleWaitMs(): number {
    const onboarding = Object.values(this.carried.environments).some(
      (e) => e.status === 'onboarding' || e.status === 'pending',
    );
    return onboarding ? ONBOARDING_POLL_MS : QUIET_HOST_MS;
  }

  progress(totalHosts: number): FleetProgress {
    const c = this.carried;
    const tallies = Object.values(c.tally);
    const attention = Object.entries(c.running)
      .filter(([, h]) => h.attention)
      .slice(0, MAX_LISTED_ISSUES)
      .map(([workflowId, h]) => ({
        hostname: h.hostname,
        environmentId: h.environmentId,
        workflowId,
        reason: h.attention!,
      }));
    const waitingEnvironments = Object.values(c.environments).filter((e) => e.status === 'onboarding').length;
    const needsAttention = tallies.reduce((n, t) => n + t.needsAttention, 0);
    const running = tallies.reduce((n, t) => n + t.running, 0);
    const phase =
      c.done + c.failed === totalHosts
        ? AutopilotPhase.Completed
        : needsAttention > 0 && running === 0 && waitingEnvironments === 0
          ? AutopilotPhase.NeedsAttention
          : AutopilotPhase.Running;
    return {
      phase,
      total: totalHosts,
      started: c.started,
      done: c.done,
      running,
      needsAttention,
      failed: c.failed,
      perEnvironment: c.tally,
      runs: c.runs,
      startedAt: c.startedAt,
      attention,
      failures: c.failures,
    };
  }
}

/**
 * The hosts in groups of up to `size` per environment: every environment's first group (environments
 * in the order of their first host), then every environment's second, and so on. Groups smaller than
 * an environment's slots keep many environments moving, so the roll-out's end is not left to a few
 * of them at their per-environment limit.
 */
function inGroups(hosts: FleetHost[], size: number): FleetHost[][] {
  const rounds: FleetHost[][][] = [];
  const environments = new Map<string, { order: number; seen: number }>();
  for (const host of hosts) {
    const id = environmentIdOf(host);
    let env = environments.get(id);
    if (!env) environments.set(id, (env = { order: environments.size, seen: 0 }));
    const round = (rounds[Math.floor(env.seen++ / size)] ??= []);
    (round[env.order] ??= []).push(host);
  }
  return rounds.flatMap((round) => round.filter((group) => group !== undefined));
}
