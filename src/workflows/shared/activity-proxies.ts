import { proxyActivities, type ActivityInterfaceFor } from '@temporalio/workflow';
import { HEARTBEAT_TIMEOUT } from '../../shared/heartbeats.js';

/** How long one call may take, and how long a step keeps retrying before it asks a person. */
export interface StepTimeouts {
  apiCall: string;
  retryWindow: string;
}

/**
 * The one way Autopilot workflows reach their activities. Retries are Temporal's (the clients never
 * retry on their own): exponential from `firstRetry`, at most a minute apart, until the step's
 * retry window closes; a failure typed non-retryable ends the attempts at once. Calls that run
 * longer (installs, downloads, waits) set their own start-to-close. Every call has a short heartbeat
 * timeout, kept by the worker's keep-alive (activities/keep-alive.ts): a call lost with a killed
 * worker is retried after seconds, not after its start-to-close.
 */
export function autopilotActivities<A extends object>(
  timeouts: StepTimeouts,
  options: {
    firstRetry?: string;
    maximumRetryInterval?: string;
    maximumAttempts?: number;
    heartbeatTimeout?: string;
  } = {},
): ActivityInterfaceFor<A> {
  return proxyActivities<A>({
    startToCloseTimeout: timeouts.apiCall,
    scheduleToCloseTimeout: timeouts.retryWindow,
    heartbeatTimeout: options.heartbeatTimeout ?? HEARTBEAT_TIMEOUT,
    retry: {
      initialInterval: options.firstRetry ?? '1 second',
      backoffCoefficient: 2,
      maximumInterval: options.maximumRetryInterval ?? '1 minute',
      ...(options.maximumAttempts ? { maximumAttempts: options.maximumAttempts } : {}),
    },
  });
}
