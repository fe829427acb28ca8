import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  defineQuery,
  defineSignal,
  defineUpdate,
  isCancellation,
  log,
  setCurrentDetails,
  setHandler,
  TimeoutFailure,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { AutopilotPhase } from '../../shared/phases.js';
import type { DecisionArgs, OperatorDecision, StepProgress, WorkflowProgress } from '../../shared/progress.js';
import { AUTOPILOT_PHASE } from '../../shared/search-attributes.js';
import { FailureType } from '../../shared/failure-types.js';

// Signals for the Temporal UI and scripts; the CLI uses the `decide` update, which is validated and
// tells the caller right away whether the workflow took the decision.
export const retrySignal = defineSignal<[DecisionArgs?]>('retry');
export const skipSignal = defineSignal<[DecisionArgs?]>('skip');
export const abortSignal = defineSignal<[DecisionArgs?]>('abort');
export const decideUpdate = defineUpdate<{ step: string; action: string }, [OperatorDecision]>('decide');
export type { DecisionArgs, OperatorDecision };
export const progressQuery = defineQuery<WorkflowProgress>('progress');

export interface StepDefinition {
  name: string;
  title: string;
  /** Optional steps may be skipped by an operator; required ones only retried or aborted. */
  optional?: boolean;
}

export interface OperatorControlsOptions {
  /** "environment abc-p1": used in the details shown in the Temporal UI. */
  subject: string;
  /** Checks corrected input sent with `retry`; returns an error message to reject it. */
  validateInput?: (patch: Record<string, unknown>) => string | undefined;
  applyInput?: (patch: Record<string, unknown>) => void;
  /** Told about every phase change (a fleet follows its hosts this way). */
  onPhase?: (phase: AutopilotPhase, attention?: { step: string; reason: string }) => void;
}

/**
 * Registers the human in the loop on the calling workflow: the `progress` query, the `retry`,
 * `skip` and `abort` signals and the validated `decide` update. Each step then runs its activity;
 * when the activity fails for a reason retries cannot fix (or runs out of retries), the workflow
 * does not fail but sets `AutopilotPhase=NeedsAttention`, says why, and waits for a decision.
 */
export function registerOperatorControls(steps: StepDefinition[], options: OperatorControlsOptions): OperatorControls {
  return new OperatorControls(steps, options);
}

/** What `registerOperatorControls` gives a workflow: its steps, its phase and what the UI shows. */
export class OperatorControls {
  readonly progress: WorkflowProgress;
  private pending: OperatorDecision | undefined;
  private awaiting: StepDefinition | undefined;

  constructor(
    private readonly steps: StepDefinition[],
    private readonly options: OperatorControlsOptions,
  ) {
    this.progress = {
      phase: AutopilotPhase.Running,
      steps: steps.map((s) => ({ name: s.name, title: s.title, status: 'pending', attempts: 0 })),
      decisions: [],
    };
    setHandler(progressQuery, () => this.progress);
    setHandler(retrySignal, (args) => this.receive({ action: 'retry', ...args }));
    setHandler(skipSignal, (args) => this.receive({ action: 'skip', ...args }));
    setHandler(abortSignal, (args) => this.receive({ action: 'abort', ...args }));
    setHandler(
      decideUpdate,
      (decision) => {
        const step = this.awaiting!.name;
        this.pending = decision;
        return { step, action: decision.action };
      },
      { validator: (decision: OperatorDecision) => this.validate(decision) },
    );
  }

  setPhase(phase: AutopilotPhase): void {
    const changed = this.progress.phase !== phase;
    this.progress.phase = phase;
    upsertSearchAttributes([{ key: AUTOPILOT_PHASE, value: phase }]);
    this.render();
    if (changed) this.options.onPhase?.(phase, this.progress.attention);
  }

  /** Runs a required step: it returns its result, or throws `OperatorAborted` when an operator aborted. */
  async step<T>(
    name: string,
    run: () => Promise<T>,
    describe?: (result: T) => string,
    options: { keepRunning?: boolean } = {},
  ): Promise<T> {
    if (this.definition(name).optional) throw new Error(`step ${name} is optional: run it with optionalStep`);
    const outcome = await this.attempt(name, run, describe, options);
    if (!outcome.done) throw new Error(`required step ${name} was skipped`);
    return outcome.result;
  }

  /** Runs an optional step: its result, or undefined when an operator skipped it. */
  async optionalStep<T>(name: string, run: () => Promise<T>, describe?: (result: T) => string): Promise<T | undefined> {
    if (!this.definition(name).optional) throw new Error(`step ${name} is required: run it with step`);
    const outcome = await this.attempt(name, run, describe, {});
    return outcome.done ? outcome.result : undefined;
  }

  private definition(name: string): StepDefinition {
    const definition = this.steps.find((s) => s.name === name);
    if (!definition) throw new Error(`unknown step ${name}`);
    return definition;
  }

  private async attempt<T>(
    name: string,
    run: () => Promise<T>,
    describe: ((result: T) => string) | undefined,
    options: { keepRunning?: boolean },
  ): Promise<{ done: true; result: T } | { done: false }> {
    const definition = this.definition(name);
    const progress = this.stepProgress(name);
    for (;;) {
      progress.status = 'running';
      progress.attempts++;
      progress.startedAt ??= new Date().toISOString();
      this.render();
      try {
        const result = await run();
        // A step that repeats (collecting notifications) stays running between its attempts.
        progress.status = options.keepRunning ? 'running' : 'done';
        if (!options.keepRunning) progress.finishedAt = new Date().toISOString();
        if (describe) progress.detail = describe(result);
        this.render();
        return { done: true, result };
      } catch (err) {
        // Activity failures, and failures the step raises itself, wait for a person; bugs and
        // cancellation do not.
        if (isCancellation(err) || !(err instanceof ActivityFailure || err instanceof ApplicationFailure)) throw err;
        const decision = await this.askOperator(definition, err);
        if (decision.action === 'skip') {
          progress.status = 'skipped';
          progress.detail = `skipped by operator${decision.reason ? `: ${decision.reason}` : ''}`;
          progress.finishedAt = new Date().toISOString();
          this.render();
          return { done: false };
        }
        if (decision.action === 'abort') {
          this.setPhase(AutopilotPhase.Aborted);
          throw ApplicationFailure.nonRetryable(
            `${this.options.subject}: aborted by operator at step "${definition.title}"${decision.reason ? `: ${decision.reason}` : ''}`,
            FailureType.OperatorAborted,
          );
        }
      }
    }
  }

  /** Marks a step done that the workflow drove itself (e.g. collecting until a threshold). */
  complete(name: string, detail: string): void {
    const progress = this.stepProgress(name);
    progress.status = 'done';
    progress.detail = detail;
    progress.finishedAt = new Date().toISOString();
    this.render();
  }

  /** Marks a step skipped because an earlier step it needs was skipped. */
  skipBecause(name: string, reason: string): void {
    const progress = this.stepProgress(name);
    progress.status = 'skipped';
    progress.detail = reason;
    this.render();
  }

  private stepProgress(name: string): StepProgress {
    return this.progress.steps.find((s) => s.name === name)!;
  }

  /** Shows what a running step is doing (e.g. waiting for something). */
  note(name: string, detail: string): void {
    const progress = this.stepProgress(name);
    if (progress.detail === detail) return;
    progress.detail = detail;
    this.render();
  }

  private async askOperator(
    definition: StepDefinition,
    err: ActivityFailure | ApplicationFailure,
  ): Promise<OperatorDecision> {
    const { reason, failureType } = attentionReason(err);
    this.stepProgress(definition.name).status = 'needs-attention';
    this.progress.attention = {
      step: definition.name,
      reason,
      ...(failureType ? { failureType } : {}),
      since: new Date().toISOString(),
      allowed: definition.optional ? ['retry', 'skip', 'abort'] : ['retry', 'abort'],
    };
    this.awaiting = definition;
    this.pending = undefined;
    log.warn('Step needs attention', { step: definition.name, reason, failureType });
    this.setPhase(AutopilotPhase.NeedsAttention);
    await condition(() => this.pending !== undefined);
    const decision = this.pending!;
    this.pending = undefined;
    this.awaiting = undefined;
    this.progress.attention = undefined;
    this.progress.decisions.push({
      action: decision.action,
      step: definition.name,
      ...(decision.reason ? { reason: decision.reason } : {}),
      at: new Date().toISOString(),
    });
    if (decision.action === 'retry' && decision.input) this.options.applyInput?.(decision.input);
    if (decision.action !== 'abort') this.setPhase(AutopilotPhase.Running);
    return decision;
  }

  private validate(decision: OperatorDecision): void {
    if (!this.awaiting)
      throw new Error(`${this.options.subject} is not waiting for a decision (phase ${this.progress.phase})`);
    if (this.pending)
      throw new Error(`${this.options.subject} already received a decision (${this.pending.action}) for this step`);
    if (!['retry', 'skip', 'abort'].includes(decision.action)) throw new Error(`unknown action ${decision.action}`);
    if (decision.action === 'skip' && !this.awaiting.optional) {
      throw new Error(`step "${this.awaiting.title}" cannot be skipped: later steps need it; retry or abort`);
    }
    if (decision.input) {
      if (decision.action !== 'retry') throw new Error('corrected input can only come with retry');
      const problem =
        this.options.validateInput?.(decision.input) ??
        (this.options.validateInput ? undefined : 'this workflow takes no corrected input');
      if (problem) throw new Error(`corrected input rejected: ${problem}`);
    }
  }

  private receive(decision: OperatorDecision): void {
    try {
      this.validate(decision);
    } catch (err) {
      log.warn('Ignored operator signal', { action: decision.action, why: (err as Error).message });
      return;
    }
    this.pending = decision;
  }

  private render(): void {
    const icon: Record<string, string> = {
      pending: '·',
      running: '…',
      done: '✓',
      skipped: '↷',
      'needs-attention': '✗',
    };
    const rows = this.progress.steps.map(
      (s) => `| ${icon[s.status]} | ${s.title} | ${s.status}${s.detail ? ` — ${s.detail}` : ''} |`,
    );
    const attention = this.progress.attention
      ? [
          '',
          `**Needs attention** at *${this.steps.find((s) => s.name === this.progress.attention!.step)?.title}*: ${this.progress.attention.reason}`,
          '',
          `Fix the cause, then send the signal ${this.progress.attention.allowed.map((a) => `\`${a}\``).join(', ')} (or \`autopilot ${this.progress.attention.allowed.join('|')} <workflowId>\`).`,
        ]
      : [];
    setCurrentDetails(
      [
        `**${this.options.subject}** — ${this.progress.phase}`,
        '',
        '| | Step | Status |',
        '|---|---|---|',
        ...rows,
        ...attention,
      ].join('\n'),
    );
  }
}

/** What an operator is told about a failed step: the activity's own failure, not Temporal's wrapper. */
function attentionReason(err: ActivityFailure | ApplicationFailure): { reason: string; failureType?: string } {
  if (err instanceof ApplicationFailure) return { reason: err.message, ...(err.type ? { failureType: err.type } : {}) };
  const cause = err.cause;
  if (cause instanceof ApplicationFailure) {
    return { reason: cause.message, ...(cause.type ? { failureType: cause.type } : {}) };
  }
  if (cause instanceof TimeoutFailure) {
    return {
      reason: `the step kept failing or timing out until its retry window closed (${cause.timeoutType ?? 'timeout'}): ${cause.cause?.message ?? cause.message}`,
      failureType: FailureType.StepTimedOut,
    };
  }
  return { reason: cause?.message ?? err.message };
}
