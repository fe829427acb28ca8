export const FLEET_SCAN = 'FleetScan';
export const FLEET_SCAN_SCHEDULE_ID = 'fleet-scan';

/** The scan's settings travel in the schedule's arguments, so `autopilot schedules apply` changes them. */
export interface FleetScanInput {
  intervalSeconds: number;
  /** How often each environment's hosts and OneAgent versions are counted. */
  hostCensusMinutes: number;
  retentionDays: number;
  /** Requests in flight across the fleet; each cluster's own caps still apply. */
  concurrency: number;
  incident: { environments: number; windowMinutes: number };
}

export interface FleetScanReport {
  startedAt: string;
  finishedAt: string;
  environments: number;
  failed: number;
  /** Environments whose host census was taken in this scan. */
  hostCensuses: number;
  /** Problem changes written (opened, updated, closed). */
  changes: number;
  incidents: string[];
  /** Up to ten environments whose problems could not be read, and why. */
  failures: { environmentId: string; error: string }[];
}
