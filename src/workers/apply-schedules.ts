import type { Client } from '@temporalio/client';
import type { Logger } from '@temporalio/worker';
import { ensureMaintenanceSchedule } from '../client/maintenance-schedule.js';
import type { AutopilotConfig } from '../config/config.js';

/** The schedules this configuration wants, as `autopilot schedules apply` and every worker start apply them. */
export function maintenanceScheduleSettings(config: AutopilotConfig) {
  return {
    taskQueue: config.temporal.taskQueue,
    intervalMinutes: config.maintenance.intervalMinutes,
    batchSize: config.maintenance.batchSize,
  };
}

/**
 * Applied at worker start; a worker whose Temporal identity may not manage schedules still works
 * (an operator applies them with the CLI), so a refusal is logged, not fatal.
 */
export async function applySchedulesAtStart(client: Client, config: AutopilotConfig, logger: Logger): Promise<void> {
  try {
    const action = await ensureMaintenanceSchedule(client, maintenanceScheduleSettings(config));
    logger.info(`Schedule fleet-maintenance ${action}`, { everyMinutes: config.maintenance.intervalMinutes });
  } catch (err) {
    logger.error('Schedule fleet-maintenance could not be applied; run `autopilot schedules apply`', {
      error: err instanceof Error ? err.message : String(err),
    });
  }
}
