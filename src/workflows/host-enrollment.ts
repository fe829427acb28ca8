import { ApplicationFailure, upsertSearchAttributes } from '@temporalio/workflow';
import {
  planEnrollment,
  type EnrollmentOutcome,
  type HostEnrollmentInput,
  type HostEnrollmentResult,
} from '../shared/enrollment.js';
import { FailureType } from '../shared/failure-types.js';
import { AutopilotPhase } from '../shared/phases.js';
import { DT_CUSTOMER, DT_ENVIRONMENT_ID, DT_HOST } from '../shared/search-attributes.js';
import {
  awaitHostReporting,
  awaitOnboardedEnvironment,
  checkExecutor,
  inspectHost,
  installOneAgent,
  type EnrollmentActivities,
} from './enrollment/enrollment-steps.js';
import { fleetReporter } from './enrollment/fleet-reporter.js';
import { autopilotActivities } from './shared/activity-proxies.js';
import { registerOperatorControls } from './shared/operator-controls.js';

const STEPS = [
  { name: 'environment', title: 'Environment onboarded' },
  { name: 'inspect', title: 'Inspect host' },
  { name: 'install', title: 'Install OneAgent' },
  { name: 'verify', title: 'Host reports into the environment', optional: true },
];

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

  const report = fleetReporter(plan.fleet, { environmentId, hostname });
  const controls = registerOperatorControls(STEPS, {
    subject: `Enrollment of ${hostname} into ${environmentId}`,
    // The fleet counts a host waiting for a person apart from the ones still moving.
    onPhase: (phase, attention) => {
      if (phase === AutopilotPhase.NeedsAttention)
        void report('needs-attention', attention ? { reason: attention.reason } : {});
      else if (phase === AutopilotPhase.Running) void report('running');
    },
  });
  const act = autopilotActivities<EnrollmentActivities>(
    { apiCall: '2 minutes', retryWindow: plan.timeouts.retryWindow },
    { firstRetry: '2 seconds' },
  );
  const enrollment = { plan, controls, act };

  try {
    controls.setPhase(AutopilotPhase.Running);
    await checkExecutor(enrollment);
    const environment = await awaitOnboardedEnvironment(enrollment);
    const inspection = await inspectHost(enrollment, environment);
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
      const installed = await installOneAgent(enrollment, environment, inspection);
      outcome = inspection.installedVersion ? 'upgraded' : 'installed';
      if (installed.reporting) {
        // Reporting already when the install finished: nothing left to wait for.
        entityId = installed.reporting.entityId;
        controls.complete('verify', `reporting as ${entityId}`);
      } else {
        entityId = (await awaitHostReporting(enrollment, version))?.entityId ?? 'unverified';
      }
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
