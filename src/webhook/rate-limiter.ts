import { isIPv4, isIPv6 } from 'node:net';

export interface RateLimit {
  /** Sustained requests per second of one source. */
  perSecond: number;
  /** Requests a source may send at once after being quiet. */
  burst: number;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  at: number;
}

/** Where every source goes whose address is not an IP address (a socket already gone, a proxy's junk). */
export const UNPARSABLE_SOURCE = 'unparsable';

/**
 * The key a source is limited by. One IPv6 host usually owns a whole /64, so counting its
 * addresses one by one would give it 2^64 buckets; IPv4-mapped addresses count as their IPv4.
 * Anything else shares one key, so that no text a client chose is kept as a key.
 */
export function sourceKey(address: string | undefined): string {
  if (address === undefined) return UNPARSABLE_SOURCE;
  if (isIPv4(address)) return address;
  // Some load balancers put the client's port into X-Forwarded-For: 192.0.2.1:5000, [2001:db8::1]:5000.
  const withPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(address) ?? /^\[([^\]]+)\](?::\d{1,5})?$/.exec(address);
  if (withPort) return sourceKey(withPort[1]);
  const bare = address.replace(/%.*$/, '');
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(bare);
  if (mapped && isIPv4(mapped[1]!)) return mapped[1]!;
  if (!isIPv6(bare)) return UNPARSABLE_SOURCE;
  const [head = '', tail] = bare.split('::');
  const groups = (part: string | undefined) =>
    part ? part.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g])) : [];
  const front = groups(head);
  const back = groups(tail);
  const full =
    tail === undefined ? front : [...front, ...Array<string>(8 - front.length - back.length).fill('0'), ...back];
  return `${full
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

/**
 * Token buckets per source address. Memory is bounded: a bucket left alone long enough to be full
 * again is dropped (it is then the same as a new one), and beyond `maxSources` the least recently
 * seen source is dropped, which only ever lets that source start over with a full bucket.
 */
export class SourceRateLimiter {
  // Insertion order is kept as "least recently seen first": every take re-inserts its bucket.
  private readonly buckets = new Map<string, Bucket>();
  private readonly refillMs: number;

  constructor(
    private readonly limit: RateLimit,
    private readonly maxSources = 10_000,
    private readonly clock: () => number = () => performance.now(),
  ) {
    if (!(limit.perSecond > 0) || !(limit.burst >= 1)) {
      throw new RangeError('a rate limit needs perSecond > 0 and burst >= 1');
    }
    this.refillMs = (limit.burst / limit.perSecond) * 1000;
  }

  get trackedSources(): number {
    return this.buckets.size;
  }

  take(address: string | undefined): RateDecision {
    const now = this.clock();
    this.dropIdle(now);
    const key = sourceKey(address);
    const bucket = this.buckets.get(key);
    let tokens = this.limit.burst;
    if (bucket) {
      this.buckets.delete(key);
      tokens = Math.min(this.limit.burst, bucket.tokens + (Math.max(0, now - bucket.at) / 1000) * this.limit.perSecond);
    }
    const allowed = tokens >= 1;
    this.buckets.set(key, { tokens: allowed ? tokens - 1 : tokens, at: now });
    while (this.buckets.size > this.maxSources) this.buckets.delete(this.buckets.keys().next().value!);
    if (allowed) return { allowed };
    return { allowed, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / this.limit.perSecond)) };
  }

  private dropIdle(now: number): void {
    // Stops at the first recently seen bucket, so each bucket is looked at about once.
    for (const [key, bucket] of this.buckets) {
      if (now - bucket.at < this.refillMs) return;
      this.buckets.delete(key);
    }
  }
}
