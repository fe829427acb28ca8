import type { Client, ScheduleOptionsAction, ScheduleSpec } from '@temporalio/client';
import { STANDARDS_DRIFT, STANDARDS_DRIFT_SCHEDULE_ID, type StandardsDriftInput } from '../shared/standards.js';
import { ensureSchedule } from './schedules.js';

/** Creates or updates the `standards-drift` schedule, keeping an operator's pause. */
export async function ensureStandardsDriftSchedule(
  client: Client,
  settings: StandardsDriftInput & { taskQueue: string; intervalSeconds: number },
): Promise<'created' | 'updated'> {
  const { taskQueue, intervalSeconds, ...input } = settings;
  const spec: ScheduleSpec = { intervals: [{ every: `${intervalSeconds} seconds` }] };
  const action: ScheduleOptionsAction = {
    type: 'startWorkflow',
    workflowType: STANDARDS_DRIFT,
    workflowId: STANDARDS_DRIFT_SCHEDULE_ID,
    taskQueue,
    args: [input],
    staticSummary: 'Standards drift: the standards applied last, checked everywhere; enforce ones re-applied',
    workflowExecutionTimeout: `${Math.max(1800, intervalSeconds * 2)} seconds`,
  };
  // A check missed while the worker was down is worth doing once when it is back, not once per miss.
  return ensureSchedule(client, STANDARDS_DRIFT_SCHEDULE_ID, spec, action, `${intervalSeconds} seconds`);
}
