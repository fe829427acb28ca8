import { InstallPace } from './install-pace.js';

/** Which slot a host's install takes: its fleet's pool, limited overall and per environment. */
export interface InstallSlotRequest {
  /** The pool the limits apply to (a fleet's workflow id). */
  pool: string;
  /** Who holds it (a host's enrollment workflow id): a retried install takes its own lease back. */
  holder: string;
  environmentId: string;
  global: number;
  perEnvironment: number;
}

/** The slots taken in one pool. */
export interface PoolUsage {
  total: number;
  perEnvironment: Record<string, number>;
}

/**
 * Where leases are kept. In memory when this process alone runs fleets' installs (the embedded
 * database, which only its process opens); in the fleet database when several workers share a pool.
 */
export interface LeaseBook {
  /**
   * Grants as many of `requests` (one pool, in arrival order) as the limits allow, and at most
   * `maxFresh` new leases (a holder's own lease taken back does not count): the holders granted.
   */
  grant(pool: string, requests: InstallSlotRequest[], maxFresh?: number): Promise<Set<string>>;
  release(holder: string): Promise<void>;
  /** Keeps these leases alive (only leases in a shared database expire). */
  refresh(holders: string[]): Promise<void>;
  usage(pool: string): Promise<PoolUsage>;
  /** Whether slots can be freed behind this process's back (another worker, an expired lease). */
  readonly shared: boolean;
}

/**
 * Which requests fit, in arrival order: a holder that has its lease already (a retried install)
 * keeps it; the others take what the pool's and their environment's limits leave.
 */
export function chooseGrants(
  requests: InstallSlotRequest[],
  taken: { holders: Set<string>; total: number; perEnvironment: Map<string, number> },
  maxFresh = Number.POSITIVE_INFINITY,
): { kept: InstallSlotRequest[]; fresh: InstallSlotRequest[] } {
  const kept: InstallSlotRequest[] = [];
  const fresh: InstallSlotRequest[] = [];
  let total = taken.total;
  const perEnvironment = new Map(taken.perEnvironment);
  for (const r of requests) {
    if (taken.holders.has(r.holder)) {
      kept.push(r);
      continue;
    }
    const here = perEnvironment.get(r.environmentId) ?? 0;
    if (fresh.length >= maxFresh || total >= r.global || here >= r.perEnvironment) continue;
    fresh.push(r);
    total++;
    perEnvironment.set(r.environmentId, here + 1);
  }
  return { kept, fresh };
}

interface Waiter {
  request: InstallSlotRequest;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class InstallSlotWaitAborted extends Error {
  override name = 'InstallSlotWaitAborted';
}

/**
 * The install slots of every fleet. A host waits here, inside its install activity, only for the
 * install itself: a slot freed in this process goes to the next waiter at once, one freed by
 * another worker (or by a lease that expired) within `recheckMs`, and never through a workflow's
 * history. Waiters are served in arrival order. Once a pool has a typical install time, fresh
 * grants follow its pace (see InstallPace), so a wave of freed slots is taken again spread over half
 * an install time rather than in one burst; each worker paces the grants it makes.
 */
export class InstallSlots {
  private readonly waiters: Waiter[] = [];
  private readonly held = new Set<string>();
  private readonly pace = new InstallPace();
  private pumping = false;
  private pumpAgain = false;
  private refreshTimer: NodeJS.Timeout | undefined;
  private recheckTimer: NodeJS.Timeout | undefined;
  private paceTimer: NodeJS.Timeout | undefined;
  private paceTimerAt = Number.POSITIVE_INFINITY;

  constructor(
    private readonly book: LeaseBook,
    private readonly timings = { refreshMs: 5_000, recheckMs: 1_000 },
  ) {}

  /** Runs `work` holding a slot of `request`'s pool; waits for one first if the pool or environment is full. */
  async withSlot<T>(request: InstallSlotRequest, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(request, signal);
    const since = Date.now();
    try {
      return await work();
    } finally {
      this.pace.held(request.pool, Date.now() - since);
      await this.release(request.holder);
    }
  }

  usage(pool: string): Promise<PoolUsage> {
    return this.book.usage(pool);
  }

  /** Requests waiting in this process. */
  get waiting(): number {
    return this.waiters.length;
  }

  stop(): void {
    clearInterval(this.refreshTimer);
    clearInterval(this.recheckTimer);
    clearTimeout(this.paceTimer);
    this.refreshTimer = this.recheckTimer = this.paceTimer = undefined;
    this.paceTimerAt = Number.POSITIVE_INFINITY;
    for (const w of this.waiters.splice(0)) w.reject(new InstallSlotWaitAborted('the worker is stopping'));
  }

  private acquire(request: InstallSlotRequest, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const at = this.waiters.indexOf(waiter);
        if (at < 0) return;
        this.waiters.splice(at, 1);
        const reason: unknown = signal?.reason;
        reject(
          reason instanceof Error ? reason : new InstallSlotWaitAborted('cancelled while waiting for an install slot'),
        );
      };
      const waiter: Waiter = {
        request,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (err: Error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
      if (this.book.shared) this.recheckTimer ??= setInterval(() => void this.pump(), this.timings.recheckMs);
      void this.pump();
    });
  }

  private async release(holder: string): Promise<void> {
    this.held.delete(holder);
    if (this.held.size === 0) {
      clearInterval(this.refreshTimer);
      this.refreshTimer = undefined;
    }
    await this.book.release(holder);
    void this.pump();
  }

  /** One pass at a time; a trigger during a pass asks for another. */
  private async pump(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        const pools = new Map<string, Waiter[]>();
        for (const w of this.waiters) pools.set(w.request.pool, [...(pools.get(w.request.pool) ?? []), w]);
        for (const [pool, waiters] of pools) {
          const slots = waiters[0]!.request.global;
          const allowance = this.pace.allowance(pool, slots, Date.now());
          if (allowance.nextAt !== undefined) {
            this.pumpAt(allowance.nextAt);
            continue;
          }
          let granted: Set<string>;
          try {
            granted = await this.book.grant(
              pool,
              waiters.map((w) => w.request),
              allowance.grants,
            );
          } catch {
            continue; // The database is unreachable: the recheck timer tries again.
          }
          this.pace.granted(pool, slots, granted.size, Date.now());
          // A paced pool with more waiters: the next pass finds when it may grant again.
          const paced = allowance.grants !== Number.POSITIVE_INFINITY;
          if (paced && granted.size > 0 && granted.size < waiters.length) this.pumpAgain = true;
          for (const w of waiters) {
            if (!granted.has(w.request.holder)) continue;
            const at = this.waiters.indexOf(w);
            if (at < 0) {
              // Cancelled while its grant was being written: give the slot back.
              await this.book.release(w.request.holder).catch(() => undefined);
              this.pumpAgain = true;
              continue;
            }
            this.waiters.splice(at, 1);
            this.holding(w.request.holder);
            w.resolve();
          }
        }
      } while (this.pumpAgain);
    } finally {
      this.pumping = false;
      if (this.waiters.length === 0) {
        clearInterval(this.recheckTimer);
        this.recheckTimer = undefined;
      }
    }
  }

  /** Pumps again at `at` (the earliest of the pools' paced grants). */
  private pumpAt(at: number): void {
    if (at >= this.paceTimerAt) return;
    clearTimeout(this.paceTimer);
    this.paceTimerAt = at;
    this.paceTimer = setTimeout(
      () => {
        this.paceTimer = undefined;
        this.paceTimerAt = Number.POSITIVE_INFINITY;
        void this.pump();
      },
      Math.max(0, at - Date.now()),
    );
  }

  private holding(holder: string): void {
    this.held.add(holder);
    if (this.book.shared) {
      this.refreshTimer ??= setInterval(
        () => void this.book.refresh([...this.held]).catch(() => undefined),
        this.timings.refreshMs,
      );
    }
  }
}
