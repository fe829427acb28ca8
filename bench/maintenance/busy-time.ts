import dc from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/**
 * Time during which at least one call of a kind was in flight: overlapping calls count once, so the
 * figure can be set against the wall time of a run to tell what it spent its time waiting on.
 */
export class BusyClock {
  private inFlight = 0;
  private since = 0;
  private totalMs = 0;
  /** Asynchronous calls timed by `timed()`. */
  calls = 0;

  begin(): () => void {
    if (this.inFlight++ === 0) this.since = performance.now();
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      if (--this.inFlight === 0) this.totalMs += performance.now() - this.since;
    };
  }

  get busyMs(): number {
    return this.totalMs + (this.inFlight > 0 ? performance.now() - this.since : 0);
  }

  /** Busy time and calls from now on, read by the returned function. */
  mark(): () => { busySeconds: number; calls: number } {
    const [busy, calls] = [this.busyMs, this.calls];
    return () => ({ busySeconds: (this.busyMs - busy) / 1000, calls: this.calls - calls });
  }
}

/**
 * The object with every method timed on `clock`. Only the promise-returning ones are timed to their
 * settlement; the registry and the secret store have no synchronous methods the activities use.
 */
export function timed<T extends object>(target: T, clock: BusyClock): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value: unknown = Reflect.get(object, property, receiver);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      return (...args: unknown[]) => {
        const end = clock.begin();
        try {
          const result = method.apply(receiver, args);
          if (result instanceof Promise) {
            clock.calls++;
            return result.finally(end);
          }
          // A synchronous helper (the secret store's file name) is part of the call it serves.
          end();
          return result;
        } catch (err) {
          end();
          throw err;
        }
      };
    },
  });
}

/**
 * Every HTTP request this process sends to `host` (the simulator), from the moment it is sent to its
 * answer: how long Dynatrace kept the run waiting, and how many requests one environment saw at once.
 * The Dynatrace client uses Node's http module (through got), whose diagnostics channels these are.
 */
export class HttpWatch {
  readonly clock = new BusyClock();
  private readonly open = new Map<ClientRequest, { pool: string; end: () => void }>();
  private readonly inFlightByPool = new Map<string, number>();
  private peaks = new Map<string, number>();
  private readonly onStart = (message: unknown) => {
    const request = (message as { request: ClientRequest }).request;
    if (request.getHeader('host') !== this.host) return;
    const pool = /^\/e\/([^/]+)\//.exec(request.path)?.[1] ?? 'cluster API';
    const inFlight = (this.inFlightByPool.get(pool) ?? 0) + 1;
    this.inFlightByPool.set(pool, inFlight);
    this.peaks.set(pool, Math.max(this.peaks.get(pool) ?? 0, inFlight));
    this.open.set(request, { pool, end: this.clock.begin() });
  };
  private readonly onEnd = (message: unknown) => {
    const request = (message as { request: ClientRequest }).request;
    const entry = this.open.get(request);
    if (!entry) return;
    this.open.delete(request);
    entry.end();
    this.inFlightByPool.set(entry.pool, (this.inFlightByPool.get(entry.pool) ?? 1) - 1);
  };

  constructor(private readonly host: string) {
    dc.subscribe('http.client.request.start', this.onStart);
    dc.subscribe('http.client.response.finish', this.onEnd);
    dc.subscribe('http.client.request.error', this.onEnd);
  }

  /** The most requests in flight at once, to one environment and to the cluster API, since the last call. */
  takePeaks(): { perEnvironment: number; clusterApi: number } {
    const peaks = this.peaks;
    this.peaks = new Map();
    let perEnvironment = 0;
    for (const [pool, peak] of peaks) if (pool !== 'cluster API') perEnvironment = Math.max(perEnvironment, peak);
    return { perEnvironment, clusterApi: peaks.get('cluster API') ?? 0 };
  }

  stop(): void {
    dc.unsubscribe('http.client.request.start', this.onStart);
    dc.unsubscribe('http.client.response.finish', this.onEnd);
    dc.unsubscribe('http.client.request.error', this.onEnd);
  }
}

/** The machine's CPU time, busy and in all, from /proc/stat (Linux), in ticks; undefined elsewhere. */
function machineTicks(): { busy: number; total: number } | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    // idle and iowait are the CPU waiting; the rest (user, nice, system, irq, softirq, steal) is work.
    return { busy: total - fields[3]! - fields[4]!, total };
  } catch {
    return undefined;
  }
}

/** Percent of the whole machine busy from now on, read by the returned function. */
export function machineBusySince(): () => number | undefined {
  const before = machineTicks();
  return () => {
    const after = machineTicks();
    if (!before || !after || after.total === before.total) return undefined;
    return (100 * (after.busy - before.busy)) / (after.total - before.total);
  };
}
