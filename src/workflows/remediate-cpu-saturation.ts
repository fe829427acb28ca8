import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time.js';
import { FailureType } from '../shared/failure-types.js';
import { AutopilotPhase } from '../shared/phases.js';
import {
  remediationInputSchema,
  type RemediationInput,
  type RemediationOutcome,
  type RemediationResult,
} from '../shared/remediation.js';
import { DT_ENVIRONMENT_ID, DT_HOST } from '../shared/search-attributes.js';
import { ApprovalGate } from './remediation/approval-gate.js';
import { remediationComments as say } from './remediation/remediation-messages.js';
import { RemediationState, type RemediationCarried } from './remediation/remediation-state.js';
import * as steps from './remediation/remediation-steps.js';
import { autopilotActivities } from './shared/activity-proxies.js';
import { registerOperatorControls } from './shared/operator-controls.js';
import {
  approvalUpdate,
  approveSignal,
  problemNotificationSignal,
  rejectSignal,
  remediationStatusQuery,
  type ApprovalDecision,
} from './shared/remediation-signals.js';

export { COMMENT_MARKER } from './remediation/remediation-steps.js';
export type { RemediationCarried } from './remediation/remediation-state.js';

const STEPS = [
  { name: 'collect', title: 'Repeated CPU saturation' },
  { name: 'resolve', title: 'EC2 instance and Service Catalog product' },
  { name: 'plan', title: 'Next larger approved instance type', optional: true },
  { name: 'approval', title: 'Approval', optional: true },
  { name: 'roll', title: 'New product version' },
  { name: 'comment', title: 'Comments on the problems', optional: true },
];

const ms = (d: string) => msToNumber(d as Duration);

/**
 * Self-healing of one host: Dynatrace notifications about it arrive as signals (de-duplicated by
 * problem and state), each is checked against the problems API, and when enough distinct CPU
 * saturation problems fall within the window, the host's Service Catalog product gets one new
 * version with the next larger approved instance type (optionally after approval). Every problem
 * of the episode gets a comment saying what was done; a cooldown then stops the ladder from being
 * climbed again before new launches.
 */
export async function RemediateCpuSaturation(
  rawInput: RemediationInput,
  carried?: RemediationCarried,
): Promise<RemediationResult> {
  const parsed = remediationInputSchema.safeParse(rawInput);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(
      `Invalid RemediateCpuSaturation input: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`,
      FailureType.InvalidWorkflowInput,
    );
  }
  const { environmentId, hostEntityId, policy } = parsed.data;
  const state = new RemediationState(carried);
  const approval = new ApprovalGate();
  const controls = registerOperatorControls(STEPS, {
    subject: `CPU saturation remediation of ${hostEntityId} in ${environmentId}`,
  });
  setHandler(problemNotificationSignal, (notification) => state.receive(notification));
  setHandler(approveSignal, (args) => approval.receive('approve', args));
  setHandler(rejectSignal, (args) => approval.receive('reject', args));
  setHandler(
    approvalUpdate,
    (decision, args) => {
      approval.receive(decision, args);
      return { decision };
    },
    {
      validator: (decision: 'approve' | 'reject', _args?: ApprovalDecision) => {
        const refusal = approval.refusal(decision, hostEntityId);
        if (refusal) throw new Error(refusal);
      },
    },
  );
  setHandler(remediationStatusQuery, () => state.status(controls.progress.phase, policy.threshold, approval.waiting));

  upsertSearchAttributes([
    { key: DT_ENVIRONMENT_ID, value: environmentId },
    { key: DT_HOST, value: state.hostLabel(hostEntityId) },
  ]);
  controls.setPhase(AutopilotPhase.Waiting);
  const act = autopilotActivities<steps.RemediationActivities>({ apiCall: '1 minute', retryWindow: '15 minutes' });
  const r: steps.Remediation = { environmentId, hostEntityId, policy, state, controls, act };
  const host = () => state.hostLabel(hostEntityId);
  const finish = (outcome: RemediationOutcome, reason: string): RemediationResult => {
    const skipped = outcome === 'skipped' || outcome === 'rejected';
    controls.setPhase(skipped ? AutopilotPhase.Skipped : AutopilotPhase.Completed);
    return state.finish({ environmentId, hostEntityId }, outcome, reason);
  };
  const continueAsNewWhenLong = async () => {
    if (workflowInfo().historyLength >= policy.historyLimit || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof RemediateCpuSaturation>(rawInput, state.carried);
    }
  };

  if (state.carried.stage === 'collecting') {
    // --- collect until enough distinct problems fall within the window ---------------------------
    const window = ms(policy.window);
    for (;;) {
      await continueAsNewWhenLong();
      for (let n = state.nextPending(); n; n = state.nextPending()) {
        const occurrence = await steps.validateNotification(r, n);
        if (!occurrence || !state.count(occurrence) || state.carried.context) continue;
        const context = await steps.resolveCatalogContext(r);
        if (!context.ok) {
          await steps.commentOnProblems(r, [occurrence.problemId], say.cannotResize(host(), context.reason));
          return finish('not-remediable', context.reason);
        }
        state.carried.context = context;
      }
      const counted = state.withinWindow(window);
      controls.note('collect', `${counted} of ${policy.threshold} within ${policy.window}`);
      if (counted >= policy.threshold) break;
      if (counted === 0) {
        const last = state.carried.ignored.at(-1);
        return finish('quiet', `no CPU saturation to act on${last ? `: ${last.reason}` : ''}`);
      }
      const arrived = await condition(() => state.hasPending, Math.max(1, state.windowClosesAt(window) - Date.now()));
      if (!arrived && state.allOutside(window) && !state.hasPending) {
        return finish('quiet', `fewer than ${policy.threshold} CPU saturation problems within ${policy.window}`);
      }
    }
    const { problemIds, displayIds } = state.episode();
    controls.complete('collect', `${problemIds.length} problems within ${policy.window}: ${displayIds}`);
    controls.setPhase(AutopilotPhase.Running);

    // --- plan, approve, roll --------------------------------------------------------------------
    const context = state.carried.context!;
    const plan = await steps.planInstanceTypeRoll(r, context);
    if (!plan) {
      await steps.commentOnProblems(r, problemIds, say.skippedByOperator(host(), displayIds));
      return finish('skipped', 'the resize was skipped by an operator');
    }
    const refused = await steps.awaitApproval(r, approval, plan, context.productId);
    if (refused) return finish(refused.outcome, refused.reason);
    const rolled = await steps.rollNewVersion(r, context, plan);
    state.carried.artifact = rolled;
    await steps.commentOnProblems(
      r,
      problemIds,
      rolled.created
        ? say.created(host(), displayIds, policy.window, rolled, policy.deprecatePrevious)
        : say.alreadyExisted(host(), displayIds, rolled),
    );
    state.carried.stage = 'cooldown';
    state.carried.cooldownUntil = Date.now() + ms(policy.cooldown);
    state.carried.outcome = rolled.created ? 'remediated' : 'already-remediated';
  }

  // --- cooldown: later saturation is answered, not acted on -------------------------------------
  controls.setPhase(AutopilotPhase.Waiting);
  const artifact = state.carried.artifact!;
  const until = state.carried.cooldownUntil!;
  for (;;) {
    await continueAsNewWhenLong();
    for (let n = state.nextPending(); n; n = state.nextPending()) {
      const occurrence = await steps.validateNotification(r, n);
      if (occurrence)
        await steps.commentOnProblems(
          r,
          [occurrence.problemId],
          say.duringCooldown(host(), artifact, new Date(until).toISOString()),
        );
    }
    const remaining = until - Date.now();
    if (remaining <= 0) break;
    await condition(() => state.hasPending, remaining);
  }
  return finish(
    state.carried.outcome ?? 'remediated',
    `${artifact.created ? 'created' : 'found'} version ${artifact.artifactId} of ${artifact.productId} with ${artifact.toType} (was ${artifact.fromType})`,
  );
}
