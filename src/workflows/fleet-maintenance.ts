import { setCurrentDetails, setHandler } from '@temporalio/workflow';
import type { createMaintenanceActivities } from '../activities/maintenance/index.js';
import type { FleetMaintenanceInput, MaintenanceReport } from '../shared/maintenance.js';
import { autopilotActivities } from './shared/activity-proxies.js';
import { MaintenanceRun } from './maintenance/maintenance-run.js';
import { maintenanceReportQuery } from './shared/day-two-queries.js';

type Activities = ReturnType<typeof createMaintenanceActivities>;

const DEFAULT_BATCH = 50;

const plan = autopilotActivities<Activities>({ apiCall: '1 minute', retryWindow: '30 minutes' });
// A batch mints, revokes and looks up tokens in up to `batchSize` environments, one after the other.
const maintain = autopilotActivities<Activities>(
  { apiCall: '15 minutes', retryWindow: '45 minutes' },
  { maximumRetryInterval: '2 minutes', heartbeatTimeout: '20 seconds' },
).maintainEnvironments;

/**
 * One run of the `fleet-maintenance` schedule over the whole registry: page by page, the
 * environments with something due as of the run's own time (which the registry alone tells, so an
 * environment with nothing due costs no Dynatrace call) get their expiring tokens rotated, replaced
 * tokens revoked after their grace, and their scopes re-checked. One environment that needs
 * attention is reported and marked in the registry; the rest of the fleet goes on.
 */
export async function FleetMaintenance(input: FleetMaintenanceInput = {}): Promise<MaintenanceReport> {
  const asOf = new Date();
  const run = new MaintenanceRun(asOf);
  setHandler(maintenanceReportQuery, () => run.report);
  const limit = input.batchSize ?? DEFAULT_BATCH;
  setCurrentDetails(`Maintenance as of ${asOf.toISOString()}: finding what is due`);

  let after: string | undefined;
  do {
    const page = await plan.planMaintenance.executeWithOptions(
      { summary: `Find environments with something due${after ? ` after ${after}` : ''}` },
      [{ asOf: asOf.toISOString(), limit, ...(after ? { after } : {}) }],
    );
    if (page.due.length > 0) {
      const first = page.due[0]!.environmentId;
      const last = page.due.at(-1)!.environmentId;
      run.add(
        await maintain.executeWithOptions(
          { summary: `Maintain ${page.due.length} environment(s), ${first} … ${last}` },
          [{ asOf: asOf.toISOString(), due: page.due }],
        ),
      );
      setCurrentDetails(`Maintenance as of ${asOf.toISOString()}: ${run.summary()}`);
    }
    after = page.after;
  } while (after !== undefined);

  setCurrentDetails(`Maintenance as of ${asOf.toISOString()} done: ${run.summary()}`);
  return run.report;
}
