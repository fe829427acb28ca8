import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  log,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time.js';
import type { CatalogContext } from '../activities/remediation/resolve-catalog-context.js';
import type { createRemediationActivities } from '../activities/remediation/index.js';
import { AutopilotPhase } from '../shared/phases.js';
import {
  remediationInputSchema,
  rolledArtifactName,
  type IgnoredNotification,
  type Occurrence,
  type ProblemNotification,
  type RemediationInput,
  type RemediationOutcome,
  type RemediationResult,
  type RemediationStatus,
  type RolledArtifact,
} from '../shared/remediation.js';
import { DT_ENVIRONMENT_ID, DT_HOST, DT_PROBLEM_ID } from '../shared/search-attributes.js';
import { OperatorControls, SKIPPED } from './shared/operator-controls.js';
import {
  approvalUpdate,
  approveSignal,
  problemNotificationSignal,
  rejectSignal,
  remediationStatusQuery,
  type ApprovalDecision,
} from './shared/remediation-signals.js';
import { FailureType } from '../shared/failure-types.js';

type Activities = ReturnType<typeof createRemediationActivities>;

const STEPS = [
  { name: 'collect', title: 'Repeated CPU saturation' },
  { name: 'resolve', title: 'EC2 instance and Service Catalog product' },
  { name: 'plan', title: 'Next larger approved instance type', optional: true },
  { name: 'approval', title: 'Approval', optional: true },
  { name: 'roll', title: 'New product version' },
  { name: 'comment', title: 'Comments on the problems', optional: true },
];

/** Every comment of ours carries this context, so each problem gets one. */
export const COMMENT_MARKER = 'dynatrace-autopilot';

/** State a noisy host's remediation carries into its next run. */
export interface RemediationCarried {
  seen: string[];
  pending: ProblemNotification[];
  occurrences: Occurrence[];
  ignored: IgnoredNotification[];
  hostName?: string;
  context?: Extract<CatalogContext, { ok: true }>;
  stage: 'collecting' | 'cooldown';
  cooldownUntil?: number;
  artifact?: RolledArtifact;
  outcome?: RemediationOutcome;
  reason?: string;
  commented: string[];
}

const ms = (d: string) => msToNumber(d as Duration);
const MAX_SEEN = 500;
const MAX_IGNORED = 100;

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
  const state: RemediationCarried = carried ?? {
    seen: [],
    pending: [],
    occurrences: [],
    ignored: [],
    stage: 'collecting',
    commented: [],
  };
  const controls = new OperatorControls(STEPS, {
    subject: `CPU saturation remediation of ${hostEntityId} in ${environmentId}`,
  });
  let awaitingApproval = false;
  let approval: { decision: 'approve' | 'reject'; by?: string; reason?: string } | undefined;

  setHandler(problemNotificationSignal, (notification: ProblemNotification) => {
    const key = `${notification.problemId}:${notification.state}`;
    if (state.seen.includes(key)) return;
    state.seen.push(key);
    if (state.seen.length > MAX_SEEN) state.seen.splice(0, state.seen.length - MAX_SEEN);
    state.pending.push(notification);
  });
  const decide = (decision: 'approve' | 'reject', args?: ApprovalDecision) => {
    if (!awaitingApproval || approval) return;
    approval = { decision, ...args };
  };
  setHandler(approveSignal, (args) => decide('approve', args));
  setHandler(rejectSignal, (args) => decide('reject', args));
  setHandler(
    approvalUpdate,
    (decision, args) => {
      decide(decision, args);
      return { decision };
    },
    {
      validator: (decision: 'approve' | 'reject', _args?: ApprovalDecision) => {
        if (decision !== 'approve' && decision !== 'reject') throw new Error('the decision is approve or reject');
        if (!awaitingApproval) throw new Error(`the remediation of ${hostEntityId} is not waiting for approval`);
        if (approval) throw new Error(`the remediation of ${hostEntityId} was already ${approval.decision}d`);
      },
    },
  );
  setHandler(remediationStatusQuery, (): RemediationStatus => ({
    phase: controls.progress.phase,
    ...(state.hostName ? { hostName: state.hostName } : {}),
    occurrences: state.occurrences,
    ignored: state.ignored,
    threshold: policy.threshold,
    awaitingApproval,
    ...(state.cooldownUntil ? { cooldownUntil: new Date(state.cooldownUntil).toISOString() } : {}),
    ...(state.artifact ? { artifact: state.artifact } : {}),
    ...(state.outcome ? { outcome: state.outcome } : {}),
  }));

  const hostLabel = () => state.hostName ?? hostEntityId;
  upsertSearchAttributes([
    { key: DT_ENVIRONMENT_ID, value: environmentId },
    { key: DT_HOST, value: state.hostName ?? hostEntityId },
  ]);
  controls.setPhase(AutopilotPhase.Waiting);

  const act = proxyActivities<Activities>({
    startToCloseTimeout: '1 minute',
    scheduleToCloseTimeout: '15 minutes',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
  });

  const ignore = (n: ProblemNotification, reason: string) => {
    state.ignored.push({ problemId: n.problemId, state: n.state, reason });
    if (state.ignored.length > MAX_IGNORED) state.ignored.splice(0, state.ignored.length - MAX_IGNORED);
    log.info('Notification recorded without action', { problemId: n.problemId, state: n.state, reason });
  };

  const comment = async (problemIds: string[], message: string) => {
    const fresh = problemIds.filter((id) => !state.commented.includes(id));
    if (fresh.length === 0) return;
    const done = await controls.step(
      'comment',
      () =>
        act.commentOnProblems.executeWithOptions({ summary: `Comment on ${fresh.length} problem(s)` }, [
          { environmentId, problemIds: fresh, message, marker: COMMENT_MARKER },
        ]),
      (r) => `${r.commented.length + r.alreadyCommented.length} problem(s) commented`,
    );
    if (done !== SKIPPED) state.commented.push(...done.commented, ...done.alreadyCommented);
  };

  const finish = (outcome: RemediationOutcome, reason: string): RemediationResult => {
    state.outcome = outcome;
    state.reason = reason;
    controls.setPhase(
      outcome === 'skipped' || outcome === 'rejected' ? AutopilotPhase.Skipped : AutopilotPhase.Completed,
    );
    return {
      environmentId,
      hostEntityId,
      ...(state.hostName ? { hostName: state.hostName } : {}),
      outcome,
      reason,
      occurrences: state.occurrences,
      ignored: state.ignored,
      ...(state.artifact ? { artifact: state.artifact } : {}),
      commented: state.commented,
    };
  };

  const maybeContinueAsNew = async () => {
    if (workflowInfo().historyLength >= policy.historyLimit || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof RemediateCpuSaturation>(rawInput, state);
    }
  };

  /** Checks one OPEN notification against the API; returns the occurrence, or records why not. */
  const validate = async (n: ProblemNotification): Promise<Occurrence | undefined> => {
    if (n.state !== 'OPEN') {
      ignore(n, `${n.state} notification: nothing to do`);
      return undefined;
    }
    const checked = await controls.step(
      'collect',
      () =>
        act.validateProblemOccurrence.executeWithOptions(
          { summary: `Validate problem ${n.displayId ?? n.problemId}` },
          [{ environmentId, problemId: n.problemId, hostEntityId, cpuEventTypes: policy.cpuEventTypes }],
        ),
      undefined,
      { keepRunning: true },
    );
    if (checked === SKIPPED) return undefined;
    if (!checked.valid) {
      ignore(n, checked.reason);
      return undefined;
    }
    if (!state.hostName) {
      state.hostName = checked.hostName;
      upsertSearchAttributes([{ key: DT_HOST, value: checked.hostName }]);
    }
    upsertSearchAttributes([{ key: DT_PROBLEM_ID, value: checked.problemId }]);
    return { problemId: checked.problemId, displayId: checked.displayId, at: Date.now() };
  };

  // --- collect until enough distinct problems fall within the window ---------------------------
  if (state.stage === 'collecting') {
    for (;;) {
      await maybeContinueAsNew();
      while (state.pending.length > 0) {
        const occurrence = await validate(state.pending.shift()!);
        if (!occurrence || state.occurrences.some((o) => o.problemId === occurrence.problemId)) continue;
        state.occurrences.push(occurrence);
        if (!state.context) {
          const context = await controls.step(
            'resolve',
            () =>
              act.resolveCatalogContext.executeWithOptions(
                { summary: `Find the EC2 instance and product of ${hostLabel()}` },
                [{ environmentId, hostEntityId }],
              ),
            (r) =>
              r.ok
                ? `${r.instanceId} (${r.instanceType}) of ${r.productId}, version ${r.provisioningArtifactId}`
                : r.reason,
          );
          if (context === SKIPPED) return finish('skipped', 'skipped by operator');
          if (!context.ok) {
            await comment(
              [occurrence.problemId],
              `Dynatrace Autopilot cannot resize ${hostLabel()}: ${context.reason}.`,
            );
            return finish('not-remediable', context.reason);
          }
          state.context = context;
        }
      }
      state.occurrences = state.occurrences.filter((o) => Date.now() - o.at < ms(policy.window));
      controls.note('collect', `${state.occurrences.length} of ${policy.threshold} within ${policy.window}`);
      if (state.occurrences.length >= policy.threshold) break;
      if (state.occurrences.length === 0) {
        return finish(
          'quiet',
          state.ignored.length
            ? `no CPU saturation to act on: ${state.ignored.at(-1)!.reason}`
            : 'no CPU saturation to act on',
        );
      }
      const oldest = Math.min(...state.occurrences.map((o) => o.at));
      const arrived = await condition(
        () => state.pending.length > 0,
        Math.max(1, oldest + ms(policy.window) - Date.now()),
      );
      if (
        !arrived &&
        state.occurrences.every((o) => Date.now() - o.at >= ms(policy.window)) &&
        state.pending.length === 0
      ) {
        return finish('quiet', `fewer than ${policy.threshold} CPU saturation problems within ${policy.window}`);
      }
    }
    controls.complete(
      'collect',
      `${state.occurrences.length} problems within ${policy.window}: ${state.occurrences.map((o) => o.displayId).join(', ')}`,
    );
    controls.setPhase(AutopilotPhase.Running);

    // --- plan, approve, roll --------------------------------------------------------------------
    const context = state.context!;
    const episode = state.occurrences.map((o) => o.problemId);
    const displayIds = state.occurrences.map((o) => o.displayId).join(', ');
    const plan = await controls.step(
      'plan',
      () =>
        act.planInstanceTypeRoll.executeWithOptions(
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
    if (plan === SKIPPED) {
      await comment(
        episode,
        `Dynatrace Autopilot: CPU kept saturating on ${hostLabel()} (${displayIds}); an operator decided not to resize it.`,
      );
      return finish('skipped', 'the resize was skipped by an operator');
    }

    if (policy.approval === 'required' && !plan.existingArtifactId) {
      awaitingApproval = true;
      controls.note(
        'approval',
        `${plan.runningType} → ${plan.targetType} for product ${context.productId}: send approve or reject`,
      );
      controls.setPhase(AutopilotPhase.AwaitingApproval);
      const decided = await condition(() => approval !== undefined, policy.approvalTimeout);
      awaitingApproval = false;
      if (!decided) {
        controls.complete('approval', `expired after ${policy.approvalTimeout}`);
        await comment(
          episode,
          `Dynatrace Autopilot proposed a larger instance type for ${hostLabel()} (${plan.runningType} → ${plan.targetType}) after repeated CPU saturation (${displayIds}), but nobody approved it within ${policy.approvalTimeout}: nothing was changed.`,
        );
        return finish('approval-expired', `no approval within ${policy.approvalTimeout}`);
      }
      if (approval!.decision === 'reject') {
        controls.complete(
          'approval',
          `rejected${approval!.by ? ` by ${approval!.by}` : ''}${approval!.reason ? `: ${approval!.reason}` : ''}`,
        );
        await comment(
          episode,
          `Dynatrace Autopilot proposed ${plan.runningType} → ${plan.targetType} for ${hostLabel()} after repeated CPU saturation (${displayIds}); the change was rejected${approval!.by ? ` by ${approval!.by}` : ''}${approval!.reason ? ` (${approval!.reason})` : ''}. Nothing was changed.`,
        );
        return finish('rejected', `rejected${approval!.reason ? `: ${approval!.reason}` : ''}`);
      }
      controls.complete('approval', `approved${approval!.by ? ` by ${approval!.by}` : ''}`);
      controls.setPhase(AutopilotPhase.Running);
    } else {
      controls.skipBecause(
        'approval',
        policy.approval === 'auto' ? 'not required (REMEDIATION_APPROVAL=auto)' : 'the version already exists',
      );
    }

    const rolled = await controls.step(
      'roll',
      async (): Promise<RolledArtifact> => {
        if (plan.existingArtifactId) {
          return {
            productId: context.productId,
            artifactId: plan.existingArtifactId,
            name: plan.existingArtifactName ?? rolledArtifactName(plan.targetType),
            fromType: plan.runningType,
            toType: plan.targetType,
            previousArtifactId: plan.sourceArtifactId,
            created: false,
          };
        }
        const created = await act.createRolledArtifact.executeWithOptions(
          { summary: `Create version with ${plan.targetType} of ${context.productId}` },
          [{ productId: context.productId, plan }],
        );
        await act.awaitArtifactAvailable.executeWithOptions(
          {
            summary: `Wait for ${created.artifactId} to become AVAILABLE`,
            startToCloseTimeout: '15 minutes',
            heartbeatTimeout: '10 seconds',
          },
          [{ productId: context.productId, artifactId: created.artifactId }],
        );
        if (policy.deprecatePrevious) {
          await act.deprecateArtifact.executeWithOptions({ summary: `Deprecate ${plan.sourceArtifactId}` }, [
            { productId: context.productId, artifactId: plan.sourceArtifactId },
          ]);
        }
        return {
          productId: context.productId,
          artifactId: created.artifactId,
          name: created.name,
          fromType: plan.runningType,
          toType: plan.targetType,
          previousArtifactId: plan.sourceArtifactId,
          created: true,
        };
      },
      (r) => `${r.created ? 'created' : 'found'} ${r.artifactId} (${r.toType})`,
    );
    if (rolled === SKIPPED) throw new Error('unreachable: the roll step is required');
    state.artifact = rolled;
    await comment(
      episode,
      rolled.created
        ? `Dynatrace Autopilot: CPU saturated repeatedly on ${hostLabel()} (${displayIds} within ${policy.window}). Created version "${rolled.name}" (${rolled.artifactId}) of Service Catalog product ${rolled.productId}: instance type ${rolled.fromType} → ${rolled.toType}${policy.deprecatePrevious ? `; version ${rolled.previousArtifactId} is deprecated` : ''}. New launches get ${rolled.toType}; running instances keep their size until they are updated to the new version.`
        : `Dynatrace Autopilot: CPU saturated repeatedly on ${hostLabel()} (${displayIds}). Product ${rolled.productId} already has version ${rolled.artifactId} with ${rolled.toType} (created for this size step before); no new version was needed. Update the instance to that version to get the larger size.`,
    );
    state.stage = 'cooldown';
    state.cooldownUntil = Date.now() + ms(policy.cooldown);
    state.outcome = rolled.created ? 'remediated' : 'already-remediated';
  }

  // --- cooldown: later saturation is answered, not acted on -------------------------------------
  controls.setPhase(AutopilotPhase.Waiting);
  for (;;) {
    await maybeContinueAsNew();
    while (state.pending.length > 0) {
      const occurrence = await validate(state.pending.shift()!);
      if (occurrence && state.artifact) {
        await comment(
          [occurrence.problemId],
          `Dynatrace Autopilot: ${hostLabel()} already got a larger size: version ${state.artifact.artifactId} (${state.artifact.toType}) of product ${state.artifact.productId}. Running instances keep their size until they are updated; no further step is taken before ${new Date(state.cooldownUntil!).toISOString()}.`,
        );
      }
    }
    const remaining = state.cooldownUntil! - Date.now();
    if (remaining <= 0) break;
    await condition(() => state.pending.length > 0, remaining);
  }
  const artifact = state.artifact!;
  return finish(
    state.outcome ?? 'remediated',
    `${artifact.created ? 'created' : 'found'} version ${artifact.artifactId} of ${artifact.productId} with ${artifact.toType} (was ${artifact.fromType})`,
  );
}
