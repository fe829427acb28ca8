/**
 * Long activities heartbeat on a timer (see activities/heartbeat-while.ts), so their heartbeat
 * timeout can be short: a killed worker's install is retried elsewhere within seconds, while a
 * worker whose event loop stalls for a few beats is not mistaken for a dead one.
 */
export const HEARTBEAT_EVERY_MS = 5_000;
export const HEARTBEAT_TIMEOUT = '20 seconds';
