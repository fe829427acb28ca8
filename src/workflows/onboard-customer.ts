import {
  ApplicationFailure,
  log,
  proxyActivities,
  upsertSearchAttributes,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { EnsuredEnvironment } from '../activities/onboarding/ensure-environment.js';
import type { createOnboardingActivities } from '../activities/onboarding/index.js';
import {
  planOnboarding,
  type EnvironmentDifference,
  type OnboardCustomerInput,
  type OnboardCustomerResult,
  type OnboardingPlan,
} from '../shared/onboarding.js';
import { AutopilotPhase } from '../shared/phases.js';
import { DT_CUSTOMER, DT_ENVIRONMENT_ID } from '../shared/search-attributes.js';
import { OperatorControls, SKIPPED } from './shared/operator-controls.js';
import { HEARTBEAT_TIMEOUT } from '../shared/heartbeats.js';
import { FailureType } from '../shared/failure-types.js';

type OnboardingActivities = ReturnType<typeof createOnboardingActivities>;

const STEPS = [
  { name: 'environment', title: 'Environment' },
  { name: 'token-management', title: 'Token-management token' },
  { name: 'groups', title: 'User groups and permissions', optional: true },
  { name: 'installer-token', title: 'Installer-download token' },
  { name: 'automation-token', title: 'Automation token', optional: true },
  { name: 'installer', title: 'OneAgent installer', optional: true },
  { name: 'notifications', title: 'Problem notifications (self-healing)', optional: true },
];

/** "already existed; kept what operators changed: state DISABLED (input: ENABLED)". */
function describeEnvironment(r: EnsuredEnvironment): string {
  if (r.created) return 'created';
  const kept = (r.differences ?? []).filter((d) => d.action === 'kept');
  const overwritten = (r.differences ?? []).filter((d) => d.action === 'overwritten');
  const list = (ds: EnvironmentDifference[]) =>
    ds.map((d) => `${d.field} ${d.inCluster} (input: ${d.requested})`).join('; ');
  return [
    'already existed',
    ...(kept.length ? [`kept what operators changed: ${list(kept)}`] : []),
    ...(overwritten.length ? [`overwritten as asked: ${list(overwritten)}`] : []),
  ].join('; ');
}

function activities(plan: OnboardingPlan) {
  const options: ActivityOptions = {
    startToCloseTimeout: plan.timeouts.apiCall,
    // A step retries (throttling, outages) for this long, then it asks a human instead of failing.
    scheduleToCloseTimeout: plan.timeouts.retryWindow,
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
  };
  return proxyActivities<OnboardingActivities>(options);
}

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
  let plan = planned.plan;
  const id = plan.environmentId;
  upsertSearchAttributes([
    { key: DT_ENVIRONMENT_ID, value: id },
    { key: DT_CUSTOMER, value: plan.customer },
  ]);

  const controls = new OperatorControls(STEPS, {
    subject: `Onboarding of environment ${id}`,
    // Corrections may change anything but which environment this run is about.
    validateInput: (patch) => {
      const next = planOnboarding({ ...input, ...patch });
      if (!next.ok) return next.message;
      return next.plan.environmentId === id ? undefined : 'customer and stage cannot change within a run';
    },
    applyInput: (patch) => {
      const next = planOnboarding({ ...input, ...patch });
      if (next.ok) plan = next.plan;
      log.info('Onboarding input corrected by operator', { fields: Object.keys(patch) });
    },
  });
  controls.setPhase(AutopilotPhase.Running);
  const act = () => activities(plan);

  const environment = await controls.step(
    'environment',
    () =>
      act().ensureEnvironment.executeWithOptions({ summary: `Ensure environment ${id} (PUT with our id)` }, [
        {
          environmentId: id,
          name: plan.environmentName,
          tags: plan.environmentTags,
          ...(plan.quotas ? { quotas: plan.quotas } : {}),
          overwrite: plan.overwrite,
        },
      ]),
    describeEnvironment,
  );
  if (environment === SKIPPED) throw new Error('unreachable: the environment step is required');

  const tokenManagement = await controls.step(
    'token-management',
    () =>
      act().ensureTokenManagementToken.executeWithOptions({ summary: `Ensure token-management token of ${id}` }, [
        { environmentId: id },
      ]),
    (r) => r.action,
  );
  if (tokenManagement === SKIPPED) throw new Error('unreachable: the token-management step is required');

  const groups = await controls.step(
    'groups',
    () =>
      act().ensureUserGroups.executeWithOptions(
        { summary: `Ensure user groups ${plan.userGroups.map((g) => g.name).join(', ')}` },
        [{ environmentId: id, groups: plan.userGroups }],
      ),
    (r) => r.map((g) => `${g.name} ${g.action}`).join(', '),
  );

  const tokenInput = (purpose: 'installer-download' | 'automation') => ({
    environmentId: id,
    purpose,
    validityDays: plan.tokens.installerValidityDays,
    rotateBeforeDays: plan.tokens.rotateBeforeDays,
  });
  const installerToken = await controls.step(
    'installer-token',
    () =>
      act().ensureEnvironmentToken.executeWithOptions({ summary: `Ensure InstallerDownload token of ${id}` }, [
        tokenInput('installer-download'),
      ]),
    (r) => `${r.action} ${r.tokenId}, expires ${r.expiresAt}`,
  );
  if (installerToken === SKIPPED) throw new Error('unreachable: the installer-token step is required');

  const automationToken = await controls.step(
    'automation-token',
    () =>
      act().ensureEnvironmentToken.executeWithOptions({ summary: `Ensure automation token of ${id}` }, [
        tokenInput('automation'),
      ]),
    (r) => `${r.action} ${r.tokenId}`,
  );

  const installer = await controls.step(
    'installer',
    () =>
      act().ensureInstaller.executeWithOptions(
        {
          summary: `Fetch the OneAgent installer for ${id}`,
          startToCloseTimeout: '30 minutes',
          heartbeatTimeout: HEARTBEAT_TIMEOUT,
        },
        [{ environmentId: id, arch: plan.enrollment.arch }],
      ),
    (r) => `${r.version} ${r.action}, sha256 ${r.sha256.slice(0, 12)}…, signature ${r.signature}`,
  );

  let notifications: OnboardCustomerResult['notifications'];
  if (automationToken === SKIPPED) {
    controls.skipBecause('notifications', 'skipped: needs the automation token');
    notifications = { status: 'skipped', detail: 'the automation token step was skipped' };
  } else {
    const ensured = await controls.step(
      'notifications',
      () =>
        act().ensureProblemNotifications.executeWithOptions({ summary: `Ensure problem notifications of ${id}` }, [
          { environmentId: id },
        ]),
      (r) => `${r.status}: ${r.detail}`,
    );
    notifications = ensured === SKIPPED ? { status: 'skipped', detail: 'skipped by operator' } : ensured;
  }

  controls.setPhase(AutopilotPhase.Completed);
  return {
    environmentId: id,
    environmentUrl: environment.url,
    createdEnvironment: environment.created,
    environmentDifferences: environment.differences ?? [],
    groups: groups === SKIPPED ? [] : groups,
    ...(installer === SKIPPED
      ? {}
      : {
          installer: {
            version: installer.version,
            sha256: installer.sha256,
            size: installer.size,
            fileName: installer.fileName,
            signature: installer.signature,
          },
        }),
    secrets: {
      tokenManagement: tokenManagement.secretRef,
      installerDownload: installerToken.secretRef,
      ...(automationToken === SKIPPED ? {} : { automation: automationToken.secretRef }),
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
