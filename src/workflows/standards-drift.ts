import { isCancellation, setCurrentDetails, workflowInfo } from '@temporalio/workflow';
import type { EnvironmentApplyOutcome, StandardsDriftInput, StandardsDriftReport } from '../shared/standards.js';
import {
  APPLY_BATCH,
  applyBatch,
  applyGroups,
  DEFAULT_APPLY_CONCURRENCY,
  DEFAULT_PLAN_CONCURRENCY,
  failureReason,
  plan,
  standardsActivities,
} from './standards/standards-steps.js';

/**
 * An apply still running this long (waiting for an operator) no longer holds drift checks back: its
 * set is the one the fleet is held to either way.
 */
const APPLY_QUIET_MINUTES = 60;

/**
 * One run of the `standards-drift` schedule: the set applied last is planned again over the fleet;
 * every difference is recorded as drift, `enforce` standards are written back at once and `report`
 * ones only recorded. A refusal is counted and stays recorded (an operator's `apply` deals with it):
 * a schedule does not wait for people, and the next run checks again.
 */
export async function StandardsDrift(input: StandardsDriftInput = {}): Promise<StandardsDriftReport> {
  const checkedAt = new Date().toISOString();
  const report: StandardsDriftReport = {
    checkedAt,
    environments: 0,
    drifted: 0,
    reapplied: 0,
    reported: 0,
    needsAttention: 0,
  };
  const last = await standardsActivities.standardsToHold.executeWithOptions(
    { summary: 'Find the standards applied last' },
    [{ quietMinutes: APPLY_QUIET_MINUTES }],
  );
  if (!last) {
    setCurrentDetails('No standards were ever applied: nothing to hold the fleet to');
    return report;
  }
  if (last.applying) {
    report.setHash = last.setHash;
    report.skippedFor = last.applying;
    setCurrentDetails(`Standards ${last.setHash.slice(0, 12)} are being applied by ${last.applying}: checked after it`);
    return report;
  }
  report.setHash = last.setHash;
  setCurrentDetails(`Checking standards ${last.setHash.slice(0, 12)} over ${last.selector}`);
  const planned = await plan({
    setHash: last.setHash,
    selector: last.selector,
    purpose: 'drift',
    concurrency: input.concurrency ?? DEFAULT_PLAN_CONCURRENCY,
    enforceOnly: true,
  });
  report.environments = planned.counts.environments;
  report.drifted = planned.driftedEnvironments;
  report.reported = planned.driftedEnvironments - planned.changedEnvironments.length;

  const outcomes = new Map<string, EnvironmentApplyOutcome>();
  const keep = (o: EnvironmentApplyOutcome) => {
    const before = outcomes.get(o.environmentId);
    outcomes.set(o.environmentId, before?.outcome === 'needs-attention' ? before : o);
  };
  const changed = planned.changedEnvironments;
  if (changed.length > 0) {
    try {
      (await applyGroups(last.setHash, changed, true)).forEach(keep);
    } catch (err) {
      if (isCancellation(err)) throw err;
      for (const id of changed) keep(refusal(id, `user groups: ${failureReason(err)}`));
    }
  }
  const batches: string[][] = [];
  for (let i = 0; i < changed.length; i += APPLY_BATCH) batches.push(changed.slice(i, i + APPLY_BATCH));
  const lanes = Math.max(1, Math.floor(DEFAULT_APPLY_CONCURRENCY / APPLY_BATCH));
  for (let i = 0; i < batches.length; i += lanes) {
    await Promise.all(
      batches.slice(i, i + lanes).map(async (batch) => {
        try {
          (await applyBatch(last.setHash, batch, true)).forEach(keep);
        } catch (err) {
          if (isCancellation(err)) throw err;
          for (const id of batch) keep(refusal(id, failureReason(err)));
        }
      }),
    );
  }
  const fixed = changed.filter((id) => outcomes.get(id)?.outcome !== 'needs-attention');
  report.reapplied = fixed.length;
  report.needsAttention = changed.length - fixed.length;
  if (fixed.length > 0) {
    await standardsActivities.resolveReappliedDrift.executeWithOptions(
      { summary: `Resolve the drift re-applied in ${fixed.length} environment(s)` },
      [{ environmentIds: fixed }],
    );
  }
  setCurrentDetails(
    `Standards ${last.setHash.slice(0, 12)} checked in ${report.environments} environment(s) (${workflowInfo().workflowId}): ` +
      `${report.drifted} drifted, ${report.reapplied} re-applied, ${report.reported} reported only, ` +
      `${report.needsAttention} need attention`,
  );
  return report;
}

const refusal = (environmentId: string, reason: string): EnvironmentApplyOutcome => ({
  environmentId,
  outcome: 'needs-attention',
  created: 0,
  updated: 0,
  deleted: 0,
  reason,
});
