/**
 * A guard against a run being advanced outside a workflow task.
 *
 * A legacy query (one the server sends while no workflow task has started: the CLI's `--wait`
 * progress, the client's `progress()`, the Temporal UI's stack trace) can reach a worker that does not hold
 * the run, with the whole history, including events that arrived after the last workflow task: a
 * timer that fired, signals. The SDK (1.24, sdk-core) replays that history and applies those last
 * events as well, at the clock of the last workflow task, and keeps the run cached. When the real
 * workflow task then arrives with more events, the run completes it with the commands it decided
 * in between: decisions no replay of the history makes again. The run's next replay then fails
 * with a nondeterminism error, and the fleet stalls (bench/results/cases/README.md).
 *
 * Such an activation is recognisable: history has grown but the workflow clock has not moved, since
 * the clock is the start time of the workflow task being applied and these events belong to no
 * started task. Failing it fails the query and makes the worker evict the run, so the next
 * workflow task rebuilds it from history, where those events are applied with the task they
 * belong to. A query that lands here is answered again once the run has had its next task.
 */
import { log, type WorkflowInterceptorsFactory } from '@temporalio/workflow';

interface TaskMark {
  historyLength: number;
  seconds: string;
  nanos: number;
}

type ActivationTimestamp = { seconds?: { toString(): string } | null; nanos?: number | null } | null | undefined;

const markOf = (historyLength: number | null | undefined, timestamp: ActivationTimestamp): TaskMark | undefined =>
  historyLength && timestamp
    ? { historyLength, seconds: String(timestamp.seconds ?? 0), nanos: timestamp.nanos ?? 0 }
    : undefined;

/** History grew, the clock did not: these events were applied without a task of their own. */
const outsideATask = (mark: TaskMark, last: TaskMark) =>
  mark.historyLength > last.historyLength && mark.seconds === last.seconds && mark.nanos === last.nanos;

export class EventsOutsideWorkflowTaskError extends Error {
  constructor(historyLength: number, lastTaskLength: number, jobs: string[]) {
    super(
      `Refusing to apply history events ${lastTaskLength + 1}–${historyLength} (${jobs.join(', ')}) outside a workflow task ` +
        '(a query replayed a run whose last events no workflow task has processed yet); ' +
        'the run is evicted and rebuilt by its next workflow task',
    );
    this.name = 'EventsOutsideWorkflowTaskError';
  }
}

export const interceptors: WorkflowInterceptorsFactory = () => {
  let last: TaskMark | undefined;
  return {
    internals: [
      {
        activate(input, next) {
          const { historyLength, timestamp, jobs } = input.activation;
          const mark = markOf(historyLength, timestamp);
          if (mark && last && outsideATask(mark, last)) {
            const variants = (jobs ?? []).map((j) => j.variant ?? 'unknown');
            // A closed run's last events reach a query the same way, with nothing to apply but the query.
            if (variants.some((v) => v !== 'queryWorkflow')) {
              const refusal = new EventsOutsideWorkflowTaskError(mark.historyLength, last.historyLength, variants);
              log.warn(refusal.message);
              throw refusal;
            }
          }
          if (mark) last = mark;
          next(input);
        },
      },
    ],
  };
};
