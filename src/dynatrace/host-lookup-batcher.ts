export interface ReportingHost {
  entityId: string;
  displayName: string;
  installerVersion?: string;
  lastSeenTms?: number;
}

export type BatchLookup = (environmentId: string, hostnames: string[]) => Promise<ReportingHost[]>;

interface Pending {
  names: Map<string, { resolve: (h: ReportingHost | undefined) => void; reject: (e: unknown) => void }[]>;
  timer: NodeJS.Timeout | undefined;
}

/** Entity selectors are limited to 2000 characters (reference §5.1). */
const SELECTOR_BUDGET = 1800;

/**
 * Coalesces "is host X reporting?" questions from concurrent activities on this worker into one
 * entities query per environment (`entityName.in(...)`): a fleet roll-out then costs a fraction of
 * an API call per host instead of one per host and poll.
 */
export class HostLookupBatcher {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly lookup: BatchLookup,
    private readonly windowMs = 50,
  ) {}

  find(environmentId: string, hostname: string): Promise<ReportingHost | undefined> {
    return new Promise((resolve, reject) => {
      let batch = this.pending.get(environmentId);
      if (!batch) {
        batch = { names: new Map(), timer: undefined };
        this.pending.set(environmentId, batch);
      }
      const key = hostname.toLowerCase();
      const waiters = batch.names.get(key) ?? [];
      waiters.push({ resolve, reject });
      batch.names.set(key, waiters);
      batch.timer ??= setTimeout(() => void this.flush(environmentId), this.windowMs);
      if (selectorLength(batch.names.keys()) > SELECTOR_BUDGET) {
        clearTimeout(batch.timer);
        void this.flush(environmentId);
      }
    });
  }

  private async flush(environmentId: string): Promise<void> {
    const batch = this.pending.get(environmentId);
    if (!batch) return;
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
