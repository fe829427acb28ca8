import { setCurrentDetails } from '@temporalio/workflow';
import type { createFleetScanActivities } from '../activities/fleet-scan/index.js';
import type { FleetScanInput, FleetScanReport } from '../shared/fleet-scan.js';
import { autopilotActivities } from './shared/activity-proxies.js';

type Activities = ReturnType<typeof createFleetScanActivities>;

// A scan that cannot finish within a few intervals is better skipped for the next one (the
// schedule skips overlaps) than retried for long: the page shows how old its data is meanwhile.
const { scanFleet } = autopilotActivities<Activities>(
  { apiCall: '10 minutes', retryWindow: '15 minutes' },
  { maximumRetryInterval: '30 seconds', heartbeatTimeout: '30 seconds' },
);

/**
 * One run of the `fleet-scan` schedule: every registered environment's problems read once and
 * written as changes, host censuses for the environments whose turn it is, fleet incidents found,
 * history older than the retention forgotten.
 */
export async function FleetScan(input: FleetScanInput): Promise<FleetScanReport> {
  setCurrentDetails('Scanning the fleet');
  const report = await scanFleet.executeWithOptions({ summary: 'Read every environment’s problems' }, [input]);
  setCurrentDetails(
    `Scanned ${report.environments} environment(s): ${report.changes} change(s), ${report.failed} unreadable, ` +
      `${report.hostCensuses} host census(es)${report.incidents.length ? `, incidents ${report.incidents.join(', ')}` : ''}`,
  );
  return report;
}
