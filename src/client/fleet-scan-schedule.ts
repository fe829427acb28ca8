import type { Client, ScheduleOptionsAction, ScheduleSpec } from '@temporalio/client';
import { FLEET_SCAN, FLEET_SCAN_SCHEDULE_ID, type FleetScanInput } from '../shared/fleet-scan.js';
import { ensureSchedule } from './schedules.js';

/** Creates or updates the `fleet-scan` schedule with these settings, keeping an operator's pause. */
export async function ensureFleetScanSchedule(
  client: Client,
  settings: FleetScanInput & { taskQueue: string },
): Promise<'created' | 'updated'> {
  const { taskQueue, ...input } = settings;
  const spec: ScheduleSpec = { intervals: [{ every: `${settings.intervalSeconds} seconds` }] };
  const action: ScheduleOptionsAction = {
    type: 'startWorkflow',
    workflowType: FLEET_SCAN,
    workflowId: FLEET_SCAN_SCHEDULE_ID,
    taskQueue,
    args: [input],
    staticSummary: 'Fleet scan: every environment’s open problems, host censuses, fleet incidents',
    workflowExecutionTimeout: '20 minutes',
  };
  // A missed scan is worth nothing later: the next one reads the present.
  return ensureSchedule(client, FLEET_SCAN_SCHEDULE_ID, spec, action, '1 minute');
}
