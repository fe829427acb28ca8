/**
 * Activities heartbeat on a timer (activities/heartbeat-while.ts, activities/keep-alive.ts), so the
 * heartbeat timeout can be short: a killed worker's steps are retried elsewhere within seconds (the
 * SDK sends at most one beat per 0.8 × timeout), while a worker whose event loop stalls for a
 * beat or two is not mistaken for a dead one.
 */
export const HEARTBEAT_EVERY_MS = 3_000;
export const HEARTBEAT_TIMEOUT = '10 seconds';
