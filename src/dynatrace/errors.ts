import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { redactSecrets } from '../observability/redact.js';
import { FailureType } from '../shared/failure-types.js';

export interface DynatraceConstraintViolation {
  path?: string | null;
  message: string;
  parameterLocation?: string | null;
}

/** The Dynatrace failure types of the registry, by what happened. */
export const DynatraceFailureType = {
  throttled: FailureType.DynatraceThrottled,
  serverError: FailureType.DynatraceServerError,
  unavailable: FailureType.DynatraceUnavailable,
  badRequest: FailureType.DynatraceBadRequest,
  unauthorized: FailureType.DynatraceUnauthorized,
  forbidden: FailureType.DynatraceForbidden,
  notFound: FailureType.DynatraceNotFound,
  conflict: FailureType.DynatraceConflict,
  rejected: FailureType.DynatraceRequestRejected,
  unexpectedResponse: FailureType.DynatraceUnexpectedResponse,
} as const;

export type DynatraceFailureType = (typeof DynatraceFailureType)[keyof typeof DynatraceFailureType];

/** Failure types a retry cannot fix: an operator has to change a token, an input or the cluster. */
export const NON_RETRYABLE_DYNATRACE_FAILURES: string[] = [
  DynatraceFailureType.badRequest,
  DynatraceFailureType.unauthorized,
  DynatraceFailureType.forbidden,
  DynatraceFailureType.notFound,
  DynatraceFailureType.conflict,
  DynatraceFailureType.rejected,
  DynatraceFailureType.unexpectedResponse,
];

/**
 * An error from the Dynatrace API, already shaped for Temporal: thrown from an activity it becomes
 * an ApplicationFailure whose type and retryability the workflow's retry policy honours, with the
 * server's Retry-After as the next retry delay. Its message never contains a token.
 */
export class DynatraceApiError extends ApplicationFailure {
  constructor(
    readonly request: { method: string; path: string },
    readonly status: number | undefined,
    type: DynatraceFailureType,
    readonly dynatraceMessage: string,
    readonly constraintViolations: DynatraceConstraintViolation[] = [],
    retryDelayMs?: number,
    cause?: Error,
  ) {
    const retryable = !NON_RETRYABLE_DYNATRACE_FAILURES.includes(type);
    const where = `${request.method} ${request.path}`;
    const violations = constraintViolations.length
      ? ` (${constraintViolations.map((v) => (v.path ? `${v.path}: ${v.message}` : v.message)).join('; ')})`
      : '';
    super(
      redactSecrets(
        `Dynatrace ${where} failed${status ? ` with HTTP ${status}` : ''}: ${dynatraceMessage}${violations}`,
      ),
      type,
      !retryable,
      [{ status: status ?? null, method: request.method, path: request.path }],
      cause,
      retryDelayMs,
    );
  }
}

/** An answer longer than the caller allowed: cut off while it arrived, never retried. */
export class ResponseTooLargeError extends DynatraceApiError {
  constructor(
    request: { method: string; path: string },
    status: number | undefined,
    readonly limitBytes: number,
  ) {
    super(
      request,
      status,
      DynatraceFailureType.unexpectedResponse,
      `the answer is longer than ${limitBytes} bytes; it was not read further`,
    );
  }
}

export function failureTypeForStatus(status: number): DynatraceFailureType {
  if (status === 429) return DynatraceFailureType.throttled;
  if (status >= 500) return DynatraceFailureType.serverError;
  if (status === 400 || status === 422) return DynatraceFailureType.badRequest;
  if (status === 401) return DynatraceFailureType.unauthorized;
  if (status === 403) return DynatraceFailureType.forbidden;
  if (status === 404) return DynatraceFailureType.notFound;
  if (status === 406 || status === 409) return DynatraceFailureType.conflict;
  return DynatraceFailureType.rejected;
}

/**
 * Dynatrace documents no Retry-After (reference §9.1, [U]) and the rate-limit reset header's unit
 * is ambiguous (µs in the docs, s in Monaco): read either, by magnitude, clamped to [1 s, 60 s].
 */
export function retryDelayFromHeaders(
  headers: Record<string, string | string[] | undefined>,
  now = Date.now(),
): number | undefined {
  const retryAfter = first(headers['retry-after']);
  if (retryAfter !== undefined) {
    const seconds = Number(retryAfter);
    const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(retryAfter) - now;
    if (Number.isFinite(ms)) return clamp(ms);
  }
  const reset = Number(first(headers['x-ratelimit-reset']));
  if (Number.isFinite(reset) && reset > 0) {
    const resetMs = reset > 1e14 ? reset / 1000 : reset > 1e11 ? reset : reset * 1000;
    return clamp(resetMs - now);
  }
  return undefined;
}

/**
 * For a 429 without a hint: exponential back-off with jitter from the activity's attempt number,
 * so a fleet of throttled activities does not retry in lockstep.
 */
export function throttleBackoffMs(random = Math.random): number {
  let attempt = 1;
  try {
    attempt = Context.current().info.attempt;
  } catch {
    // Not inside an activity (CLI, tests): first attempt.
  }
  const ceiling = Math.min(60_000, 1000 * 2 ** Math.min(attempt - 1, 6));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function clamp(ms: number): number {
  return Math.min(60_000, Math.max(1000, Math.round(ms)));
}
