import { getExternalWorkflowHandle, log, workflowInfo } from '@temporalio/workflow';
import type { HostStatusReport } from '../../shared/enrollment.js';
import { hostStatusSignal } from '../shared/fleet-signals.js';

/**
 * Tells the host's fleet (when it has one) each change of its state. The final report is awaited:
 * a signal issued in the same task as the run's completion is lost.
 */
export function fleetReporter(
  fleet: { workflowId: string } | undefined,
  host: { environmentId: string; hostname: string },
): (status: HostStatusReport['status'], extra?: Partial<HostStatusReport>) => Promise<void> {
  return async (status, extra = {}) => {
    if (!fleet) return;
    const message: HostStatusReport = { workflowId: workflowInfo().workflowId, ...host, status, ...extra };
    await getExternalWorkflowHandle(fleet.workflowId)
      .signal(hostStatusSignal, message)
      .catch((err: unknown) =>
        log.warn('Could not report to the fleet', { fleet: fleet.workflowId, error: String(err) }),
      );
  };
}
