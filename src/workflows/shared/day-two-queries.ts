import { defineQuery } from '@temporalio/workflow';
import type { AdoptionProgress } from '../../shared/environments.js';
import type { MaintenanceReport } from '../../shared/maintenance.js';

/** What a FleetMaintenance run has done so far, per environment. */
export const maintenanceReportQuery = defineQuery<MaintenanceReport>('maintenanceReport');
/** How far an AdoptEnvironments run has come (the CLI's progress bar). */
export const adoptionProgressQuery = defineQuery<AdoptionProgress>('adoptionProgress');
