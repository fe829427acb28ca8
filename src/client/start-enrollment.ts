import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import {
  enrollmentStartDisplay,
  enrollmentWorkflowId,
  HOST_ENROLLMENT,
  planEnrollment,
  type HostEnrollmentInput,
} from '../shared/enrollment.js';
import type { HostEnrollment } from '../workflows/host-enrollment.js';
import { FailureType } from '../shared/failure-types.js';

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
    throw ApplicationFailure.nonRetryable(
      `Invalid HostEnrollment input: ${planned.message}`,
      FailureType.InvalidWorkflowInput,
    );
  }
  const { environmentId, hostname, customer } = planned.plan;
  return client.workflow.start<typeof HostEnrollment>(HOST_ENROLLMENT, {
    args: [input],
    taskQueue: options.taskQueue,
    workflowId: enrollmentWorkflowId(environmentId, hostname),
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    ...enrollmentStartDisplay(environmentId, { hostname, address: planned.plan.address, customer }),
  });
}
