import proto from '@temporalio/proto';
import type { Client } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { HOST_ENROLLMENT } from '../../src/shared/enrollment.js';
import { mapWithConcurrency } from '../../src/concurrency/map-with-concurrency.js';

const { EventType } = proto.temporal.api.enums.v1;
/** Events only a worker's work writes: a timer firing or a task timing out is the server alone. */
const WORKER_PROGRESS = new Set([
  EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
  EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
  EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
]);

/** Host enrollments running on the task queue now: the hosts in flight when something is about to go wrong. */
export async function hostsInFlight(client: Client, taskQueue: string): Promise<string[]> {
  const ids: string[] = [];
  const query = `TaskQueue = "${taskQueue}" AND WorkflowType = "${HOST_ENROLLMENT}" AND ExecutionStatus = "Running"`;
  for await (const run of client.workflow.list({ query })) ids.push(run.workflowId);
  return ids;
}

export interface MovingAgain {
  hosts: number;
  /** Seconds from the disruption until each host was moving again (a worker ran one of its tasks or activities). */
  p50: number;
  max: number;
  /** Hosts not moving again within the watch (their ids). */
  stuck: string[];
}

/**
 * Watches each host that was in flight at `since` until a live worker does something for it again:
 * an activity attempt started after `since`, a workflow task or activity completed after it, or the
 * run closed. Each host counts from the server's time of that first event, not from when a pass of
 * the watch found it: on a loaded machine one pass over a few hundred hosts takes several seconds.
 */
export async function watchUntilMovingAgain(
  client: Client,
  workflowIds: string[],
  since: number,
  options: { giveUpAfterMs?: number; concurrency?: number } = {},
): Promise<MovingAgain> {
  const giveUpAt = since + (options.giveUpAfterMs ?? 180_000);
  const waiting = new Set(workflowIds);
  const seconds: number[] = [];
  const lengths = new Map<string, number>();
  while (waiting.size > 0 && Date.now() < giveUpAt) {
    const passStarted = Date.now();
    await mapWithConcurrency([...waiting], options.concurrency ?? 16, async (workflowId) => {
      const movedAt = await movedAgainAt(client, workflowId, since, lengths).catch(() => undefined);
      if (movedAt !== undefined) {
        waiting.delete(workflowId);
        seconds.push((movedAt - since) / 1000);
      }
    });
    await sleep(Math.max(0, 1_000 - (Date.now() - passStarted)));
  }
  seconds.sort((a, b) => a - b);
  return {
    hosts: workflowIds.length,
    p50: seconds[Math.floor(seconds.length / 2)] ?? 0,
    max: seconds.at(-1) ?? 0,
    stuck: [...waiting],
  };
}

/** When a worker first did something for the host after `since` (server time), if it has yet. */
async function movedAgainAt(
  client: Client,
  workflowId: string,
  since: number,
  lengths: Map<string, number>,
): Promise<number | undefined> {
  const handle = client.workflow.getHandle(workflowId);
  const description = await handle.describe();
  const attemptsStarted = (description.raw.pendingActivities ?? [])
    .map((activity) => (activity.lastStartedTime ? tsToMs(activity.lastStartedTime) : 0))
    .filter((t) => t > since);
  const closed = description.status.name !== 'RUNNING';
  // The history is read only when it grew since the last look (or the run closed, to find when it
  // moved before closing).
  if (!closed && attemptsStarted.length === 0 && lengths.get(workflowId) === description.historyLength)
    return undefined;
  lengths.set(workflowId, description.historyLength);
  const history = await handle.fetchHistory();
  const progress = (history.events ?? [])
    .filter((e) => e.eventTime && e.eventType !== null && e.eventType !== undefined && WORKER_PROGRESS.has(e.eventType))
    .map((e) => tsToMs(e.eventTime))
    .filter((t) => t > since);
  const first = Math.min(...attemptsStarted, ...progress);
  if (Number.isFinite(first)) return first;
  return closed ? (description.closeTime?.getTime() ?? Date.now()) : undefined;
}
