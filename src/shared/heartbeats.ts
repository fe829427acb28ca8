/**
 * Activities heartbeat on a timer (activities/heartbeat-while.ts, activities/keep-alive.ts), so the
 * heartbeat timeout can be short: a killed worker's steps are retried elsewhere within seconds. The
 * SDK would send a beat only every 0.8 × timeout, leaving a busy worker 3 s of slack; sending one
 * every 7 s leaves 8 s, for one heartbeat call per long activity every 7 s.
 */
export const HEARTBEAT_EVERY_MS = 3_500;
/** The worker sends at most one beat per activity this often (maxHeartbeatThrottleInterval). */
export const HEARTBEAT_SENT_AT_MOST_EVERY = '7 seconds';
export const HEARTBEAT_TIMEOUT = '15 seconds';
