import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import type { WorkflowProgress } from '../shared/progress.js';
import { progressQuery } from '../workflows/shared/operator-controls.js';

export type Outcome<T> =
  | { kind: 'completed'; result: T; progress?: WorkflowProgress }
  | { kind: 'needs-attention'; progress: WorkflowProgress }
  | { kind: 'failed'; message: string; failureType?: string }
  | { kind: 'timed-out'; progress?: WorkflowProgress };

export async function queryProgress(handle: WorkflowHandle, timeoutMs = 5_000): Promise<WorkflowProgress | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      handle.query(progressQuery),
      new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs))),
    ]);
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Follows a run until it completes, fails, or stops to wait for a human (then the caller can tell
 * the user what to do instead of hanging), reporting progress as it changes.
 */
export async function waitForOutcome<T>(
  handle: WorkflowHandle,
  options: { timeoutMs: number; onProgress?: (progress: WorkflowProgress) => void },
): Promise<Outcome<T>> {
  let settled: Outcome<T> | undefined;
  const result = handle.result().then(
    (value) => (settled = { kind: 'completed', result: value as T }),
    (err: unknown) => {
      const cause = err instanceof WorkflowFailedError ? err.cause : undefined;
      settled = {
        kind: 'failed',
        message: cause?.message ?? (err as Error).message,
        ...(cause && 'type' in cause && typeof cause.type === 'string' ? { failureType: cause.type } : {}),
      };
    },
  );
  const deadline = Date.now() + options.timeoutMs;
  let last: WorkflowProgress | undefined;
  while (!settled) {
    const progress = await queryProgress(handle);
    if (progress) {
      last = progress;
      options.onProgress?.(progress);
      if (progress.phase === 'NeedsAttention' && !settled) return { kind: 'needs-attention', progress };
    }
    if (Date.now() > deadline) return { kind: 'timed-out', ...(last ? { progress: last } : {}) };
    await Promise.race([result, new Promise((r) => setTimeout(r, 1000))]);
  }
  if (settled.kind === 'completed') {
    const progress = await queryProgress(handle);
    if (progress) options.onProgress?.(progress);
    return { ...settled, ...(progress ? { progress } : {}) };
  }
  return settled;
}
