import { AutopilotPhase } from '../../shared/phases.js';
import type {
  EnvironmentApplyOutcome,
  EnvironmentApplyState,
  StandardsApplyProgress,
  StandardsPlanSummary,
} from '../../shared/standards.js';
import { emptyCounts } from '../../shared/standards.js';
import type { EnvironmentDecision } from '../shared/standards-signals.js';

/** Attention entries a progress answer lists; the count always covers them all. */
const LISTED_ATTENTION = 200;

/**
 * Where each environment of one standards run stands: waiting to be written, being written, done,
 * waiting for an operator's retry or skip, or skipped. The run's progress is read from here.
 */
export class StandardsApplyState {
  private readonly environments = new Map<string, EnvironmentApplyState>();
  private readonly attention = new Map<string, { reason: string; since: string }>();
  /** Environments an operator sent back: they are written again, user groups included. */
  readonly retried: string[] = [];
  readonly progress: StandardsApplyProgress;

  constructor(workflowId: string, setHash: string) {
    this.progress = {
      workflowId,
      setHash,
      phase: AutopilotPhase.Running,
      planned: emptyCounts(),
      environments: 0,
      applied: 0,
      unchanged: 0,
      skipped: 0,
      writes: { created: 0, updated: 0, deleted: 0 },
      attention: [],
    };
  }

  planned(summary: StandardsPlanSummary): void {
    this.progress.planned = summary.counts;
    this.progress.environments = summary.changedEnvironments.length;
    for (const id of summary.changedEnvironments) this.environments.set(id, 'pending');
  }

  /** The environments still to be written, in plan order. */
  takePending(limit: number): string[] {
    const taken: string[] = [];
    for (const [id, state] of this.environments) {
      if (taken.length >= limit) break;
      if (state !== 'pending') continue;
      this.environments.set(id, 'applying');
      taken.push(id);
    }
    return taken;
  }

  get hasPending(): boolean {
    return [...this.environments.values()].includes('pending');
  }

  get waiting(): number {
    return this.attention.size;
  }

  /** An environment whose user groups were refused needs attention even if its settings go through. */
  groupsRefused(outcome: EnvironmentApplyOutcome): void {
    this.attention.set(outcome.environmentId, { reason: outcome.reason ?? 'refused', since: new Date().toISOString() });
    this.addWrites(outcome);
    this.render();
  }

  groupsWritten(outcome: EnvironmentApplyOutcome): void {
    this.addWrites(outcome);
  }

  record(outcome: EnvironmentApplyOutcome): void {
    this.addWrites(outcome);
    const groupReason = this.attention.get(outcome.environmentId);
    if (outcome.outcome === 'needs-attention' || groupReason) {
      const reason = [groupReason?.reason, outcome.reason].filter(Boolean).join('; ');
      this.environments.set(outcome.environmentId, 'needs-attention');
      this.attention.set(outcome.environmentId, { reason, since: groupReason?.since ?? new Date().toISOString() });
    } else {
      this.environments.set(outcome.environmentId, 'applied');
      if (outcome.outcome === 'applied') this.progress.applied++;
      else this.progress.unchanged++;
    }
    this.render();
  }

  /** A batch that could not be run at all: each of its environments waits for a decision. */
  failed(environmentIds: readonly string[], reason: string): void {
    for (const id of environmentIds) {
      this.environments.set(id, 'needs-attention');
      this.attention.set(id, { reason, since: new Date().toISOString() });
    }
    this.render();
  }

  /** Throws when the decision cannot be taken, saying why (the update's validator). */
  validate(decision: EnvironmentDecision): void {
    if (decision.action !== 'retry' && decision.action !== 'skip') {
      throw new Error(`unknown action ${String(decision.action)}: retry or skip`);
    }
    if (decision.environmentId === '*') {
      if (this.attention.size === 0) throw new Error('no environment is waiting for a decision');
      return;
    }
    if (!this.attention.has(decision.environmentId)) {
      const state = this.environments.get(decision.environmentId);
      throw new Error(
        state
          ? `${decision.environmentId} is ${state}, not waiting for a decision`
          : `${decision.environmentId} is not part of this run`,
      );
    }
  }

  decide(decision: EnvironmentDecision): string[] {
    const ids = decision.environmentId === '*' ? [...this.attention.keys()] : [decision.environmentId];
    for (const id of ids) {
      this.attention.delete(id);
      if (decision.action === 'skip') {
        this.environments.set(id, 'skipped');
        this.progress.skipped++;
      } else {
        this.environments.set(id, 'pending');
        this.retried.push(id);
      }
    }
    this.render();
    return ids;
  }

  private addWrites(outcome: EnvironmentApplyOutcome): void {
    this.progress.writes.created += outcome.created;
    this.progress.writes.updated += outcome.updated;
    this.progress.writes.deleted += outcome.deleted;
  }

  setPhase(phase: AutopilotPhase): void {
    this.progress.phase = phase;
  }

  private render(): void {
    this.progress.attention = [...this.attention.entries()]
      .slice(0, LISTED_ATTENTION)
      .map(([environmentId, a]) => ({ environmentId, ...a }));
  }

  /** One line for the Temporal UI's current details. */
  summary(): string {
    const p = this.progress;
    const done = p.applied + p.unchanged + p.skipped;
    return [
      `${done}/${p.environments} environment(s) done`,
      `${p.writes.created} created, ${p.writes.updated} updated, ${p.writes.deleted} deleted`,
      ...(this.attention.size ? [`${this.attention.size} need attention`] : []),
      ...(p.skipped ? [`${p.skipped} skipped`] : []),
    ].join(', ');
  }
}
