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
  default: 'ssh' | 'local';
}

export function executorFor(executors: Executors, requested: 'ssh' | 'local' | undefined): HostExecutor {
  const kind = requested ?? executors.default;
  const executor = executors[kind];
  if (!executor) {
    throw ApplicationFailure.nonRetryable(
      `this worker has no ${kind} executor configured`,
      FailureType.ExecutorUnavailable,
    );
  }
  return executor;
}
