import { ActivityFailure, ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import type { createStandardsActivities } from '../../activities/standards/index.js';
import type { EnvironmentApplyOutcome, StandardsPlanSummary } from '../../shared/standards.js';
import { autopilotActivities } from '../shared/activity-proxies.js';

type StandardsActivities = ReturnType<typeof createStandardsActivities>;

/** Environments one apply activity writes; its heartbeat covers them all. */
export const APPLY_BATCH = 25;
export const DEFAULT_APPLY_CONCURRENCY = 100;
export const DEFAULT_PLAN_CONCURRENCY = 200;

const act = autopilotActivities<StandardsActivities>({ apiCall: '1 minute', retryWindow: '10 minutes' });
// One listing per environment across the fleet: minutes at thousands of environments.
const { planStandards } = autopilotActivities<StandardsActivities>(
  { apiCall: '20 minutes', retryWindow: '1 hour' },
  { maximumRetryInterval: '1 minute', heartbeatTimeout: '30 seconds' },
);
const { applyStandards, applyUserGroupStandards } = autopilotActivities<StandardsActivities>(
  { apiCall: '15 minutes', retryWindow: '30 minutes' },
  { maximumRetryInterval: '1 minute', heartbeatTimeout: '30 seconds' },
);

export { act as standardsActivities };

/** Stores the set under its hash (checked as the CLI checks a folder) so every later step names it by hash. */
export function recordSet(set: Parameters<StandardsActivities['recordStandardsSet']>[0]['set']) {
  return act.recordStandardsSet.executeWithOptions(
    { summary: `Record standards ${set.hash.slice(0, 12)} (${set.standards.length} standard(s))` },
    [{ set }],
  );
}

export function plan(input: {
  setHash: string;
  selector: string;
  purpose: 'plan' | 'apply' | 'drift';
  concurrency: number;
  enforceOnly?: boolean;
}): Promise<StandardsPlanSummary> {
  const { workflowId, runId } = workflowInfo();
  return planStandards.executeWithOptions(
    { summary: `Plan standards ${input.setHash.slice(0, 12)} over ${input.selector}` },
    [{ ...input, planId: `${workflowId}/${runId}` }],
  );
}

/** Why an activity's failure stops an environment, in the activity's own words. */
export function failureReason(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  if (err instanceof ApplicationFailure || err instanceof Error) return err.message;
  return String(err);
}

export function applyGroups(setHash: string, environmentIds: string[], enforceOnly: boolean) {
  return applyUserGroupStandards.executeWithOptions(
    {
      summary: `Grant the user groups of standards ${setHash.slice(0, 12)} on ${environmentIds.length} environment(s)`,
    },
    [{ setHash, environmentIds, enforceOnly }],
  );
}

export function applyBatch(
  setHash: string,
  environmentIds: string[],
  enforceOnly: boolean,
): Promise<EnvironmentApplyOutcome[]> {
  return applyStandards.executeWithOptions(
    {
      summary: `Apply standards ${setHash.slice(0, 12)} to ${environmentIds.length} environment(s), ${environmentIds[0]} … ${environmentIds.at(-1)}`,
    },
    [{ setHash, environmentIds, enforceOnly, concurrency: APPLY_BATCH }],
  );
}
