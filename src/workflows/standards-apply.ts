import {
  ApplicationFailure,
  condition,
  isCancellation,
  log,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { FailureType } from '../shared/failure-types.js';
import { AutopilotPhase } from '../shared/phases.js';
import { AUTOPILOT_PHASE } from '../shared/search-attributes.js';
import { standardsApplyInputSchema, type StandardsApplyInput, type StandardsApplyResult } from '../shared/standards.js';
import {
  decideEnvironmentUpdate,
  retryEnvironmentSignal,
  skipEnvironmentSignal,
  standardsProgressQuery,
  type EnvironmentDecision,
} from './shared/standards-signals.js';
import { StandardsApplyState } from './standards/standards-apply-state.js';
import {
  APPLY_BATCH,
  applyBatch,
  applyGroups,
  DEFAULT_APPLY_CONCURRENCY,
  DEFAULT_PLAN_CONCURRENCY,
  failureReason,
  plan,
  recordSet,
  standardsActivities,
} from './standards/standards-steps.js';

/**
 * Applies a standards set to every environment it targets: the set is recorded under its hash,
 * planned over the fleet, user groups granted once per group, then the environments with something
 * to write are written batch by batch within the global cap (each cluster's caps hold below it).
 * An environment whose cluster refuses an object waits for an operator's retry or skip with the
 * cluster's message while the others go on; the run ends when none is left waiting.
 */
export async function StandardsApply(rawInput: StandardsApplyInput): Promise<StandardsApplyResult> {
  const parsed = standardsApplyInputSchema.safeParse(rawInput);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(
      `Invalid StandardsApply input: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'input'} ${i.message}`).join('; ')}`,
      FailureType.InvalidWorkflowInput,
    );
  }
  const input = parsed.data;
  const { workflowId } = workflowInfo();
  const enforceOnly = input.purpose === 'drift';
  const state = new StandardsApplyState(workflowId, input.set.hash);
  let decided = 0;
  const decide = (decision: EnvironmentDecision) => {
    const environments = state.decide(decision);
    decided++;
    log.info('Operator decision', { action: decision.action, environments, reason: decision.reason });
    return { environments, action: decision.action };
  };
  setHandler(standardsProgressQuery, () => state.progress);
  setHandler(decideEnvironmentUpdate, (decision: EnvironmentDecision) => decide(decision), {
    validator: (decision: EnvironmentDecision) => state.validate(decision),
  });
  const fromSignal = (action: 'retry' | 'skip') => (args: { environmentId: string; reason?: string }) => {
    const decision = { ...args, action };
    try {
      state.validate(decision);
    } catch (err) {
      log.warn('Ignored operator signal', { action, why: (err as Error).message });
      return;
    }
    decide(decision);
  };
  setHandler(retryEnvironmentSignal, fromSignal('retry'));
  setHandler(skipEnvironmentSignal, fromSignal('skip'));
  const phase = (next: AutopilotPhase) => {
    if (state.progress.phase === next) return;
    state.setPhase(next);
    upsertSearchAttributes([{ key: AUTOPILOT_PHASE, value: next }]);
  };
  upsertSearchAttributes([{ key: AUTOPILOT_PHASE, value: AutopilotPhase.Running }]);

  setCurrentDetails(`Recording standards ${input.set.hash.slice(0, 12)} from ${input.set.origin.path}`);
  await recordSet(input.set);
  setCurrentDetails(`Planning standards ${input.set.hash.slice(0, 12)} over ${input.selector}`);
  const planned = await plan({
    setHash: input.set.hash,
    selector: input.selector,
    purpose: input.purpose ?? 'apply',
    concurrency: DEFAULT_PLAN_CONCURRENCY,
    enforceOnly,
  });
  state.planned(planned);
  const run = `${workflowId}/${workflowInfo().runId}`;
  if (!enforceOnly) {
    // From here on this set is what the fleet is held to, whatever the operator decides below.
    await standardsActivities.recordApplyStarted.executeWithOptions(
      { summary: `Hold the fleet to standards ${input.set.hash.slice(0, 12)} from now on` },
      [{ setHash: input.set.hash, selector: input.selector, run }],
    );
  }
  const hasGroups = input.set.standards.some((s) => s.kind === 'user-group');

  const grantGroups = async (environmentIds: string[]) => {
    if (!hasGroups || environmentIds.length === 0) return;
    try {
      for (const outcome of await applyGroups(input.set.hash, environmentIds, enforceOnly)) {
        if (outcome.outcome === 'needs-attention') state.groupsRefused(outcome);
        else state.groupsWritten(outcome);
      }
    } catch (err) {
      if (isCancellation(err)) throw err;
      state.failed(environmentIds, `user groups: ${failureReason(err)}`);
    }
  };
  await grantGroups(planned.changedEnvironments);

  // Batches in flight at once: the global cap in environments, written a batch per activity.
  const lanes = Math.max(1, Math.floor((input.concurrency ?? DEFAULT_APPLY_CONCURRENCY) / APPLY_BATCH));
  let inFlight = 0;
  const runBatch = async (environmentIds: string[]) => {
    inFlight++;
    try {
      for (const outcome of await applyBatch(input.set.hash, environmentIds, enforceOnly)) state.record(outcome);
    } catch (err) {
      if (isCancellation(err)) throw err;
      state.failed(environmentIds, failureReason(err));
    } finally {
      inFlight--;
      setCurrentDetails(details(state, input.set.hash));
    }
  };
  const running: Promise<void>[] = [];
  for (;;) {
    // Environments an operator sent back get their user groups again, then their batch.
    const retried = state.retried.splice(0);
    if (retried.length > 0) await grantGroups(retried);
    while (inFlight < lanes && state.hasPending) running.push(runBatch(state.takePending(APPLY_BATCH)));
    if (inFlight === 0 && !state.hasPending) {
      if (state.waiting === 0) break;
      phase(AutopilotPhase.NeedsAttention);
      setCurrentDetails(details(state, input.set.hash));
    }
    const seen = decided;
    const finishedBefore = inFlight;
    await condition(() => decided !== seen || inFlight < finishedBefore || (inFlight < lanes && state.hasPending));
    if (state.waiting === 0 || inFlight > 0 || state.hasPending) phase(AutopilotPhase.Running);
  }
  await Promise.all(running);

  if (!enforceOnly) {
    await standardsActivities.recordApplyFinished.executeWithOptions(
      { summary: `Record standards ${input.set.hash.slice(0, 12)} as applied` },
      [{ run, counts: state.progress.writes }],
    );
  }
  phase(AutopilotPhase.Completed);
  setCurrentDetails(`Done: ${details(state, input.set.hash)}`);
  return { ...state.progress, planId: run };
}

function details(state: StandardsApplyState, hash: string): string {
  const lines = [`**Standards ${hash.slice(0, 12)}** — ${state.progress.phase}`, '', state.summary()];
  if (state.progress.attention.length > 0) {
    lines.push('', '| Environment | Needs attention because |', '|---|---|');
    for (const a of state.progress.attention.slice(0, 20)) lines.push(`| ${a.environmentId} | ${a.reason} |`);
    lines.push(
      '',
      'Fix the cause, then send `retryEnvironment` or `skipEnvironment` with `{"environmentId": "…"}` ' +
        '(or `autopilot retry|skip <workflowId> --environment <id|*>`).',
    );
  }
  return lines.join('\n');
}
