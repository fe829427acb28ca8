import { getClient } from '@temporalio/activity';
import { WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import type { InventoryStore, InventorySummary } from '../../inventory/inventory-store.js';
import type { HostEnrollmentResult } from '../../shared/enrollment.js';
import type { FleetHost } from '../../shared/fleet.js';
import { startEnrollments } from './start-enrollments.js';

export interface FleetDeps {
  inventories: InventoryStore;
}

export interface EnrollmentStatus {
  workflowId: string;
  status: 'running' | 'done' | 'failed' | 'missing';
  result?: HostEnrollmentResult;
  reason?: string;
}

export function createFleetActivities(deps: FleetDeps) {
  return {
    startEnrollments,

    async describeInventory(input: { ref: string }): Promise<InventorySummary> {
      return await deps.inventories.summary(input.ref);
    },

    async loadInventoryPage(input: { ref: string; offset: number; limit: number }): Promise<FleetHost[]> {
      return await deps.inventories.page(input.ref, input.offset, input.limit);
    },

    /**
     * What became of enrollments the fleet has not heard from for a while: a signal can be lost
     * when an operator terminates a run, or a host's run was started by someone else.
     */
    async describeEnrollments(input: { workflowIds: string[] }): Promise<EnrollmentStatus[]> {
      const client = getClient();
      const out: EnrollmentStatus[] = [];
      for (const workflowId of input.workflowIds) {
        const handle = client.workflow.getHandle<() => Promise<HostEnrollmentResult>>(workflowId);
        try {
          const { status } = await handle.describe();
          if (status.name === 'RUNNING') out.push({ workflowId, status: 'running' });
          else if (status.name === 'COMPLETED') out.push({ workflowId, status: 'done', result: await handle.result() });
          else {
            const reason = await handle.result().then(
              () => status.name,
              (err: unknown) =>
                err instanceof WorkflowFailedError ? (err.cause?.message ?? err.message) : String(err),
            );
            out.push({ workflowId, status: 'failed', reason });
          }
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
          out.push({ workflowId, status: 'missing' });
        }
      }
      return out;
    },
  };
}
