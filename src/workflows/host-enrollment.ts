import {
  ApplicationFailure,
  getExternalWorkflowHandle,
  log,
  proxyActivities,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time.js';
import type { createEnrollmentActivities } from '../activities/enrollment/index.js';
import {
  planEnrollment,
  type EnrollmentOutcome,
  type HostEnrollmentInput,
  type HostEnrollmentResult,
  type HostStatusReport,
} from '../shared/enrollment.js';
import { AutopilotPhase } from '../shared/phases.js';
import { DT_CUSTOMER, DT_ENVIRONMENT_ID, DT_HOST } from '../shared/search-attributes.js';
import { hostStatusSignal } from './shared/fleet-signals.js';
import { OperatorControls, SKIPPED } from './shared/operator-controls.js';
import { HEARTBEAT_TIMEOUT } from '../shared/heartbeats.js';
import { FailureType } from '../shared/failure-types.js';

type EnrollmentActivities = ReturnType<typeof createEnrollmentActivities>;

const STEPS = [
  { name: 'environment', title: 'Environment onboarded' },
  { name: 'inspect', title: 'Inspect host' },
  { name: 'install', title: 'Install OneAgent' },
  { name: 'verify', title: 'Host reports into the environment', optional: true },
];

/** "10 minutes" in milliseconds (the activities take plain numbers). */
const ms = (duration: string): number => msToNumber(duration as Duration);

/**
 * Enrolls one VM: its environment is onboarded (once, shared with every other host of it), the host
 * is inspected, the cached installer is run on it unless the target version is already there and
 * reporting, and the host is watched until it reports into the environment.
 */
export async function HostEnrollment(input: HostEnrollmentInput): Promise<HostEnrollmentResult> {
  const planned = planEnrollment(input);
  if (!planned.ok) {
    throw ApplicationFailure.nonRetryable(
      `Invalid HostEnrollment input: ${planned.message}`,
      FailureType.InvalidWorkflowInput,
    );
  }
  const plan = planned.plan;
  const { environmentId, hostname } = plan;
  upsertSearchAttributes([
    { key: DT_ENVIRONMENT_ID, value: environmentId },
    { key: DT_HOST, value: hostname },
    { key: DT_CUSTOMER, value: plan.customer },
  ]);

  // The final report is awaited: a signal issued in the same task as the run's completion is lost.
  const report = async (status: HostStatusReport['status'], extra: Partial<HostStatusReport> = {}) => {
    if (!plan.fleet) return;
    const message: HostStatusReport = {
      workflowId: workflowInfo().workflowId,
      environmentId,
      hostname,
      status,
      ...extra,
    };
    await getExternalWorkflowHandle(plan.fleet.workflowId)
      .signal(hostStatusSignal, message)
      .catch((err: unknown) =>
        log.warn('Could not report to the fleet', { fleet: plan.fleet?.workflowId, error: String(err) }),
      );
  };

  const controls = new OperatorControls(STEPS, {
    subject: `Enrollment of ${hostname} into ${environmentId}`,
    onPhase: (phase, attention) => {
      if (phase === AutopilotPhase.NeedsAttention)
        void report('needs-attention', attention ? { reason: attention.reason } : {});
      else if (phase === AutopilotPhase.Running) void report('running');
    },
  });
  const act = proxyActivities<EnrollmentActivities>({
    startToCloseTimeout: '2 minutes',
    scheduleToCloseTimeout: plan.timeouts.retryWindow,
    retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
  });

  try {
    controls.setPhase(AutopilotPhase.Running);
    const environment = await controls.step(
      'environment',
      async () => {
        // Checked, and started when there is none, then polled with durable timers: waiting for an
        // onboarding (which may itself wait for a person) holds no worker slot.
        for (;;) {
          const [state] = await act.ensureEnvironmentsOnboarding.executeWithOptions(
            { summary: `Check the onboarding of ${environmentId}` },
            [{ environments: [{ customer: plan.customer, stage: plan.stage }] }],
          );
          if (state!.state === 'ready') return state!.onboarded;
          if (state!.state === 'failed') {
            throw ApplicationFailure.nonRetryable(state!.reason, FailureType.EnvironmentOnboardingFailed);
          }
          controls.note('environment', `waiting for the onboarding of ${environmentId}`);
          await sleep('5 seconds');
        }
      },
      (r) => `onboarded, target OneAgent ${r.installer.version}`,
    );
    if (environment === SKIPPED) throw new Error('unreachable: the environment step is required');

    const target = {
      hostname,
      address: plan.address,
      ...(plan.port ? { port: plan.port } : {}),
      ...(plan.ssh?.user ? { user: plan.ssh.user } : {}),
      ...(plan.ssh?.keyName ? { keyRef: `ssh/${plan.ssh.keyName}` } : {}),
    };
    const executor = plan.executor;
    const inspection = await controls.step(
      'inspect',
      () =>
        act.inspectHost.executeWithOptions({ summary: `Inspect ${hostname} (${plan.address})` }, [
          {
            ...(executor ? { executor } : {}),
            target,
            ...((plan.installPath ?? environment.settings.installPath)
              ? { installPath: plan.installPath ?? environment.settings.installPath }
              : {}),
          },
        ]),
      (r) => (r.installedVersion ? `OneAgent ${r.installedVersion} found` : 'no OneAgent'),
    );
    if (inspection === SKIPPED) throw new Error('unreachable: the inspect step is required');

    const version = environment.installer.version;
    let outcome: EnrollmentOutcome | undefined;
    let entityId: string | undefined;
    if (inspection.installedVersion === version) {
      const reporting = await act.findReportingHost.executeWithOptions({ summary: `Is ${hostname} reporting?` }, [
        { environmentId, hostname },
      ]);
      if (reporting) {
        outcome = 'already-enrolled';
        entityId = reporting.entityId;
        controls.skipBecause('install', `OneAgent ${version} already installed`);
        controls.skipBecause('verify', `already reporting as ${reporting.entityId}`);
      }
    }

    if (!outcome) {
      const installed = await controls.step(
        'install',
        () =>
          act.installOneAgent.executeWithOptions(
            {
              summary: `${inspection.installedVersion ? `Upgrade OneAgent ${inspection.installedVersion} →` : 'Install OneAgent'} ${version} on ${hostname}`,
              startToCloseTimeout: ms(plan.timeouts.install) + 120_000,
              heartbeatTimeout: HEARTBEAT_TIMEOUT,
            },
            [
              {
                ...(executor ? { executor } : {}),
                target,
                installPath: inspection.installPath,
                settings: environment.settings,
                installer: environment.installer,
                timeoutMs: ms(plan.timeouts.install),
              },
            ],
          ),
        (r) =>
          `${r.uploaded ? 'installer uploaded' : 'installer already on the host'}, ran in ${Math.round(r.durationMs / 1000)} s`,
      );
      if (installed === SKIPPED) throw new Error('unreachable: the install step is required');
      outcome = inspection.installedVersion ? 'upgraded' : 'installed';

      const reporting = await controls.step(
        'verify',
        () =>
          act.awaitHostReporting.executeWithOptions(
            {
              summary: `Wait for ${hostname} to report into ${environmentId}`,
              startToCloseTimeout: ms(plan.timeouts.reporting) + 60_000,
              heartbeatTimeout: HEARTBEAT_TIMEOUT,
            },
            [{ environmentId, hostname, version, timeoutMs: ms(plan.timeouts.reporting) }],
          ),
        (r) => `reporting as ${r.entityId}`,
      );
      entityId = reporting === SKIPPED ? 'unverified' : reporting.entityId;
    }

    controls.setPhase(AutopilotPhase.Completed);
    await report('done', { outcome });
    return {
      hostname,
      environmentId,
      outcome,
      version,
      ...(inspection.installedVersion && inspection.installedVersion !== version
        ? { previousVersion: inspection.installedVersion }
        : {}),
      entityId: entityId!,
    };
  } catch (err) {
    await report('failed', { reason: err instanceof Error ? err.message : String(err) });
    throw err;
  }
}
