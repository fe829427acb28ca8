import { ApplicationFailure } from '@temporalio/common';
import { awsFailureType } from '../shared/failure-types.js';

/** AWS errors a retry cannot fix: the request or the permissions are wrong. */
const PERMANENT = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'InvalidParametersException',
  'InvalidParameterValue',
  'ValidationException',
  'ResourceNotFoundException',
  'ParameterNotFound',
  'NoSuchBucket',
  'NoSuchKey',
  'InvalidInstanceID.NotFound',
  'InvalidInstanceID.Malformed',
  'LimitExceededException',
  'DuplicateResourceException',
  'ResourceInUseException',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
]);

/**
 * An AWS SDK error as a Temporal failure: throttling, 5xx and network errors stay retryable (the SDK
 * already retried a few times), a refused request or a missing permission waits for a person.
 * `LimitExceededException` is permanent here although the SDK treats it as throttling: too many
 * product versions is not a rate.
 */
export function asAwsFailure(err: unknown, what: string): unknown {
  if (err instanceof ApplicationFailure) return err;
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  if (!e || typeof e !== 'object' || !e.name) return err;
  const status = e.$metadata?.httpStatusCode;
  const permanent =
    PERMANENT.has(e.name) ||
    (status !== undefined && status >= 400 && status < 500 && !/Throttl|TooMany|RequestLimit/.test(e.name));
  return ApplicationFailure.create({
    message: `${what}: ${e.name}${e.message ? `: ${e.message}` : ''}`,
    type: awsFailureType(e.name),
    nonRetryable: permanent,
  });
}
