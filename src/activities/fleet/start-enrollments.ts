import { activityInfo, getClient, heartbeat } from '@temporalio/activity';
import { isGrpcServiceError, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { mapWithConcurrency } from '../../concurrency/map-with-concurrency.js';
import { enrollmentStartDisplay, HOST_ENROLLMENT, type HostEnrollmentInput } from '../../shared/enrollment.js';

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
export async function startEnrollments(input: {
  enrollments: EnrollmentToStart[];
  /** Where the enrollments run (unset: this activity's queue, as fleets before coordinator queues had it). */
  taskQueue?: string;
}): Promise<EnrollmentStart[]> {
  const client = getClient();
  const taskQueue = input.taskQueue ?? activityInfo().taskQueue;
  const start = async ({ workflowId, environmentId, input: args }: EnrollmentToStart): Promise<EnrollmentStart> => {
    try {
      await client.workflow.start(HOST_ENROLLMENT, {
        workflowId,
        taskQueue,
        args: [args],
        ...enrollmentStartDisplay(environmentId, args),
      });
      return { workflowId, outcome: 'started' };
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return { workflowId, outcome: 'already-running' };
      // This host's input is refused for good; the others go on, and the fleet reports it.
      if (isGrpcServiceError(err) && Number(err.code) === GRPC_INVALID_ARGUMENT)
        return { workflowId, outcome: 'failed', reason: err.details || err.message };
      throw err;
    }
  };
  let started = 0;
  return mapWithConcurrency(input.enrollments, PARALLEL_STARTS, async (enrollment) => {
    const result = await start(enrollment);
    heartbeat({ started: ++started });
    return result;
  });
}
