import type { Context } from '@temporalio/activity';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { HEARTBEAT_EVERY_MS } from '../shared/heartbeats.js';

/** Activities whose own timer heartbeats with details (heartbeatWhile); the keep-alive leaves them be. */
const beatingOnTheirOwn = new WeakSet<Context>();

export function heartbeatsOnItsOwn(context: Context): void {
  beatingOnTheirOwn.add(context);
}

/**
 * Every activity scheduled with a heartbeat timeout heartbeats on a timer while it runs, whatever it
 * does, so that a SIGKILLed worker's short steps are retried elsewhere after that timeout instead of
 * after their start-to-close: a host is moving again within seconds, whichever step it was in. A
 * stalled event loop stops the beats, which is as it should be.
 */
export const keepAliveInterceptors: ActivityInterceptorsFactory = (context) => ({
  inbound: {
    async execute(input, next) {
      if (!context.info.heartbeatTimeoutMs) return next(input);
      const beat = setInterval(() => {
        if (!beatingOnTheirOwn.has(context)) context.heartbeat();
      }, HEARTBEAT_EVERY_MS);
      try {
        return await next(input);
      } finally {
        clearInterval(beat);
      }
    },
  },
});
