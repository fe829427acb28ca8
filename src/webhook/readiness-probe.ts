/**
 * Readiness from one probe at a time, at most one started per interval: every `/readyz` in between
 * gets the last answer, and requests that arrive while a probe runs wait for that probe. A flood of
 * readiness requests therefore costs Temporal nothing beyond one call a second.
 */
export class ReadinessProbe {
  private last: { ready: boolean; startedAt: number } | undefined;
  private running: Promise<boolean> | undefined;

  constructor(
    private readonly probe: () => Promise<unknown>,
    private readonly options: { intervalMs: number; timeoutMs: number } = { intervalMs: 1_000, timeoutMs: 2_000 },
  ) {}

  ready(): Promise<boolean> {
    if (this.running) return this.running;
    if (this.last && Date.now() - this.last.startedAt < this.options.intervalMs) {
      return Promise.resolve(this.last.ready);
    }
    const startedAt = Date.now();
    this.running = this.withTimeout().then(
      () => this.settle(true, startedAt),
      () => this.settle(false, startedAt),
    );
    return this.running;
  }

  private settle(ready: boolean, startedAt: number): boolean {
    this.last = { ready, startedAt };
    this.running = undefined;
    return ready;
  }

  private async withTimeout(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.probe(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('timeout')), this.options.timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }
}
