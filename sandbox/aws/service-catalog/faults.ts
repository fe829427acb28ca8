import { ServiceCatalogError } from './errors.js';

/**
 * A failure to inject into the next matching request, to exercise the SDK's retries.
 * `afterProcessing` (InternalFailure only) performs the operation and then answers 500 anyway, like a response lost
 * on the way back: the SDK retries with the same idempotency token, which must not create a second resource.
 */
export type FaultSpec =
  | { kind: 'InternalFailure'; operation?: string; afterProcessing?: boolean }
  | { kind: 'ThrottlingException'; operation?: string };

export interface FaultRates {
  /** Share (0–1) of requests answered HTTP 500 InternalFailure. */
  internalFailureRate: number;
  /** Share (0–1) of requests answered HTTP 400 ThrottlingException. */
  throttlingRate: number;
}

export interface FaultDecision {
  fault: FaultSpec;
  before: boolean;
}

/** Decides which requests fail: queued one-off faults first, then the configured random rates. */
export class FaultInjector {
  private readonly queue: FaultSpec[] = [];
  injected = 0;

  constructor(private readonly random: () => number) {}

  enqueue(faults: FaultSpec[]): void {
    this.queue.push(...faults);
  }

  clear(): void {
    this.queue.length = 0;
    this.injected = 0;
  }

  pending(): number {
    return this.queue.length;
  }

  decide(operation: string, rates: FaultRates): FaultDecision | undefined {
    const index = this.queue.findIndex((fault) => fault.operation === undefined || fault.operation === operation);
    if (index >= 0) {
      const [fault] = this.queue.splice(index, 1);
      this.injected++;
      return { fault: fault!, before: !(fault!.kind === 'InternalFailure' && fault!.afterProcessing === true) };
    }
    // One draw for both rates, so that internalFailureRate + throttlingRate is the total failure share.
    const draw = this.random();
    if (draw < rates.internalFailureRate) {
      this.injected++;
      return { fault: { kind: 'InternalFailure' }, before: true };
    }
    if (draw < rates.internalFailureRate + rates.throttlingRate) {
      this.injected++;
      return { fault: { kind: 'ThrottlingException' }, before: true };
    }
    return undefined;
  }
}

export function faultError(fault: FaultSpec): ServiceCatalogError {
  return fault.kind === 'InternalFailure'
    ? new ServiceCatalogError('InternalFailure', 'An internal error occurred (injected by the emulator)', 500)
    : new ServiceCatalogError('ThrottlingException', 'Rate exceeded (injected by the emulator)', 400);
}
