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
    // A fleet's task handles hundreds of hosts' news at once; on a worker busy with thousands of
    // host tasks it took longer than the default 10 s, and a timed-out task is replayed in full.
    workflowTaskTimeout: '1 minute',
    staticSummary: `Enroll ${inventory.total} hosts into ${Object.keys(inventory.environments).length} environments`,
    typedSearchAttributes: [{ key: AUTOPILOT_PHASE, value: AutopilotPhase.Running }],
  });
}
