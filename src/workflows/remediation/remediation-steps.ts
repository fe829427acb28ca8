import { condition, upsertSearchAttributes, type ActivityInterfaceFor } from '@temporalio/workflow';
import type { createRemediationActivities } from '../../activities/remediation/index.js';
import type { CatalogContext } from '../../activities/remediation/resolve-catalog-context.js';
import type { RollPlan } from '../../activities/remediation/plan-roll.js';
import { AutopilotPhase } from '../../shared/phases.js';
import type {
  Occurrence,
  ProblemNotification,
  RemediationOutcome,
  RemediationPolicy,
  RolledArtifact,
} from '../../shared/remediation.js';
import { rolledArtifactName } from '../../shared/remediation.js';
import { DT_HOST, DT_PROBLEM_ID } from '../../shared/search-attributes.js';
import type { OperatorControls } from '../shared/operator-controls.js';
import type { ApprovalGate } from './approval-gate.js';
import { remediationComments as say } from './remediation-messages.js';
import type { RemediationState } from './remediation-state.js';

export type RemediationActivities = ReturnType<typeof createRemediationActivities>;

/** Every comment of ours carries this context, so each problem gets one. */
export const COMMENT_MARKER = 'dynatrace-autopilot';

/** One host's remediation as its steps see it. */
export interface Remediation {
  environmentId: string;
  hostEntityId: string;
  policy: RemediationPolicy;
  state: RemediationState;
  controls: OperatorControls;
  act: ActivityInterfaceFor<RemediationActivities>;
}

/** Checks one notification against the API; returns the occurrence, or records why it does not count. */
export async function validateNotification(r: Remediation, n: ProblemNotification): Promise<Occurrence | undefined> {
  if (n.state !== 'OPEN') {
    r.state.ignore(n, `${n.state} notification: nothing to do`);
    return undefined;
  }
  const checked = await r.controls.step(
    'collect',
    () =>
      r.act.validateProblemOccurrence.executeWithOptions(
        { summary: `Validate problem ${n.displayId ?? n.problemId}` },
        [
          {
            environmentId: r.environmentId,
            problemId: n.problemId,
            hostEntityId: r.hostEntityId,
            cpuEventTypes: r.policy.cpuEventTypes,
          },
        ],
      ),
    undefined,
    { keepRunning: true },
  );
  if (!checked.valid) {
    r.state.ignore(n, checked.reason);
    return undefined;
  }
  if (!r.state.carried.hostName) {
    r.state.carried.hostName = checked.hostName;
    upsertSearchAttributes([{ key: DT_HOST, value: checked.hostName }]);
  }
  upsertSearchAttributes([{ key: DT_PROBLEM_ID, value: checked.problemId }]);
  return { problemId: checked.problemId, displayId: checked.displayId, at: Date.now() };
}

/** Host → EC2 instance → the Service Catalog product and version it was launched from. */
export function resolveCatalogContext(r: Remediation): Promise<CatalogContext> {
  return r.controls.step(
    'resolve',
    () =>
      r.act.resolveCatalogContext.executeWithOptions(
        { summary: `Find the EC2 instance and product of ${r.state.hostLabel(r.hostEntityId)}` },
        [{ environmentId: r.environmentId, hostEntityId: r.hostEntityId }],
      ),
    (c) =>
      c.ok ? `${c.instanceId} (${c.instanceType}) of ${c.productId}, version ${c.provisioningArtifactId}` : c.reason,
  );
}

/** The next larger approved type; undefined when an operator skipped the resize. */
export function planInstanceTypeRoll(
  r: Remediation,
  context: Extract<CatalogContext, { ok: true }>,
): Promise<RollPlan | undefined> {
  return r.controls.optionalStep(
    'plan',
    () =>
      r.act.planInstanceTypeRoll.executeWithOptions(
        { summary: `Next approved instance type after ${context.instanceType}` },
        [
          {
            productId: context.productId,
            provisioningArtifactId: context.provisioningArtifactId,
            instanceType: context.instanceType,
          },
        ],
      ),
    (p) =>
      `${p.runningType} → ${p.targetType}${p.existingArtifactId ? ` (version ${p.existingArtifactId} already exists)` : ''}`,
  );
}

/** One new version with the edited template (deterministic token), AVAILABLE, the old one deprecated. */
export function rollNewVersion(
  r: Remediation,
  context: Extract<CatalogContext, { ok: true }>,
  plan: RollPlan,
): Promise<RolledArtifact> {
  const { productId } = context;
  return r.controls.step(
    'roll',
    async (): Promise<RolledArtifact> => {
      const rolled = {
        productId,
        fromType: plan.runningType,
        toType: plan.targetType,
        previousArtifactId: plan.sourceArtifactId,
      };
      if (plan.existingArtifactId) {
        const name = plan.existingArtifactName ?? rolledArtifactName(plan.targetType);
        return { ...rolled, artifactId: plan.existingArtifactId, name, created: false };
      }
      const created = await r.act.createRolledArtifact.executeWithOptions(
        { summary: `Create version with ${plan.targetType} of ${productId}` },
        [{ productId, plan }],
      );
      await r.act.awaitArtifactAvailable.executeWithOptions(
        {
          summary: `Wait for ${created.artifactId} to become AVAILABLE`,
          startToCloseTimeout: '15 minutes',
          heartbeatTimeout: '10 seconds',
        },
        [{ productId, artifactId: created.artifactId }],
      );
      if (r.policy.deprecatePrevious) {
        await r.act.deprecateArtifact.executeWithOptions({ summary: `Deprecate ${plan.sourceArtifactId}` }, [
          { productId, artifactId: plan.sourceArtifactId },
        ]);
      }
      return { ...rolled, artifactId: created.artifactId, name: created.name, created: true };
    },
    (a) => `${a.created ? 'created' : 'found'} ${a.artifactId} (${a.toType})`,
  );
}

/** Comments on the problems not commented on yet (an operator may skip this). */
export async function commentOnProblems(r: Remediation, problemIds: string[], message: string): Promise<void> {
  const fresh = r.state.uncommented(problemIds);
  if (fresh.length === 0) return;
  const done = await r.controls.optionalStep(
    'comment',
    () =>
      r.act.commentOnProblems.executeWithOptions({ summary: `Comment on ${fresh.length} problem(s)` }, [
        { environmentId: r.environmentId, problemIds: fresh, message, marker: COMMENT_MARKER },
      ]),
    (c) => `${c.commented.length + c.alreadyCommented.length} problem(s) commented`,
  );
  if (done) r.state.commented([...done.commented, ...done.alreadyCommented]);
}

/**
 * With REMEDIATION_APPROVAL=required a new version waits for a person (durably). Returns how the
 * remediation ends when it must not roll: rejected, or nobody answered in time.
 */
export async function awaitApproval(
  r: Remediation,
  gate: ApprovalGate,
  plan: RollPlan,
  productId: string,
): Promise<{ outcome: RemediationOutcome; reason: string } | undefined> {
  const { controls, policy } = r;
  if (policy.approval !== 'required' || plan.existingArtifactId) {
    const why = policy.approval === 'auto' ? 'not required (REMEDIATION_APPROVAL=auto)' : 'the version already exists';
    controls.skipBecause('approval', why);
    return undefined;
  }
  gate.waiting = true;
  controls.note(
    'approval',
    `${plan.runningType} → ${plan.targetType} for product ${productId}: send approve or reject`,
  );
  controls.setPhase(AutopilotPhase.AwaitingApproval);
  const decided = await condition(() => gate.decided !== undefined, policy.approvalTimeout);
  gate.waiting = false;
  const { problemIds, displayIds } = r.state.episode();
  const host = r.state.hostLabel(r.hostEntityId);
  if (!decided) {
    controls.complete('approval', `expired after ${policy.approvalTimeout}`);
    await commentOnProblems(r, problemIds, say.approvalExpired(host, plan, displayIds, policy.approvalTimeout));
    return { outcome: 'approval-expired', reason: `no approval within ${policy.approvalTimeout}` };
  }
  const { decision, by, reason } = gate.decided!;
  if (decision === 'reject') {
    controls.complete('approval', `rejected${by ? ` by ${by}` : ''}${reason ? `: ${reason}` : ''}`);
    await commentOnProblems(r, problemIds, say.rejected(host, plan, displayIds, by, reason));
    return { outcome: 'rejected', reason: `rejected${reason ? `: ${reason}` : ''}` };
  }
  controls.complete('approval', `approved${by ? ` by ${by}` : ''}`);
  controls.setPhase(AutopilotPhase.Running);
  return undefined;
}
