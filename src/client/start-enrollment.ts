import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { enrollmentWorkflowId, planEnrollment, type HostEnrollmentInput } from '../shared/enrollment.js';
import { AutopilotPhase } from '../shared/phases.js';
import { AUTOPILOT_PHASE, DT_CUSTOMER, DT_ENVIRONMENT_ID, DT_HOST } from '../shared/search-attributes.js';
import type { HostEnrollment } from '../workflows/host-enrollment.js';

/**
 * Starts the enrollment of one host, or attaches to the one in progress (`enroll:<env>:<host>`).
 * Input is validated before anything starts.
 */
export async function startEnrollment(
  client: Client,
  input: HostEnrollmentInput,
  options: { taskQueue: string },
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof HostEnrollment>> {
  const planned = planEnrollment(input);
  if (!planned.ok) {
    throw ApplicationFailure.nonRetryable(`Invalid enrollment request: ${planned.message}`, 'InvalidWorkflowInput');
  }
  const { environmentId, hostname, customer } = planned.plan;
  return client.workflow.start<typeof HostEnrollment>('HostEnrollment', {
    args: [input],
    taskQueue: options.taskQueue,
    workflowId: enrollmentWorkflowId(environmentId, hostname),
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    staticSummary: `Enroll ${hostname} (${planned.plan.address}) into ${environmentId}`,
    typedSearchAttributes: [
      { key: DT_ENVIRONMENT_ID, value: environmentId },
      { key: DT_HOST, value: hostname },
      { key: DT_CUSTOMER, value: customer },
      { key: AUTOPILOT_PHASE, value: AutopilotPhase.Running },
    ],
  });
}
