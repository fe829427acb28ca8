import type { Client } from '@temporalio/client';
import type { Logger } from '@temporalio/worker';
import { ensureFleetScanSchedule } from '../client/fleet-scan-schedule.js';
import { ensureMaintenanceSchedule } from '../client/maintenance-schedule.js';
import type { AutopilotConfig } from '../config/config.js';
import { FLEET_SCAN_SCHEDULE_ID } from '../shared/fleet-scan.js';
import { FLEET_MAINTENANCE_SCHEDULE_ID } from '../shared/maintenance.js';
import { STANDARDS_DRIFT_SCHEDULE_ID } from '../shared/standards.js';
import { ensureStandardsDriftSchedule } from '../client/standards-drift-schedule.js';

/** The schedules this configuration wants, as `autopilot schedules apply` and every worker start apply them. */
export function maintenanceScheduleSettings(config: AutopilotConfig) {
  return {
    taskQueue: config.temporal.taskQueue,
    intervalMinutes: config.maintenance.intervalMinutes,
    batchSize: config.maintenance.batchSize,
  };
}

export function fleetScanScheduleSettings(config: AutopilotConfig) {
  const scan = config.fleetScan;
  return {
    taskQueue: config.temporal.taskQueue,
    intervalSeconds: scan.intervalSeconds,
    hostCensusMinutes: scan.hostCensusMinutes,
    retentionDays: scan.retentionDays,
    concurrency: scan.concurrency,
    incident: { environments: scan.incidentEnvironments, windowMinutes: scan.incidentWindowMinutes },
  };
}

export function standardsDriftScheduleSettings(config: AutopilotConfig) {
  return {
    taskQueue: config.temporal.taskQueue,
    intervalSeconds: config.standards.driftIntervalSeconds,
    concurrency: config.standards.concurrency,
  };
}

/** Every schedule of Autopilot's, by id, applied from this configuration. */
export function autopilotSchedules(config: AutopilotConfig) {
  return [
    {
      id: FLEET_MAINTENANCE_SCHEDULE_ID,
      every: `${config.maintenance.intervalMinutes} minutes`,
      apply: (client: Client) => ensureMaintenanceSchedule(client, maintenanceScheduleSettings(config)),
    },
    {
      id: FLEET_SCAN_SCHEDULE_ID,
      every: `${config.fleetScan.intervalSeconds} seconds`,
      apply: (client: Client) => ensureFleetScanSchedule(client, fleetScanScheduleSettings(config)),
    },
    {
      id: STANDARDS_DRIFT_SCHEDULE_ID,
      every: `${config.standards.driftIntervalSeconds} seconds`,
      apply: (client: Client) => ensureStandardsDriftSchedule(client, standardsDriftScheduleSettings(config)),
    },
  ];
}

/**
 * Applied at worker start; a worker whose Temporal identity may not manage schedules still works
 * (an operator applies them with the CLI), so a refusal is logged, not fatal.
 */
export async function applySchedulesAtStart(client: Client, config: AutopilotConfig, logger: Logger): Promise<void> {
  for (const schedule of autopilotSchedules(config)) {
    try {
      const action = await schedule.apply(client);
      logger.info(`Schedule ${schedule.id} ${action}`, { every: schedule.every });
    } catch (err) {
      logger.error(`Schedule ${schedule.id} could not be applied; run \`autopilot schedules apply\``, {
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }
}
