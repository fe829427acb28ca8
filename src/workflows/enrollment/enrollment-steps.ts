import { ApplicationFailure, patched, sleep, workflowInfo, type ActivityInterfaceFor } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time.js';
import type { createEnrollmentActivities } from '../../activities/enrollment/index.js';
import type { OnboardedEnvironment } from '../../activities/enrollment/environment-onboarding.js';
import type { HostInspection } from '../../activities/enrollment/inspect-host.js';
import type { HostEnrollmentPlan } from '../../shared/enrollment.js';
import { FailureType } from '../../shared/failure-types.js';
import { HEARTBEAT_TIMEOUT } from '../../shared/heartbeats.js';
import type { OperatorControls } from '../shared/operator-controls.js';

export type EnrollmentActivities = ReturnType<typeof createEnrollmentActivities>;

/** "10 minutes" in milliseconds (the activities take plain numbers). */
const ms = (duration: string): number => msToNumber(duration as Duration);

/** One host's enrollment as its steps see it. */
export interface Enrollment {
  plan: HostEnrollmentPlan;
  controls: OperatorControls;
  act: ActivityInterfaceFor<EnrollmentActivities>;
}

/** How the executor reaches the host. */
export function hostTarget(plan: HostEnrollmentPlan) {
  return {
    hostname: plan.hostname,
    address: plan.address,
    ...(plan.port ? { port: plan.port } : {}),
    ...(plan.ssh?.user ? { user: plan.ssh.user } : {}),
    ...(plan.ssh?.keyName ? { keyRef: `ssh/${plan.ssh.keyName}` } : {}),
  };
}

/**
 * A host that names its executor learns at once whether this worker takes it: `local` outside the
 * sandbox fails the enrollment before it waits for its environment or reaches any machine.
 * Enrollments from before this check go on without it.
 */
const CHECKS_EXECUTOR = 'enrollment-checks-its-executor-first';

export async function checkExecutor({ plan, act }: Enrollment): Promise<void> {
  if (!plan.executor || !patched(CHECKS_EXECUTOR)) return;
  await act.checkHostExecutor.executeWithOptions(
    { summary: `Check that this worker accepts executor ${plan.executor}` },
    [{ executor: plan.executor }],
  );
}

/**
 * Checked, and started when there is none, then polled with durable timers: waiting for an
 * onboarding (which may itself wait for a person) holds no worker slot.
 */
export function awaitOnboardedEnvironment({ plan, controls, act }: Enrollment): Promise<OnboardedEnvironment> {
  // A fleet starts a host only once its environment is ready, and says how it found it.
  const known = plan.fleet?.environment;
  if (known) {
    return controls.step(
      'environment',
      () => Promise.resolve(known),
      (r) => `onboarded (as the fleet found it), target OneAgent ${r.installer.version}`,
    );
  }
  return controls.step(
    'environment',
    async () => {
      for (;;) {
        const [state] = await act.ensureEnvironmentsOnboarding.executeWithOptions(
          { summary: `Check the onboarding of ${plan.environmentId}` },
          [{ environments: [{ customer: plan.customer, stage: plan.stage }] }],
        );
        if (state!.state === 'ready') return state!.onboarded;
        if (state!.state === 'failed') {
          throw ApplicationFailure.nonRetryable(state!.reason, FailureType.EnvironmentOnboardingFailed);
        }
        controls.note('environment', `waiting for the onboarding of ${plan.environmentId}`);
        await sleep('5 seconds');
      }
    },
    (r) => `onboarded, target OneAgent ${r.installer.version}`,
  );
}

export function inspectHost({ plan, controls, act }: Enrollment, environment: OnboardedEnvironment) {
  const installPath = plan.installPath ?? environment.settings.installPath;
  return controls.step(
    'inspect',
    () =>
      act.inspectHost.executeWithOptions({ summary: `Inspect ${plan.hostname} (${plan.address})` }, [
        {
          ...(plan.executor ? { executor: plan.executor } : {}),
          target: hostTarget(plan),
          ...(installPath ? { installPath } : {}),
        },
      ]),
    (r) => (r.installedVersion ? `OneAgent ${r.installedVersion} found` : 'no OneAgent'),
  );
}

/** The cached installer, staged on the host by checksum and run there (an older agent is upgraded). */
export function installOneAgent(
  { plan, controls, act }: Enrollment,
  environment: OnboardedEnvironment,
  inspection: HostInspection,
) {
  const version = environment.installer.version;
  const attemptMs = ms(plan.timeouts.install) * (plan.fleet?.installSlots ? 2 : 1) + 120_000;
  return controls.step(
    'install',
    () =>
      act.installOneAgent.executeWithOptions(
        {
          summary: `${inspection.installedVersion ? `Upgrade OneAgent ${inspection.installedVersion} →` : 'Install OneAgent'} ${version} on ${plan.hostname}`,
          // A fleet's host may first wait for its slot, about one install at most (the fleet admits
          // twice its slots); heartbeats, not these, catch a dead worker.
          startToCloseTimeout: attemptMs,
          scheduleToCloseTimeout: attemptMs + ms(plan.timeouts.retryWindow),
          heartbeatTimeout: HEARTBEAT_TIMEOUT,
        },
        [
          {
            ...(plan.executor ? { executor: plan.executor } : {}),
            target: hostTarget(plan),
            installPath: inspection.installPath,
            settings: environment.settings,
            installer: environment.installer,
            timeoutMs: ms(plan.timeouts.install),
            ...(plan.fleet?.installSlots
              ? { slot: { pool: plan.fleet.workflowId, holder: workflowInfo().workflowId, ...plan.fleet.installSlots } }
              : {}),
          },
        ],
      ),
    (r) =>
      `${r.uploaded ? 'installer uploaded' : 'installer already on the host'}, ran in ${Math.round(r.durationMs / 1000)} s`,
  );
}

/** Until the host reports into its environment with the new version; an operator may skip it. */
export function awaitHostReporting({ plan, controls, act }: Enrollment, version: string) {
  return controls.optionalStep(
    'verify',
    () =>
      act.awaitHostReporting.executeWithOptions(
        {
          summary: `Wait for ${plan.hostname} to report into ${plan.environmentId}`,
          startToCloseTimeout: ms(plan.timeouts.reporting) + 60_000,
          heartbeatTimeout: HEARTBEAT_TIMEOUT,
        },
        [
          {
            environmentId: plan.environmentId,
            hostname: plan.hostname,
            version,
            timeoutMs: ms(plan.timeouts.reporting),
          },
        ],
      ),
    (r) => `reporting as ${r.entityId}`,
  );
}
