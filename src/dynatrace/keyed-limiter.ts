/**
 * At most `limit` concurrent operations per key (a Dynatrace environment, or the cluster API), the
 * rest wait in FIFO order. Dynatrace throttles per environment by capacity (reference §9.1), so
 * staying under it beats retrying 429s.
 */
export class KeyedLimiter {
  private readonly slots = new Map<string, { active: number; waiting: (() => void)[] }>();

  constructor(private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('limit must be a positive integer');
  }

  async run<T>(key: string, operation: () => Promise<T>): Promise<T> {
    await this.acquire(key);
    try {
      return await operation();
    } finally {
      this.release(key);
    }
  }

  /** Operations running right now for the key (for tests and metrics). */
  active(key: string): number {
    return this.slots.get(key)?.active ?? 0;
  }

  private acquire(key: string): Promise<void> {
    let slot = this.slots.get(key);
    if (!slot) {
      slot = { active: 0, waiting: [] };
      this.slots.set(key, slot);
    }
    if (slot.active < this.limit) {
      slot.active++;
      return Promise.resolve();
    }
    const s = slot;
    return new Promise((resolve) => s.waiting.push(resolve));
  }

  private release(key: string): void {
    const slot = this.slots.get(key)!;
    const next = slot.waiting.shift();
    if (next) {
      next();
      return;
    }
    slot.active--;
    if (slot.active === 0) this.slots.delete(key);
  }
}
