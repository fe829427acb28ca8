import type { ApprovalDecision } from '../shared/remediation-signals.js';

export interface Approval extends ApprovalDecision {
  decision: 'approve' | 'reject';
}

/** A roll that waits for a person: open while waiting, and only the first decision counts. */
export class ApprovalGate {
  waiting = false;
  decided: Approval | undefined;

  /** Signals from the Temporal UI are ignored when there is nothing to decide. */
  receive(decision: 'approve' | 'reject', args?: ApprovalDecision): void {
    if (!this.waiting || this.decided) return;
    this.decided = { decision, ...args };
  }

  /** The validated update tells the caller why a decision is refused. */
  refusal(decision: string, hostEntityId: string): string | undefined {
    if (decision !== 'approve' && decision !== 'reject') return 'the decision is approve or reject';
    if (!this.waiting) return `the remediation of ${hostEntityId} is not waiting for approval`;
    if (this.decided) return `the remediation of ${hostEntityId} was already ${this.decided.decision}d`;
    return undefined;
  }
}
