import { ApplicationFailure } from '@temporalio/common';
import { HostAccessError, type HostExecutor } from '../../hosts/executor.js';
import { FailureType } from '../../shared/failure-types.js';

const FAILURE_TYPES = {
  unreachable: FailureType.HostUnreachable,
  authentication: FailureType.HostLoginRefused,
  'host-key': FailureType.HostKeyRejected,
  transfer: FailureType.HostTransferFailed,
  privileges: FailureType.HostPrivilegesMissing,
} as const;

/** Host problems as Temporal failures: an unreachable host is retried, a refused key is not. */
export function asHostFailure(err: unknown): unknown {
  if (!(err instanceof HostAccessError)) return err;
  return ApplicationFailure.create({
    message: err.message,
    type: FAILURE_TYPES[err.kind],
    nonRetryable: !err.retryable,
  });
}

export interface Executors {
  ssh?: HostExecutor;
  local?: HostExecutor;
  /** What an enrollment that names no executor gets. */
  default: 'ssh' | 'local';
  /**
   * Whether an enrollment may name `local`, which runs the installer on the worker's own machine:
   * only in the sandbox, or where the operator made it this worker's executor
   * (AUTOPILOT_HOST_EXECUTOR=local, as the benchmarks and the production-topology test simulate hosts).
   */
  localAllowed: boolean;
}

/** The executor an enrollment asked for (or this worker's default), refused before it touches any machine. */
export function executorFor(executors: Executors, requested: 'ssh' | 'local' | undefined): HostExecutor {
  const kind = requested ?? executors.default;
  if (kind === 'local' && !executors.localAllowed) {
    throw ApplicationFailure.nonRetryable(
      "executor 'local' is refused: it would run the OneAgent installer on this worker's own machine, which only the " +
        'sandbox does, or a worker whose operator set AUTOPILOT_HOST_EXECUTOR=local; enroll with executor ssh (or none)',
      FailureType.LocalExecutorRefused,
    );
  }
  const executor = executors[kind];
  if (!executor) {
    throw ApplicationFailure.nonRetryable(
      `this worker has no ${kind} executor configured`,
      FailureType.ExecutorUnavailable,
    );
  }
  return executor;
}
