import { randomUUID } from 'node:crypto';
import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { AutopilotPhase } from '../shared/phases.js';
import { AUTOPILOT_PHASE } from '../shared/search-attributes.js';
import {
  STANDARDS_APPLY,
  STANDARDS_PLAN,
  STANDARDS_REQUEST,
  standardsApplyWorkflowId,
  type StandardsApplyInput,
  type StandardsPlanSummary,
  type StandardsRequestInput,
  type StandardsRequestResult,
  type StandardsSet,
} from '../shared/standards.js';
import type { StandardsApply } from '../workflows/standards-apply.js';

const describeSet = (set: StandardsSet) =>
  `${set.standards.length} standard(s) from ${set.origin.path}${set.origin.commit ? ` @ ${set.origin.commit.slice(0, 12)}${set.origin.dirty ? '+' : ''}` : ''}`;

/**
 * Starts the apply of a standards set, or attaches to the run applying it: the workflow id derives
 * from the set's content hash (and the selector), so applying the same standards twice follows one run.
 */
export async function startStandardsApply(
  client: Client,
  input: StandardsApplyInput & { taskQueue: string },
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof StandardsApply>> {
  const { taskQueue, ...args } = input;
  return client.workflow.start<typeof StandardsApply>(STANDARDS_APPLY, {
    args: [args],
    taskQueue,
    workflowId: standardsApplyWorkflowId(input.set.hash, input.selector),
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    staticSummary: `Apply standards ${input.set.hash.slice(0, 12)} (${describeSet(input.set)}) to ${input.selector}`,
    typedSearchAttributes: [{ key: AUTOPILOT_PHASE, value: AutopilotPhase.Running }],
  });
}

/** Plans a standards set over the fleet and waits for the plan's summary (its rows are read page by page). */
export async function runStandardsPlan(
  client: Client,
  input: { set: StandardsSet; selector: string; taskQueue: string },
): Promise<{ workflowId: string; summary: StandardsPlanSummary }> {
  const workflowId = `standards-plan:${input.set.hash.slice(0, 16)}:${randomUUID().slice(0, 8)}`;
  const summary = await client.workflow.execute<(i: unknown) => Promise<StandardsPlanSummary>>(STANDARDS_PLAN, {
    args: [{ set: input.set, selector: input.selector }],
    taskQueue: input.taskQueue,
    workflowId,
    staticSummary: `Plan standards ${input.set.hash.slice(0, 12)} (${describeSet(input.set)}) over ${input.selector}`,
  });
  return { workflowId, summary };
}

/** A read from the standards tables, through the worker that owns the fleet database. */
export async function standardsRequest<R extends StandardsRequestResult>(
  client: Client,
  taskQueue: string,
  input: StandardsRequestInput,
): Promise<R> {
  return (await client.workflow.execute<(i: StandardsRequestInput) => Promise<StandardsRequestResult>>(
    STANDARDS_REQUEST,
    {
      args: [input],
      taskQueue,
      workflowId: `standards-${input.op}:${randomUUID()}`,
      staticSummary: `Read standards ${input.op === 'plan-items' ? `plan ${input.planId}` : 'drift'}`,
    },
  )) as R;
}
