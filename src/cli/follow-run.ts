import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../shared/failure-types.js';
import { CliError } from './cli-error.js';
import type { CliContext } from './context.js';
import { attentionLines, stepLine, type Print } from './output.js';
import { waitForOutcome } from './wait.js';

/** The flags of a command that starts a run and may follow it: spread into its `parseArgs` options. */
export const FOLLOW_RUN_OPTIONS = {
  wait: { type: 'boolean', default: false },
  timeout: { type: 'string', default: '60' },
  json: { type: 'boolean', default: false },
} as const;

export interface FollowRunFlags {
  wait: boolean;
  json: boolean;
  /** `--timeout` as given, in minutes, for the line that says how long it waited. */
  timeoutMinutes: string;
  timeoutMs: number;
}

/** Reads the follow flags; called with the command's other checks, so bad input fails before connecting. */
export function followRunFlags(values: { wait: boolean; timeout: string; json: boolean }): FollowRunFlags {
  const minutes = Number(values.timeout);
  if (!Number.isFinite(minutes) || minutes <= 0)
    throw new CliError(`--timeout must be a number of minutes, got ${JSON.stringify(values.timeout)}`);
  return { wait: values.wait, json: values.json, timeoutMinutes: values.timeout, timeoutMs: minutes * 60_000 };
}

/** What differs between the commands that start and follow a run; the flow around it is the same. */
export interface RunToFollow<Result> {
  /** Starts the run or attaches to the one in progress; a refused input comes back as the CLI's error. */
  start(): Promise<WorkflowHandleWithFirstExecutionRunId>;
  /** The first line printed (text output only): what was started. */
  startedLine(handle: WorkflowHandleWithFirstExecutionRunId): string;
  /** The lines that tell the user what the completed run did (text output only). */
  completedLines(result: Result): string[];
  failedLine(message: string): string;
}

/** Exit codes of a started or followed run, so scripts can tell "done" from "a human must look". */
export const FollowRunExit = { Ok: 0, Failed: 1, NeedsAttention: 3, TimedOut: 4 } as const;

/**
 * Starts a run and, with `--wait`, follows it to its outcome, printing each step as it settles,
 * then the outcome as text or one JSON object; returns the exit code. Without `--wait` it returns
 * as soon as the run is started: the run goes on in Temporal either way.
 */
export async function startAndFollow<Result>(
  ctx: CliContext,
  print: Print,
  flags: FollowRunFlags,
  run: RunToFollow<Result>,
): Promise<number> {
  let handle: WorkflowHandleWithFirstExecutionRunId;
  try {
    handle = await run.start();
  } catch (err) {
    if (err instanceof ApplicationFailure && err.type === FailureType.InvalidWorkflowInput)
      throw new CliError(err.message);
    throw err;
  }
  const base = { workflowId: handle.workflowId, runId: handle.firstExecutionRunId };
  if (!flags.json) {
    print(run.startedLine(handle));
    const link = ctx.uiLink(handle.workflowId);
    if (link) print(`  ${link}`);
  }
  if (!flags.wait) {
    if (flags.json) print(JSON.stringify({ ...base, status: 'RUNNING' }));
    return FollowRunExit.Ok;
  }

  // A step is printed once it has settled, and again only if what it says changes.
  const shown = new Map<string, string>();
  const outcome = await waitForOutcome<Result>(handle, {
    timeoutMs: flags.timeoutMs,
    onProgress: (progress) => {
      if (flags.json) return;
      for (const step of progress.steps) {
        const key = `${step.status}:${step.detail ?? ''}`;
        if (step.status !== 'pending' && step.status !== 'running' && shown.get(step.name) !== key) {
          shown.set(step.name, key);
          print(stepLine(step));
        }
      }
    },
  });
  switch (outcome.kind) {
    case 'completed':
      if (flags.json) print(JSON.stringify({ ...base, status: 'COMPLETED', result: outcome.result }));
      else run.completedLines(outcome.result).forEach((line) => print(line));
      return FollowRunExit.Ok;
    case 'needs-attention':
      if (flags.json)
        print(JSON.stringify({ ...base, status: 'NEEDS_ATTENTION', attention: outcome.progress.attention }));
      else attentionLines(handle.workflowId, outcome.progress).forEach((line) => print(line));
      return FollowRunExit.NeedsAttention;
    case 'failed':
      if (flags.json)
        print(
          JSON.stringify({
            ...base,
            status: 'FAILED',
            error: outcome.message,
            failureType: outcome.failureType,
          }),
        );
      else print(run.failedLine(outcome.message));
      return FollowRunExit.Failed;
    case 'timed-out':
      if (flags.json) print(JSON.stringify({ ...base, status: 'RUNNING', timedOut: true }));
      else
        print(
          `Still running after ${flags.timeoutMinutes} minutes; follow it with: autopilot status ${handle.workflowId}`,
        );
      return FollowRunExit.TimedOut;
  }
}
