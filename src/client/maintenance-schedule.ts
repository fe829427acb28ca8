import type { Client, ScheduleOptionsAction, ScheduleSpec } from '@temporalio/client';
import { ensureSchedule } from './schedules.js';
import { FLEET_MAINTENANCE, FLEET_MAINTENANCE_SCHEDULE_ID, type FleetMaintenanceInput } from '../shared/maintenance.js';

export interface MaintenanceScheduleSettings {
  taskQueue: string;
  intervalMinutes: number;
  batchSize: number;
}

/**
 * Creates the `fleet-maintenance` schedule, or brings the one that exists up to date with these
 * settings (interval, task queue, batch size), keeping whether an operator paused it. Safe to call
 * from every worker start and from `autopilot schedules apply` at once.
 */
export async function ensureMaintenanceSchedule(
  client: Client,
  settings: MaintenanceScheduleSettings,
): Promise<'created' | 'updated'> {
  const spec: ScheduleSpec = { intervals: [{ every: `${settings.intervalMinutes} minutes` }] };
  const args: [FleetMaintenanceInput] = [{ batchSize: settings.batchSize }];
  const action: ScheduleOptionsAction = {
    type: 'startWorkflow',
    workflowType: FLEET_MAINTENANCE,
    // Each run's id is this plus the scheduled time: readable, and never two runs for one tick.
    workflowId: FLEET_MAINTENANCE_SCHEDULE_ID,
    taskQueue: settings.taskQueue,
    args,
    staticSummary: 'Fleet maintenance: rotate expiring tokens, revoke replaced ones, re-check scopes',
    workflowExecutionTimeout: '6 hours',
  };
  return ensureSchedule(client, FLEET_MAINTENANCE_SCHEDULE_ID, spec, action, '1 hour');
}
