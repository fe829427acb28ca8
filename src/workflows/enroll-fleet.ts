import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { createEnrollmentActivities } from '../activities/enrollment/index.js';
import type { createFleetActivities } from '../activities/fleet/index.js';
import {
  enrollmentStartDisplay,
  enrollmentWorkflowId,
  type HostEnrollmentInput,
  type HostStatusReport,
} from '../shared/enrollment.js';
import {
  enrollFleetInputSchema,
  type EnrollFleetInput,
  type EnvironmentTally,
  type FleetHost,
  type FleetIssue,
  type FleetProgress,
  type FleetReport,
} from '../shared/fleet.js';
import { AutopilotPhase } from '../shared/phases.js';
import { AUTOPILOT_PHASE } from '../shared/search-attributes.js';
import { fleetProgressQuery, hostStatusSignal } from './shared/fleet-signals.js';
import type { HostEnrollment } from './host-enrollment.js';
import { FailureType } from '../shared/failure-types.js';
import { environmentIdOf } from '../shared/environment-id.js';

type Activities = ReturnType<typeof createFleetActivities> &
  Pick<ReturnType<typeof createEnrollmentActivities>, 'ensureEnvironmentsOnboarding'>;

const act = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  scheduleToCloseTimeout: '30 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

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
}

/** Everything the fleet carries into its next run when it continues as new. */
export interface FleetState {
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

/**
 * Enrollments are started by an activity as independent workflows (see start-enrollments.ts); a
 * fleet run from before this change goes on starting them as children.
 */
const STARTS_BY_ACTIVITY = 'fleet-starts-enrollments-by-activity';
const ONBOARDING_POLL_MS = 5_000;
const FAILED_ENVIRONMENT_RECHECK_MS = 120_000;
const QUIET_HOST_MS = 120_000;
const MAX_LISTED_ISSUES = 200;

const emptyTally = (): EnvironmentTally => ({
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
 * Enrolls a fleet from an inventory: each environment is onboarded once, before its hosts; hosts
 * run as HostEnrollment children, at most `global` at a time and `perEnvironment` per environment,
 * and report back by signal. The run continues as new before its history grows past the limit, so
 * 12,000 hosts cost a handful of bounded histories.
 */
export async function EnrollFleet(rawInput: EnrollFleetInput, carried?: FleetState): Promise<FleetReport> {
  const parsed = enrollFleetInputSchema.safeParse(rawInput);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(
      `Invalid EnrollFleet input: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`,
      FailureType.InvalidWorkflowInput,
    );
  }
  const input = parsed.data;
  const fleetId = workflowInfo().workflowId;
  const state: FleetState = carried ?? {
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
  let changes = 0;

  const finish = (workflowId: string, failure: string | undefined, outcome?: string) => {
    const host = state.running[workflowId];
    if (!host) return;
    const tally = state.tally[host.environmentId]!;
    if (host.attention) tally.needsAttention--;
    else tally.running--;
    delete state.running[workflowId];
    if (failure === undefined) {
      state.done++;
      tally.done++;
      if (outcome === 'installed') tally.installed++;
      else if (outcome === 'upgraded') tally.upgraded++;
      else if (outcome === 'already-enrolled') tally.alreadyEnrolled++;
    } else {
      state.failed++;
      tally.failed++;
      if (state.failures.length < MAX_LISTED_ISSUES) {
        state.failures.push({
          hostname: host.hostname,
          environmentId: host.environmentId,
          workflowId,
          reason: failure,
        });
      }
    }
    changes++;
  };

  setHandler(hostStatusSignal, (report: HostStatusReport) => {
    const host = state.running[report.workflowId];
    if (!host) return;
    host.lastNews = Date.now();
    const tally = state.tally[host.environmentId]!;
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
      finish(report.workflowId, undefined, report.outcome);
    } else if (report.status === 'failed') {
      finish(report.workflowId, report.reason ?? 'failed');
    }
    changes++;
  });
  // Registered before the first await, so the progress query answers from the start.
  setHandler(fleetProgressQuery, () => progress());

  if (!carried) {
    const summary = await act.describeInventory.executeWithOptions({ summary: 'Read the inventory summary' }, [
      { ref: input.inventoryRef },
    ]);
    state.tally = Object.fromEntries(
      Object.entries(summary.environments).map(([env, total]) => [env, { ...emptyTally(), total }]),
    );
  }

  function progress(): FleetProgress {
    const tallies = Object.values(state.tally);
    const attention = Object.entries(state.running)
      .filter(([, h]) => h.attention)
      .slice(0, MAX_LISTED_ISSUES)
      .map(([workflowId, h]) => ({
        hostname: h.hostname,
        environmentId: h.environmentId,
        workflowId,
        reason: h.attention!,
      }));
    const waitingEnvironments = Object.entries(state.environments)
      .filter(([, e]) => e.status === 'onboarding')
      .map(([id]) => id);
    const needsAttention = tallies.reduce((n, t) => n + t.needsAttention, 0);
    const running = tallies.reduce((n, t) => n + t.running, 0);
    const finished = state.done + state.failed === input.totalHosts;
    const phase = finished
      ? AutopilotPhase.Completed
      : needsAttention > 0 && running === 0 && waitingEnvironments.length === 0
        ? AutopilotPhase.NeedsAttention
        : AutopilotPhase.Running;
    return {
      phase,
      total: input.totalHosts,
      started: state.started,
      done: state.done,
      running,
      needsAttention,
      failed: state.failed,
      perEnvironment: state.tally,
      runs: state.runs,
      startedAt: state.startedAt,
      attention,
      failures: state.failures,
    };
  }

  let shownPhase: string | undefined;
  const show = () => {
    const p = progress();
    if (p.phase !== shownPhase) {
      upsertSearchAttributes([{ key: AUTOPILOT_PHASE, value: p.phase }]);
      shownPhase = p.phase;
    }
    setCurrentDetails(
      [
        `**Fleet enrollment** — ${p.phase}, run ${p.runs}`,
        '',
        `${p.done} done, ${p.running} running, ${p.needsAttention} need attention, ${p.failed} failed of ${p.total} hosts`,
        ...(p.attention.length
          ? [
              '',
              'Needs attention:',
              ...p.attention.slice(0, 10).map((a) => `- \`${a.workflowId}\`: ${a.reason.split('\n')[0]}`),
            ]
          : []),
      ].join('\n'),
    );
  };

  const environmentOf = (h: FleetHost) => environmentIdOf(h);

  /** Asks where onboarding stands for environments that are new, still onboarding, or failed a while ago. */
  const checkEnvironments = async () => {
    const now = Date.now();
    const due = Object.entries(state.environments)
      .filter(
        ([, e]) =>
          e.status === 'pending' ||
          (e.status === 'onboarding' && now - e.checkedAt >= ONBOARDING_POLL_MS) ||
          (e.status === 'failed' && now - e.checkedAt >= FAILED_ENVIRONMENT_RECHECK_MS),
      )
      .slice(0, 50);
    if (due.length === 0) return;
    const states = await act.ensureEnvironmentsOnboarding.executeWithOptions(
      { summary: `Onboarding of ${due.length} environment(s)` },
      [{ environments: due.map(([, e]) => ({ customer: e.customer, stage: e.stage })) }],
    );
    for (const s of states) {
      const env = state.environments[s.environmentId]!;
      env.checkedAt = Date.now();
      env.status = s.state;
      if (s.state === 'failed') env.reason = s.reason;
    }
    // Hosts of an environment whose onboarding failed or was aborted cannot be enrolled: they are
    // reported, not left waiting forever. Re-running the fleet once it is fixed picks them up.
    state.window = state.window.filter((h) => {
      const env = state.environments[environmentOf(h)]!;
      if (env.status !== 'failed') return true;
      const workflowId = enrollmentWorkflowId(environmentOf(h), h.hostname);
      state.running[workflowId] = { environmentId: environmentOf(h), hostname: h.hostname, lastNews: Date.now() };
      state.tally[environmentOf(h)]!.running++;
      state.started++;
      finish(workflowId, env.reason);
      return false;
    });
  };

  const startEligible = async () => {
    const perEnvironmentActive = (env: string) => state.tally[env]?.running ?? 0;
    let active = Object.values(state.tally).reduce((n, t) => n + t.running, 0);
    const toStart: { workflowId: string; environmentId: string; input: HostEnrollmentInput }[] = [];
    const remaining: FleetHost[] = [];
    for (const host of state.window) {
      const env = environmentOf(host);
      if (
        active >= input.concurrency.global ||
        state.environments[env]?.status !== 'ready' ||
        perEnvironmentActive(env) >= input.concurrency.perEnvironment
      ) {
        remaining.push(host);
        continue;
      }
      const workflowId = enrollmentWorkflowId(env, host.hostname);
      state.running[workflowId] = { environmentId: env, hostname: host.hostname, lastNews: Date.now() };
      state.tally[env]!.running++;
      state.started++;
      active++;
      toStart.push({
        workflowId,
        environmentId: env,
        input: {
          hostname: host.hostname,
          address: host.address,
          ...(host.port ? { port: host.port } : {}),
          customer: host.customer,
          stage: host.stage,
          ...(input.executor ? { executor: input.executor } : {}),
          ...(input.ssh ? { ssh: input.ssh } : {}),
          ...(input.timeouts ? { timeouts: input.timeouts } : {}),
          fleet: { workflowId: fleetId },
        },
      });
    }
    state.window = remaining;
    if (toStart.length === 0) return;
    const couldNotStart = (workflowId: string, reason: string) =>
      finish(workflowId, `could not start its enrollment: ${reason}`);
    if (patched(STARTS_BY_ACTIVITY)) {
      const results = await act.startEnrollments.executeWithOptions(
        // It heartbeats per start: a worker killed mid-way is noticed in seconds, not after the
        // two-minute start-to-close, which stalled every new start of a chaos run that long.
        { summary: `Start ${toStart.length} host enrollment(s)`, heartbeatTimeout: '20 seconds' },
        [{ enrollments: toStart }],
      );
      for (const r of results) if (r.outcome === 'failed') couldNotStart(r.workflowId, r.reason ?? 'refused');
      return;
    }
    // Fleets started before STARTS_BY_ACTIVITY replay their children as they were started.
    await Promise.all(
      toStart.map(({ workflowId, environmentId, input: args }) =>
        startChild<typeof HostEnrollment>('HostEnrollment', {
          workflowId,
          args: [args],
          parentClosePolicy: 'ABANDON',
          ...enrollmentStartDisplay(environmentId, args),
        }).then(
          () => undefined,
          (err: unknown) => {
            if (err instanceof WorkflowExecutionAlreadyStartedError) return;
            couldNotStart(workflowId, err instanceof Error ? err.message : String(err));
          },
        ),
      ),
    );
  };

  /** Asks after hosts the fleet has not heard from for a while (a lost signal, a terminated run). */
  const reconcile = async () => {
    const now = Date.now();
    const quiet = Object.entries(state.running)
      .filter(([, h]) => now - h.lastNews >= QUIET_HOST_MS)
      .map(([id]) => id)
      .slice(0, 100);
    if (quiet.length === 0) return;
    const statuses = await act.describeEnrollments.executeWithOptions(
      { summary: `Check ${quiet.length} quiet enrollment(s)` },
      [{ workflowIds: quiet }],
    );
    for (const s of statuses) {
      if (s.status === 'running') state.running[s.workflowId]!.lastNews = Date.now();
      else if (s.status === 'done') finish(s.workflowId, undefined, s.result?.outcome);
      else finish(s.workflowId, s.status === 'missing' ? 'its enrollment run disappeared' : (s.reason ?? 'failed'));
    }
  };

  for (;;) {
    if (workflowInfo().historyLength >= input.historyLimit || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof EnrollFleet>(rawInput, { ...state, runs: state.runs + 1 });
    }

    const startable = () => state.window.some((h) => state.environments[environmentOf(h)]?.status === 'ready');
    while (
      state.cursor < input.totalHosts &&
      (state.window.length < input.pageSize || (!startable() && state.window.length < 4 * input.pageSize))
    ) {
      const page = await act.loadInventoryPage.executeWithOptions(
        { summary: `Read hosts ${state.cursor + 1}–${state.cursor + input.pageSize}` },
        [{ ref: input.inventoryRef, offset: state.cursor, limit: input.pageSize }],
      );
      if (page.length === 0) break;
      state.cursor += page.length;
      for (const host of page) {
        const env = environmentOf(host);
        state.environments[env] ??= { customer: host.customer, stage: host.stage, status: 'pending', checkedAt: 0 };
        state.tally[env] ??= { ...emptyTally(), total: 0 };
      }
      state.window.push(...page);
    }

    await checkEnvironments();
    await startEligible();
    show();
    if (state.cursor >= input.totalHosts && state.window.length === 0 && Object.keys(state.running).length === 0) break;

    const seen = changes;
    const onboarding = Object.values(state.environments).some(
      (e) => e.status === 'onboarding' || e.status === 'pending',
    );
    const woke = await condition(() => changes !== seen, onboarding ? ONBOARDING_POLL_MS : QUIET_HOST_MS);
    if (!woke) await reconcile();
  }

  show();
  return { ...progress(), finishedAt: new Date().toISOString() };
}
