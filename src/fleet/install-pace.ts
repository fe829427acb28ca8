/** How many recent installs a pool's typical install time is taken from. */
const RECENT_INSTALLS = 32;
/** Below this many finished installs a pool has no typical time yet, and is not paced. */
const LEARNED_AFTER = 8;
/**
 * Twice the pool's sustained rate (its slots ÷ its typical install time): a wave of freed slots is
 * spread over half an install time, which costs the roll-out about that much once (slots idle while
 * the wave spreads, and again at its end), and the pace never keeps a slot idle once installs flow.
 */
const PACE_FACTOR = 0.5;
/** Pools remembered; a fleet's pool is forgotten long after its last install. */
const POOLS_KEPT = 64;

interface PoolPace {
  recentMs: number[];
  /** Epoch ms from which the next fresh grant may be made. */
  nextAt: number;
}

/**
 * Starts installs at an even pace instead of in waves. Installs of one roll-out take about the same
 * time, so slots taken together free together: a pool of 200 would start 200 installers in the same
 * second, every 40 s, for the whole roll-out, and every host's agent would connect to the cluster,
 * and every enrollment finish, in that same burst. Pacing fresh grants at the pool's own sustained
 * rate spreads one wave over half an install time; after that, slots free one at a time and each is
 * taken again at once. A pool is paced only once it has a typical install time of its own.
 */
export class InstallPace {
  private readonly pools = new Map<string, PoolPace>();

  /** An install of `pool` held its slot for `ms`. */
  held(pool: string, ms: number): void {
    const pace = this.pace(pool);
    pace.recentMs.push(ms);
    if (pace.recentMs.length > RECENT_INSTALLS) pace.recentMs.shift();
  }

  /** Milliseconds between fresh grants in `pool` (0: not paced). */
  intervalMs(pool: string, slots: number): number {
    const recent = this.pools.get(pool)?.recentMs ?? [];
    if (recent.length < LEARNED_AFTER || slots <= 0) return 0;
    const sorted = [...recent].sort((a, b) => a - b);
    const typical = sorted[Math.floor(sorted.length / 2)]!;
    return (PACE_FACTOR * typical) / slots;
  }

  /** How many fresh grants `pool` may make at `now`, and when it may make the next one if none. */
  allowance(pool: string, slots: number, now: number): { grants: number; nextAt?: number } {
    if (this.intervalMs(pool, slots) === 0) return { grants: Number.POSITIVE_INFINITY };
    const { nextAt } = this.pace(pool);
    return now >= nextAt ? { grants: 1 } : { grants: 0, nextAt };
  }

  /** `count` fresh grants were made in `pool` at `now`. */
  granted(pool: string, slots: number, count: number, now: number): void {
    const interval = this.intervalMs(pool, slots);
    if (interval === 0 || count === 0) return;
    const pace = this.pace(pool);
    pace.nextAt = Math.max(pace.nextAt, now) + count * interval;
  }

  private pace(pool: string): PoolPace {
    let pace = this.pools.get(pool);
    if (pace) {
      // Most recently used last, so the oldest pool is the first one forgotten.
      this.pools.delete(pool);
    } else {
      pace = { recentMs: [], nextAt: 0 };
      if (this.pools.size >= POOLS_KEPT) this.pools.delete(this.pools.keys().next().value!);
    }
    this.pools.set(pool, pace);
    return pace;
  }
}
