import { Context, heartbeat } from '@temporalio/activity';
import { HEARTBEAT_EVERY_MS } from '../shared/heartbeats.js';
import { heartbeatsOnItsOwn } from './keep-alive.js';

/**
 * Heartbeats on a timer for as long as `work` runs. Heartbeat timeouts are how Temporal notices a
 * dead worker in seconds instead of after a long start-to-close; they should not depend on how long
 * one upload, download or poll takes, which is bounded by that step's own timeout.
 */
export async function heartbeatWhile<T>(
  details: unknown,
  work: () => Promise<T>,
  everyMs = HEARTBEAT_EVERY_MS,
): Promise<T> {
  heartbeatsOnItsOwn(Context.current());
  // Details may change while the work runs (waiting, then installing): each beat sends them as they are.
  const now = () => (typeof details === 'object' && details !== null ? { ...details } : details);
  heartbeat(now());
  const beat = setInterval(() => heartbeat(now()), everyMs);
  try {
    return await work();
  } finally {
    clearInterval(beat);
  }
}
