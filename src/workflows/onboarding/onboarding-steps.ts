import type { ActivityInterfaceFor } from '@temporalio/workflow';
import type { EnsuredEnvironment } from '../../activities/onboarding/ensure-environment.js';
import type { createOnboardingActivities } from '../../activities/onboarding/index.js';
import { HEARTBEAT_TIMEOUT } from '../../shared/heartbeats.js';
import type { EnvironmentDifference, OnboardingPlan } from '../../shared/onboarding.js';
import { autopilotActivities } from '../shared/activity-proxies.js';
import type { OperatorControls } from '../shared/operator-controls.js';

export type OnboardingActivities = ReturnType<typeof createOnboardingActivities>;

/**
 * One environment's onboarding as its steps see it. An operator's `retry` may correct the input,
 * timeouts included, so the plan and the activities it calls with are replaced together.
 */
export class Onboarding {
  act: ActivityInterfaceFor<OnboardingActivities>;

  constructor(
    public plan: OnboardingPlan,
    readonly controls: OperatorControls,
  ) {
    this.act = autopilotActivities<OnboardingActivities>(plan.timeouts);
  }

  replan(plan: OnboardingPlan): void {
    this.plan = plan;
    this.act = autopilotActivities<OnboardingActivities>(plan.timeouts);
  }

  get id(): string {
    return this.plan.environmentId;
  }
}

/** "already existed; kept what operators changed: state DISABLED (input: ENABLED)". */
export function describeEnvironment(r: EnsuredEnvironment): string {
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

/** PUT with our id (never POST); what operators changed in an existing one is kept unless asked. */
export function ensureEnvironment(o: Onboarding) {
  return o.controls.step(
    'environment',
    () =>
      o.act.ensureEnvironment.executeWithOptions({ summary: `Ensure environment ${o.id} (PUT with our id)` }, [
        {
          environmentId: o.id,
          name: o.plan.environmentName,
          tags: o.plan.environmentTags,
          ...(o.plan.quotas ? { quotas: o.plan.quotas } : {}),
          overwrite: o.plan.overwrite,
          ...(o.plan.cluster ? { cluster: o.plan.cluster } : {}),
          customer: o.plan.customer,
          stage: o.plan.stage,
        },
      ]),
    describeEnvironment,
  );
}

export function ensureTokenManagementToken(o: Onboarding) {
  return o.controls.step(
    'token-management',
    () =>
      o.act.ensureTokenManagementToken.executeWithOptions({ summary: `Short-lived token management for ${o.id}` }, [
        { environmentId: o.id },
      ]),
    (r) => r.action,
  );
}

export function ensureUserGroups(o: Onboarding) {
  return o.controls.optionalStep(
    'groups',
    () =>
      o.act.ensureUserGroups.executeWithOptions(
        { summary: `Ensure user groups ${o.plan.userGroups.map((g) => g.name).join(', ')}` },
        [{ environmentId: o.id, groups: o.plan.userGroups, ...(o.plan.cluster ? { cluster: o.plan.cluster } : {}) }],
      ),
    (r) => r.map((g) => `${g.name} ${g.action}`).join(', '),
  );
}

const tokenInput = (o: Onboarding, purpose: 'installer-download' | 'automation') => ({
  environmentId: o.id,
  purpose,
  validityDays: o.plan.tokens.installerValidityDays,
  rotateBeforeDays: o.plan.tokens.rotateBeforeDays,
});

/** The token every install of the environment downloads with: required, hosts cannot do without it. */
export function ensureInstallerToken(o: Onboarding) {
  return o.controls.step(
    'installer-token',
    () =>
      o.act.ensureEnvironmentToken.executeWithOptions({ summary: `Ensure InstallerDownload token of ${o.id}` }, [
        tokenInput(o, 'installer-download'),
      ]),
    (r) => `${r.action} ${r.tokenId}, expires ${r.expiresAt}`,
  );
}

/** Host verification and self-healing need it; onboarding can finish without it. */
export function ensureAutomationToken(o: Onboarding) {
  return o.controls.optionalStep(
    'automation-token',
    () =>
      o.act.ensureEnvironmentToken.executeWithOptions({ summary: `Ensure automation token of ${o.id}` }, [
        tokenInput(o, 'automation'),
      ]),
    (r) => `${r.action} ${r.tokenId}`,
  );
}

/** Downloaded once per version into the installer cache (304 on a re-run), signature checked. */
export function fetchInstaller(o: Onboarding) {
  return o.controls.optionalStep(
    'installer',
    () =>
      o.act.ensureInstaller.executeWithOptions(
        {
          summary: `Fetch the OneAgent installer for ${o.id}`,
          startToCloseTimeout: '30 minutes',
          heartbeatTimeout: HEARTBEAT_TIMEOUT,
        },
        [{ environmentId: o.id, arch: o.plan.enrollment.arch }],
      ),
    (r) => `${r.version} ${r.action}, sha256 ${r.sha256.slice(0, 12)}…, signature ${r.signature}`,
  );
}

/** The alerting profile and webhook of the self-healing loop. */
export function ensureProblemNotifications(o: Onboarding) {
  return o.controls.optionalStep(
    'notifications',
    () =>
      o.act.ensureProblemNotifications.executeWithOptions({ summary: `Ensure problem notifications of ${o.id}` }, [
        { environmentId: o.id },
      ]),
    (r) => `${r.status}: ${r.detail}`,
  );
}
