import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  patched,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { HostStatusReport } from '../shared/enrollment.js';
import { environmentIdOf } from '../shared/environment-id.js';
import { FailureType } from '../shared/failure-types.js';
import { enrollFleetInputSchema, type EnrollFleetInput, type FleetHost, type FleetReport } from '../shared/fleet.js';
import { FleetState, type FleetCarried } from './fleet/fleet-state.js';
import {
  checkEnvironments,
  checkExecutor,
  readInventory,
  reconcileQuietHosts,
  showFleet,
  startEnrollments,
  type Fleet,
  type FleetActivities,
} from './fleet/fleet-steps.js';
import { autopilotActivities } from './shared/activity-proxies.js';
import { fleetProgressQuery, hostStatusSignal } from './shared/fleet-signals.js';

export type { FleetCarried } from './fleet/fleet-state.js';

const act = autopilotActivities<FleetActivities>(
  { apiCall: '2 minutes', retryWindow: '30 minutes' },
  { firstRetry: '2 seconds' },
);

/**
 * The limits bound installs: a host takes one of its fleet's install slots in its install step and
 * frees it when the installer is done, handed straight to the next host waiting there. Hosts that
 * inspect, wait for their environment or verify hold no slot; the fleet keeps twice as many hosts in
 * flight as it has slots, so a freed slot always finds a host ready for it.
 */
const INSTALL_SLOTS_AT_INSTALL = 'fleet-install-slots-held-by-the-install-alone';
/**
 * The window reads this many hosts ahead and starts the ones of one environment together: they
 * install side by side, finish together, and one entities query finds them all. An interleaved
 * inventory of 500 environments then brings about four hosts of each into the window.
 */
const ENVIRONMENTS_START_TOGETHER = 'fleet-starts-the-hosts-of-an-environment-together';
const LOOKAHEAD_HOSTS = 2_000;
/** Half an environment's slots: two groups of it install at once, and many environments move at a time. */
const groupSizeFor = ({ perEnvironment }: { perEnvironment: number }) => Math.max(1, Math.floor(perEnvironment / 2));
const admissionFor = (limits: { global: number; perEnvironment: number }) => ({
  global: 2 * limits.global,
  perEnvironment: 2 * limits.perEnvironment,
});

/**
 * Enrolls a fleet from an inventory: each environment is onboarded once, before its hosts; each
 * host's `HostEnrollment` runs as a workflow of its own (started by an activity, so the fleet's one
 * history does not serialise thousands of starts) and reports back by signal. At most `global`
 * hosts install at a time and `perEnvironment` per environment. The run continues as new before its
 * history grows past the limit, so 12,000 hosts cost a handful of bounded histories.
 */
export async function EnrollFleet(rawInput: EnrollFleetInput, carried?: FleetCarried): Promise<FleetReport> {
  const parsed = enrollFleetInputSchema.safeParse(rawInput);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(
      `Invalid EnrollFleet input: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`,
      FailureType.InvalidWorkflowInput,
    );
  }
  const input = parsed.data;
  const state = new FleetState(carried);
  setHandler(hostStatusSignal, (report: HostStatusReport) => state.report(report));
  // Registered before the first await, so the progress query answers from the start.
  setHandler(fleetProgressQuery, () => state.progress(input.totalHosts));

  const fleetId = workflowInfo().workflowId;
  // Runs from before the change counted every host in flight against the install limits and
  // onboarded every environment due at once.
  const slotsAtInstall = patched(INSTALL_SLOTS_AT_INSTALL);
  // Runs from before this change read one page ahead and started hosts in inventory order.
  const together = patched(ENVIRONMENTS_START_TOGETHER);
  const fleet: Fleet = {
    input,
    state,
    act,
    ...(slotsAtInstall ? { onboardingAtOnce: input.concurrency.onboarding } : {}),
    ...(together ? { lookahead: LOOKAHEAD_HOSTS } : {}),
  };
  const admission = slotsAtInstall ? admissionFor(input.concurrency) : input.concurrency;
  const enrollmentInput = (host: FleetHost) => {
    const environment = slotsAtInstall ? state.onboardedEnvironment(environmentIdOf(host)) : undefined;
    return {
      hostname: host.hostname,
      address: host.address,
      ...(host.port ? { port: host.port } : {}),
      customer: host.customer,
      stage: host.stage,
      ...(input.executor ? { executor: input.executor } : {}),
      ...(input.ssh ? { ssh: input.ssh } : {}),
      ...(input.timeouts ? { timeouts: input.timeouts } : {}),
      fleet: {
        workflowId: fleetId,
        ...(slotsAtInstall
          ? { installSlots: { global: input.concurrency.global, perEnvironment: input.concurrency.perEnvironment } }
          : {}),
        ...(environment ? { environment } : {}),
      },
    };
  };

  if (!carried) {
    await checkExecutor(fleet);
    const summary = await act.describeInventory.executeWithOptions({ summary: 'Read the inventory summary' }, [
      { ref: input.inventoryRef },
    ]);
    state.expect(summary.environments);
  }

  const shown: { phase?: string } = {};
  for (;;) {
    if (workflowInfo().historyLength >= input.historyLimit || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof EnrollFleet>(rawInput, { ...state.carried, runs: state.carried.runs + 1 });
    }
    await readInventory(fleet);
    await checkEnvironments(fleet);
    await startEnrollments(
      fleet,
      state.takeStartable(admission, enrollmentInput, together ? groupSizeFor(input.concurrency) : undefined),
    );
    showFleet(fleet, shown);
    if (state.carried.cursor >= input.totalHosts && state.finished) break;

    const seen = state.changes;
    const woke = await condition(() => state.changes !== seen, state.idleWaitMs);
    if (!woke) await reconcileQuietHosts(fleet);
  }

  showFleet(fleet, shown);
  return { ...state.progress(input.totalHosts), finishedAt: new Date().toISOString() };
}
