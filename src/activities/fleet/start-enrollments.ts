import { activityInfo, getClient, heartbeat } from '@temporalio/activity';
import { isGrpcServiceError, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { enrollmentStartDisplay, type HostEnrollmentInput } from '../../shared/enrollment.js';

export interface EnrollmentToStart {
  workflowId: string;
  environmentId: string;
  input: HostEnrollmentInput;
}

export interface EnrollmentStart {
  workflowId: string;
  outcome: 'started' | 'already-running' | 'failed';
  reason?: string;
}

/** gRPC status code; @grpc/grpc-js is not a dependency of ours to import its enum from. */
const GRPC_INVALID_ARGUMENT = 3;

/** Starts in flight at once: enough to keep the server busy, few enough not to flood it. */
const PARALLEL_STARTS = 25;

/**
 * Starts host enrollments as workflows of their own rather than children of the fleet. A parent
 * records every child's start and end in its one history, and the server updates one execution
 * at a time: at fleet scale that serialises thousands of starts. Started from here, each
 * enrollment is independent and only its result signal reaches the fleet. Deterministic ids make
 * a retry of this activity find the runs it already started.
 */
export async function startEnrollments(input: { enrollments: EnrollmentToStart[] }): Promise<EnrollmentStart[]> {
  const client = getClient();
  const { taskQueue } = activityInfo();
  const results: EnrollmentStart[] = new Array<EnrollmentStart>(input.enrollments.length);
  let next = 0;
  const lane = async () => {
    while (next < input.enrollments.length) {
      const index = next++;
      const { workflowId, environmentId, input: args } = input.enrollments[index]!;
      try {
        await client.workflow.start('HostEnrollment', {
          workflowId,
          taskQueue,
          args: [args],
          ...enrollmentStartDisplay(environmentId, args),
        });
        results[index] = { workflowId, outcome: 'started' };
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) {
          results[index] = { workflowId, outcome: 'already-running' };
        } else if (isGrpcServiceError(err) && Number(err.code) === GRPC_INVALID_ARGUMENT) {
          // This host's input is refused for good; the others go on, and the fleet reports it.
          results[index] = { workflowId, outcome: 'failed', reason: err.details || err.message };
        } else {
          throw err;
        }
      }
      heartbeat({ started: index + 1 });
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_STARTS, input.enrollments.length) }, lane));
  return results;
}
