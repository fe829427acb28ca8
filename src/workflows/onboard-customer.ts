import { ApplicationFailure, log, upsertSearchAttributes } from '@temporalio/workflow';
import { FailureType } from '../shared/failure-types.js';
import { planOnboarding, type OnboardCustomerInput, type OnboardCustomerResult } from '../shared/onboarding.js';
import { AutopilotPhase } from '../shared/phases.js';
import { DT_CUSTOMER, DT_ENVIRONMENT_ID } from '../shared/search-attributes.js';
import {
  ensureAutomationToken,
  ensureEnvironment,
  ensureInstallerToken,
  ensureProblemNotifications,
  ensureTokenManagementToken,
  ensureUserGroups,
  fetchInstaller,
  Onboarding,
} from './onboarding/onboarding-steps.js';
import { registerOperatorControls } from './shared/operator-controls.js';

const STEPS = [
  { name: 'environment', title: 'Environment' },
  { name: 'token-management', title: 'Token management (short-lived, from the cluster token)' },
  { name: 'groups', title: 'User groups and permissions', optional: true },
  { name: 'installer-token', title: 'Installer-download token' },
  { name: 'automation-token', title: 'Automation token', optional: true },
  { name: 'installer', title: 'OneAgent installer', optional: true },
  { name: 'notifications', title: 'Problem notifications (self-healing)', optional: true },
];

/**
 * Onboards customer `abc`, stage `p1`: environment `abc-p1` with its user groups and permissions,
 * an installer-download token in the secret store, the OneAgent installer in the cache, and the
 * problem notifications of the self-healing loop. Every step is an idempotent ensure; running this
 * again, concurrently or after a crash changes nothing that is already right.
 */
export async function OnboardCustomer(input: OnboardCustomerInput): Promise<OnboardCustomerResult> {
  const planned = planOnboarding(input);
  if (!planned.ok) {
    throw ApplicationFailure.nonRetryable(
      `Invalid OnboardCustomer input: ${planned.message}`,
      FailureType.InvalidWorkflowInput,
    );
  }
  const id = planned.plan.environmentId;
  upsertSearchAttributes([
    { key: DT_ENVIRONMENT_ID, value: id },
    { key: DT_CUSTOMER, value: planned.plan.customer },
  ]);

  const controls = registerOperatorControls(STEPS, {
    subject: `Onboarding of environment ${id}`,
    // Corrections may change anything but which environment this run is about.
    validateInput: (patch) => {
      const next = planOnboarding({ ...input, ...patch });
      if (!next.ok) return next.message;
      return next.plan.environmentId === id ? undefined : 'customer and stage cannot change within a run';
    },
    applyInput: (patch) => {
      const next = planOnboarding({ ...input, ...patch });
      if (next.ok) onboarding.replan(next.plan);
      log.info('Onboarding input corrected by operator', { fields: Object.keys(patch) });
    },
  });
  const onboarding = new Onboarding(planned.plan, controls);
  controls.setPhase(AutopilotPhase.Running);

  const environment = await ensureEnvironment(onboarding);
  const tokenManagement = await ensureTokenManagementToken(onboarding);
  const groups = await ensureUserGroups(onboarding);
  const installerToken = await ensureInstallerToken(onboarding);
  const automationToken = await ensureAutomationToken(onboarding);
  const installer = await fetchInstaller(onboarding);
  let notifications: OnboardCustomerResult['notifications'];
  if (!automationToken) {
    controls.skipBecause('notifications', 'skipped: needs the automation token');
    notifications = { status: 'skipped', detail: 'the automation token step was skipped' };
  } else {
    notifications = (await ensureProblemNotifications(onboarding)) ?? {
      status: 'skipped',
      detail: 'skipped by operator',
    };
  }
  controls.setPhase(AutopilotPhase.Completed);

  const { plan } = onboarding;
  return {
    environmentId: id,
    environmentUrl: environment.url,
    createdEnvironment: environment.created,
    environmentDifferences: environment.differences ?? [],
    groups: groups ?? [],
    ...(installer
      ? {
          installer: {
            version: installer.version,
            sha256: installer.sha256,
            size: installer.size,
            fileName: installer.fileName,
            signature: installer.signature,
          },
        }
      : {}),
    secrets: {
      ...(tokenManagement.secretRef ? { tokenManagement: tokenManagement.secretRef } : {}),
      installerDownload: installerToken.secretRef,
      ...(automationToken ? { automation: automationToken.secretRef } : {}),
    },
    notifications,
    enrollment: {
      environmentId: id,
      hostGroup: plan.hostGroup,
      monitoringMode: plan.enrollment.monitoringMode,
      hostTags: plan.enrollment.hostTags,
      ...(plan.enrollment.installPath ? { installPath: plan.enrollment.installPath } : {}),
      arch: plan.enrollment.arch,
    },
    skippedSteps: controls.progress.steps.filter((s) => s.status === 'skipped').map((s) => s.name),
  };
}
