/**
 * Dynatrace's per-environment request capacity (reference §9.1): a fixed pool of worker threads
 * with a queue; a request that finds both full, or waits too long in the queue, gets 429.
 */
export class CapacityLimiter {
  private active = 0;
  private readonly waiting: { grant: () => void; timer: NodeJS.Timeout }[] = [];

  constructor(
    private readonly maxConcurrent: number,
    private readonly queueSize: number,
    private readonly queueTimeoutMs: number,
  ) {}

  /** Resolves with a release function, or with `undefined` when the request must be rejected (429). */
  acquire(): Promise<(() => void) | undefined> {
    if (this.active < this.maxConcurrent) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    if (this.waiting.length >= this.queueSize) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const entry = {
        grant: () => resolve(this.releaser()),
        timer: setTimeout(() => {
          const index = this.waiting.indexOf(entry);
          if (index >= 0) this.waiting.splice(index, 1);
          resolve(undefined);
        }, this.queueTimeoutMs),
      };
      this.waiting.push(entry);
    });
  }

  get inFlight(): number {
    return this.active;
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) {
        clearTimeout(next.timer);
        next.grant();
      } else {
        this.active--;
      }
    };
  }
}
