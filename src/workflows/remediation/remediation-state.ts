import { log } from '@temporalio/workflow';
import type { CatalogContext } from '../../activities/remediation/resolve-catalog-context.js';
import type {
  IgnoredNotification,
  Occurrence,
  ProblemNotification,
  RemediationOutcome,
  RemediationResult,
  RemediationStatus,
  RolledArtifact,
} from '../../shared/remediation.js';

/** State a noisy host's remediation carries into its next run (continue-as-new). */
export interface RemediationCarried {
  seen: string[];
  pending: ProblemNotification[];
  occurrences: Occurrence[];
  ignored: IgnoredNotification[];
  hostName?: string;
  context?: Extract<CatalogContext, { ok: true }>;
  stage: 'collecting' | 'cooldown';
  cooldownUntil?: number;
  artifact?: RolledArtifact;
  outcome?: RemediationOutcome;
  reason?: string;
  commented: string[];
}

const MAX_SEEN = 500;
const MAX_IGNORED = 100;

/**
 * What one host's remediation knows, and the only place it changes: notifications arrive
 * de-duplicated by problem and state, validated ones count within the window, and every problem
 * is commented on once.
 */
export class RemediationState {
  readonly carried: RemediationCarried;

  constructor(carried?: RemediationCarried) {
    this.carried = carried ?? {
      seen: [],
      pending: [],
      occurrences: [],
      ignored: [],
      stage: 'collecting',
      commented: [],
    };
  }

  /** A notification from the webhook (or a problem lookup): queued unless this problem and state came before. */
  receive(notification: ProblemNotification): void {
    const key = `${notification.problemId}:${notification.state}`;
    if (this.carried.seen.includes(key)) return;
    this.carried.seen.push(key);
    if (this.carried.seen.length > MAX_SEEN) this.carried.seen.splice(0, this.carried.seen.length - MAX_SEEN);
    this.carried.pending.push(notification);
  }

  get hasPending(): boolean {
    return this.carried.pending.length > 0;
  }

  nextPending(): ProblemNotification | undefined {
    return this.carried.pending.shift();
  }

  ignore(notification: ProblemNotification, reason: string): void {
    this.carried.ignored.push({ problemId: notification.problemId, state: notification.state, reason });
    if (this.carried.ignored.length > MAX_IGNORED) {
      this.carried.ignored.splice(0, this.carried.ignored.length - MAX_IGNORED);
    }
    log.info('Notification recorded without action', {
      problemId: notification.problemId,
      state: notification.state,
      reason,
    });
  }

  /** True when the occurrence is a problem not counted before. */
  count(occurrence: Occurrence): boolean {
    if (this.carried.occurrences.some((o) => o.problemId === occurrence.problemId)) return false;
    this.carried.occurrences.push(occurrence);
    return true;
  }

  /** Forgets occurrences older than the window (measured in workflow time) and says how many are left. */
  withinWindow(windowMs: number): number {
    this.carried.occurrences = this.carried.occurrences.filter((o) => Date.now() - o.at < windowMs);
    return this.carried.occurrences.length;
  }

  /** When the oldest counted occurrence leaves the window. */
  windowClosesAt(windowMs: number): number {
    return Math.min(...this.carried.occurrences.map((o) => o.at)) + windowMs;
  }

  allOutside(windowMs: number): boolean {
    return this.carried.occurrences.every((o) => Date.now() - o.at >= windowMs);
  }

  /** The problems of the episode, and how a comment lists them. */
  episode(): { problemIds: string[]; displayIds: string } {
    return {
      problemIds: this.carried.occurrences.map((o) => o.problemId),
      displayIds: this.carried.occurrences.map((o) => o.displayId).join(', '),
    };
  }

  uncommented(problemIds: string[]): string[] {
    return problemIds.filter((id) => !this.carried.commented.includes(id));
  }

  commented(problemIds: string[]): void {
    this.carried.commented.push(...problemIds);
  }

  /** The host as comments name it: its name once a validated problem told it, else its entity id. */
  hostLabel(hostEntityId: string): string {
    return this.carried.hostName ?? hostEntityId;
  }

  status(phase: string, threshold: number, awaitingApproval: boolean): RemediationStatus {
    const c = this.carried;
    return {
      phase,
      ...(c.hostName ? { hostName: c.hostName } : {}),
      occurrences: c.occurrences,
      ignored: c.ignored,
      threshold,
      awaitingApproval,
      ...(c.cooldownUntil ? { cooldownUntil: new Date(c.cooldownUntil).toISOString() } : {}),
      ...(c.artifact ? { artifact: c.artifact } : {}),
      ...(c.outcome ? { outcome: c.outcome } : {}),
    };
  }

  finish(
    target: { environmentId: string; hostEntityId: string },
    outcome: RemediationOutcome,
    reason: string,
  ): RemediationResult {
    const c = this.carried;
    c.outcome = outcome;
    c.reason = reason;
    return {
      ...target,
      ...(c.hostName ? { hostName: c.hostName } : {}),
      outcome,
      reason,
      occurrences: c.occurrences,
      ignored: c.ignored,
      ...(c.artifact ? { artifact: c.artifact } : {}),
      commented: c.commented,
    };
  }
}
