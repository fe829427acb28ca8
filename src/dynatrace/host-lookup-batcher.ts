export interface ReportingHost {
  entityId: string;
  displayName: string;
  installerVersion?: string;
  lastSeenTms?: number;
}

export type BatchLookup = (environmentId: string, hostnames: string[]) => Promise<ReportingHost[]>;

interface Waiter {
  resolve: (h: ReportingHost | undefined) => void;
  reject: (e: unknown) => void;
}

interface Pending {
  names: Map<string, Waiter[]>;
  openedAt: number;
  /** Until when the batch may wait for installs of its environment still running here (0: it does not). */
  gatherUntil: number;
  /** How long an install takes here, as the host that asked to gather measured its own. */
  installMs: number;
  timer: NodeJS.Timeout | undefined;
}

/** A host that just finished its install, asking whether its agent reports. */
export interface AfterInstall {
  /** How long its install took: others of its environment that started about as long ago end soon. */
  installMs: number;
}

/** Entity selectors are limited to 2000 characters (reference §5.1). */
const SELECTOR_BUDGET = 1800;

/**
 * Coalesces "is host X reporting?" questions from concurrent activities on this worker into one
 * entities query per environment (`entityName.in(...)`): a fleet roll-out then costs a fraction of
 * an API call per host instead of one per host and poll. A host asking right after its install also
 * waits, up to `gatherMs`, for the installs of its environment that run here and are due to end by
 * then: a fleet starts one environment's hosts together, so they finish together and share a query.
 * The question waits with no install slot held, and the last of them asks at once.
 */
export class HostLookupBatcher {
  private readonly pending = new Map<string, Pending>();
  /** Start times of the installs running on this worker, per environment. */
  private readonly installing = new Map<string, Set<{ startedAt: number }>>();

  constructor(
    private readonly lookup: BatchLookup,
    private readonly windowMs = 50,
    private readonly gatherMs = 0,
  ) {}

  /** An install in `environmentId` starts here; call the returned function when it ends, however it ends. */
  installStarted(environmentId: string): () => void {
    const entry = { startedAt: Date.now() };
    let running = this.installing.get(environmentId);
    if (!running) this.installing.set(environmentId, (running = new Set()));
    running.add(entry);
    return () => {
      running.delete(entry);
      if (running.size === 0 && this.installing.get(environmentId) === running) this.installing.delete(environmentId);
      this.schedule(environmentId);
    };
  }

  find(environmentId: string, hostname: string, afterInstall?: AfterInstall): Promise<ReportingHost | undefined> {
    return new Promise((resolve, reject) => {
      let batch = this.pending.get(environmentId);
      const now = Date.now();
      if (!batch) {
        batch = { names: new Map(), openedAt: now, gatherUntil: 0, installMs: 0, timer: undefined };
        this.pending.set(environmentId, batch);
      }
      if (afterInstall && this.gatherMs > 0 && batch.gatherUntil === 0) {
        batch.gatherUntil = now + this.gatherMs;
        batch.installMs = afterInstall.installMs;
      }
      const key = hostname.toLowerCase();
      const waiters = batch.names.get(key) ?? [];
      waiters.push({ resolve, reject });
      batch.names.set(key, waiters);
      if (selectorLength(batch.names.keys()) > SELECTOR_BUDGET) void this.flush(environmentId);
      else this.schedule(environmentId);
    });
  }

  /** (Re)sets when the environment's batch is asked: after the window, or when the installs it waits for end. */
  private schedule(environmentId: string): void {
    const batch = this.pending.get(environmentId);
    if (!batch) return;
    const flushAt = this.waitsForInstalls(environmentId, batch) ? batch.gatherUntil : batch.openedAt + this.windowMs;
    clearTimeout(batch.timer);
    batch.timer = setTimeout(() => void this.flush(environmentId), Math.max(0, flushAt - Date.now()));
  }

  private waitsForInstalls(environmentId: string, batch: Pending): boolean {
    if (batch.gatherUntil <= Date.now()) return false;
    const running = this.installing.get(environmentId);
    if (!running) return false;
    for (const { startedAt } of running) if (startedAt + batch.installMs <= batch.gatherUntil) return true;
    return false;
  }

  private async flush(environmentId: string): Promise<void> {
    const batch = this.pending.get(environmentId);
    if (!batch) return;
    clearTimeout(batch.timer);
    this.pending.delete(environmentId);
    const names = [...batch.names.keys()];
    try {
      const found = await this.lookup(environmentId, names);
      const byName = new Map(found.map((h) => [h.displayName.toLowerCase(), h]));
      for (const [name, waiters] of batch.names) for (const w of waiters) w.resolve(byName.get(name));
    } catch (err) {
      for (const waiters of batch.names.values()) for (const w of waiters) w.reject(err);
    }
  }
}

function selectorLength(names: Iterable<string>): number {
  let length = 'type("HOST"),entityName.in()'.length;
  for (const n of names) length += n.length + 3;
  return length;
}

/** `"a","b"` with Dynatrace's tilde escaping for quotes and tildes. */
export function quoteSelectorValues(values: string[]): string {
  return values.map((v) => `"${v.replace(/[~"]/g, (c) => `~${c}`)}"`).join(',');
}
