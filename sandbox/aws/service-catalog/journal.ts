/** One AWS-protocol request the emulator answered. */
export interface RequestLogEntry {
  requestId: string;
  /** The operation from `X-Amz-Target`, or undefined when the target was missing or foreign. */
  operation?: string;
  at: Date;
  httpStatus: number;
  /** The `__type` of an error answer. */
  errorCode?: string;
  faultInjected: boolean;
}

/** Counters tests use to tell SDK attempts, idempotent replays and real creations apart. */
export interface EmulatorStats {
  requests: number;
  requestsByOperation: Record<string, number>;
  faultsInjected: number;
  /** Every CreateProvisioningArtifact request received, including SDK retries, replays and refused ones. */
  createProvisioningArtifactCalls: number;
  /** Versions that CreateProvisioningArtifact actually created (deleted ones still count). */
  provisioningArtifactsCreated: number;
  /** Requests answered from the idempotency ledger instead of creating something. */
  idempotentReplays: number;
}

/** Records every AWS-protocol request; bounded so a long sandbox session does not grow without limit. */
export class RequestJournal {
  private readonly entries: RequestLogEntry[] = [];
  private readonly byOperation = new Map<string, number>();
  private total = 0;

  constructor(private readonly capacity = 10_000) {}

  record(entry: RequestLogEntry): void {
    this.total++;
    if (entry.operation !== undefined) {
      this.byOperation.set(entry.operation, (this.byOperation.get(entry.operation) ?? 0) + 1);
    }
    this.entries.push(entry);
    if (this.entries.length > this.capacity) this.entries.shift();
  }

  list(operation?: string): RequestLogEntry[] {
    return this.entries
      .filter((entry) => operation === undefined || entry.operation === operation)
      .map((e) => ({ ...e }));
  }

  count(operation?: string): number {
    return operation === undefined ? this.total : (this.byOperation.get(operation) ?? 0);
  }

  countsByOperation(): Record<string, number> {
    return Object.fromEntries(this.byOperation);
  }

  clear(): void {
    this.entries.length = 0;
    this.byOperation.clear();
    this.total = 0;
  }
}
