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
  heartbeat(details);
  const beat = setInterval(() => heartbeat(details), everyMs);
  try {
    return await work();
  } finally {
    clearInterval(beat);
  }
}
