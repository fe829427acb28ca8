import {
  patched,
  setCurrentDetails,
  startChild,
  upsertSearchAttributes,
  type ActivityInterfaceFor,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { createEnrollmentActivities } from '../../activities/enrollment/index.js';
import type { createFleetActivities } from '../../activities/fleet/index.js';
import { enrollmentStartDisplay, HOST_ENROLLMENT } from '../../shared/enrollment.js';
import type { enrollFleetInputSchema } from '../../shared/fleet.js';
import { AUTOPILOT_PHASE } from '../../shared/search-attributes.js';
import type { HostEnrollment } from '../host-enrollment.js';
import type { EnrollmentToStart, FleetState } from './fleet-state.js';
import type { z } from 'zod';

export type FleetActivities = ReturnType<typeof createFleetActivities> &
  Pick<ReturnType<typeof createEnrollmentActivities>, 'ensureEnvironmentsOnboarding' | 'checkHostExecutor'>;

/** One fleet run as its steps see it. */
export interface Fleet {
  input: z.output<typeof enrollFleetInputSchema>;
  state: FleetState;
  act: ActivityInterfaceFor<FleetActivities>;
  /** How many environments may be onboarding at once (unset: all that are due, as runs before the limit did). */
  onboardingAtOnce?: number;
  /** How many hosts the window reads ahead (unset: a page, as runs before grouped starts did). */
  lookahead?: number;
}

/**
 * Enrollments are started by an activity as independent workflows (see start-enrollments.ts); a
 * fleet run from before this change goes on starting them as children.
 */
const STARTS_BY_ACTIVITY = 'fleet-starts-enrollments-by-activity';

/** Where the workflows a fleet starts run: its hosts' queue, or (unset, older fleets) the fleet's own. */
const onHostQueue = ({ hostTaskQueue }: Fleet['input']) => (hostTaskQueue ? { taskQueue: hostTaskQueue } : {});

/**
 * A fleet that names its executor asks the workers of its hosts' queue first whether they accept
 * it: `local` outside the sandbox fails the fleet before any environment is onboarded or any host
 * enrollment started. Fleets from before this check go on without it.
 */
const CHECKS_EXECUTOR = 'fleet-checks-its-executor-first';

export async function checkExecutor({ input, act }: Fleet): Promise<void> {
  if (!input.executor || !patched(CHECKS_EXECUTOR)) return;
  await act.checkHostExecutor.executeWithOptions(
    { summary: `Check that the workers accept executor ${input.executor}`, ...onHostQueue(input) },
    [{ executor: input.executor }],
  );
}

/** Reads the inventory a page at a time while the window has room. */
export async function readInventory({ input, state, act, lookahead }: Fleet): Promise<void> {
  while (state.wantsMoreHosts(input.totalHosts, input.pageSize, lookahead)) {
    const offset = state.carried.cursor;
    const page = await act.loadInventoryPage.executeWithOptions(
      { summary: `Read hosts ${offset + 1}–${offset + input.pageSize}` },
      [{ ref: input.inventoryRef, offset, limit: input.pageSize }],
    );
    if (page.length === 0) return;
    state.admit(page);
  }
}

/** Asks where onboarding stands for environments that are new, still onboarding, or failed a while ago. */
export async function checkEnvironments({ input, state, act, onboardingAtOnce }: Fleet): Promise<void> {
  const due = state.environmentsToCheck();
  if (due.length === 0) return;
  const startAtMost = onboardingAtOnce === undefined ? undefined : Math.max(0, onboardingAtOnce - state.onboarding);
  const states = await act.ensureEnvironmentsOnboarding.executeWithOptions(
    { summary: `Onboarding of ${due.length} environment(s)` },
    [
      {
        environments: due.map(({ customer, stage }) => ({ customer, stage })),
        ...(startAtMost === undefined ? {} : { startAtMost }),
        ...onHostQueue(input),
      },
    ],
  );
  state.onboardingChecked(states);
}

/** Starts what the limits allow; a host whose start is refused for good is counted as failed. */
export async function startEnrollments({ input, state, act }: Fleet, toStart: EnrollmentToStart[]): Promise<void> {
  if (toStart.length === 0) return;
  const couldNotStart = (workflowId: string, reason: string) =>
    state.finish(workflowId, `could not start its enrollment: ${reason}`);
  if (patched(STARTS_BY_ACTIVITY)) {
    const results = await act.startEnrollments.executeWithOptions(
      // It heartbeats per start: a worker killed mid-way is noticed in seconds, not after the
      // two-minute start-to-close, which stalled every new start of a chaos run that long.
      { summary: `Start ${toStart.length} host enrollment(s)`, heartbeatTimeout: '20 seconds' },
      [{ enrollments: toStart, ...onHostQueue(input) }],
    );
    for (const r of results) if (r.outcome === 'failed') couldNotStart(r.workflowId, r.reason ?? 'refused');
    return;
  }
  // Fleets started before STARTS_BY_ACTIVITY replay their children as they were started.
  await Promise.all(
    toStart.map(({ workflowId, environmentId, input: args }) =>
      startChild<typeof HostEnrollment>(HOST_ENROLLMENT, {
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
}

/** Asks after hosts the fleet has not heard from for a while (a lost signal, a terminated run). */
export async function reconcileQuietHosts({ state, act }: Fleet): Promise<void> {
  const quiet = state.quietHosts();
  if (quiet.length === 0) return;
  const statuses = await act.describeEnrollments.executeWithOptions(
    { summary: `Check ${quiet.length} quiet enrollment(s)` },
    [{ workflowIds: quiet }],
  );
  for (const s of statuses) {
    if (s.status === 'running') state.heardOf(s.workflowId);
    else if (s.status === 'done') state.finish(s.workflowId, undefined, s.result?.outcome);
    else state.finish(s.workflowId, s.status === 'missing' ? 'its enrollment run disappeared' : (s.reason ?? 'failed'));
  }
}

/** The phase as a search attribute (when it changed) and the counts in the Temporal UI's current details. */
export function showFleet({ input, state }: Fleet, shown: { phase?: string }): void {
  const p = state.progress(input.totalHosts);
  if (p.phase !== shown.phase) {
    upsertSearchAttributes([{ key: AUTOPILOT_PHASE, value: p.phase }]);
    shown.phase = p.phase;
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
}
