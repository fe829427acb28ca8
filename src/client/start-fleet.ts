import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { InventorySummary } from '../inventory/inventory-store.js';
import { ENROLL_FLEET } from '../shared/enrollment.js';
import { enrollFleetWorkflowId, type EnrollFleetInput } from '../shared/fleet.js';
import { AutopilotPhase } from '../shared/phases.js';
import { AUTOPILOT_PHASE } from '../shared/search-attributes.js';
import { fleetTaskQueue } from '../shared/task-queues.js';
import type { EnrollFleet } from '../workflows/enroll-fleet.js';

/**
 * Starts the fleet enrollment of a stored inventory, or attaches to it: the workflow id derives from
 * the inventory's content hash, so submitting the same inventory twice follows the same run. The
 * fleet runs on the coordinators' queue next to `taskQueue`, its hosts on `taskQueue`.
 */
export async function startFleet(
  client: Client,
  inventory: InventorySummary,
  options: Omit<EnrollFleetInput, 'inventoryRef' | 'totalHosts'> & { taskQueue: string },
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof EnrollFleet>> {
  const { taskQueue, ...rest } = options;
  return client.workflow.start<typeof EnrollFleet>(ENROLL_FLEET, {
    args: [{ ...rest, inventoryRef: inventory.ref, totalHosts: inventory.total, hostTaskQueue: taskQueue }],
    taskQueue: fleetTaskQueue(taskQueue),
    workflowId: enrollFleetWorkflowId(inventory.ref),
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    // Above the default 10 s: a worker that lost the fleet from its cache replays its whole history
    // in one task (2,440 events took 3.3 s on an idle core; a run grows to `historyLimit`). Not the
    // minute it was when fleets shared the hosts' busy worker: a task that a killed worker had
    // started is given back only when this runs out, and the small chaos test waited 61 s for it.
    workflowTaskTimeout: '30 seconds',
    staticSummary: `Enroll ${inventory.total} hosts into ${Object.keys(inventory.environments).length} environments`,
    typedSearchAttributes: [{ key: AUTOPILOT_PHASE, value: AutopilotPhase.Running }],
  });
}
