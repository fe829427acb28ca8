import { sql, type Kysely } from 'kysely';
import type { FleetSchema } from '../database/fleet-schema.js';

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

export interface InstallSlotTimings {
  /** A lease not refreshed for this long is free again (its worker died and its host never came back). */
  leaseMs: number;
  /** How often this process refreshes the leases it holds. */
  refreshMs: number;
  /** How often waiters look again for slots freed by other processes or by expiry. */
  recheckMs: number;
}

const DEFAULT_TIMINGS: InstallSlotTimings = { leaseMs: 30_000, refreshMs: 5_000, recheckMs: 1_000 };

type TakeResult = 'taken' | 'pool-full' | 'environment-full';

interface Waiter {
  request: InstallSlotRequest;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class InstallSlotWaitAborted extends Error {
  override name = 'InstallSlotWaitAborted';
}

/**
 * The install slots of every fleet, as leases in the fleet database so that all workers share one
 * count. A host waits here, inside its install activity, only for the install itself: a slot freed
 * in this process goes to the next waiter at once, one freed by another worker (or by a lease that
 * expired) within `recheckMs`, and never through a workflow's history.
 */
export class InstallSlots {
  private readonly timings: InstallSlotTimings;
  private readonly waiters: Waiter[] = [];
  private readonly held = new Set<string>();
  private pumping: Promise<void> | undefined;
  private pumpAgain = false;
  private refreshTimer: NodeJS.Timeout | undefined;
  private recheckTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Kysely<FleetSchema>,
    timings: Partial<InstallSlotTimings> = {},
  ) {
    this.timings = { ...DEFAULT_TIMINGS, ...timings };
  }

  /** Runs `work` holding a slot of `request`'s pool; waits for one first if the pool or environment is full. */
  async withSlot<T>(request: InstallSlotRequest, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(request, signal);
    try {
      return await work();
    } finally {
      await this.release(request.holder);
    }
  }

  /** Slots taken in a pool right now (leases not expired), overall and per environment. */
  async usage(pool: string): Promise<{ total: number; perEnvironment: Record<string, number> }> {
    const rows = await this.db
      .selectFrom('install_slots')
      .select(['environment_id', sql<number>`count(*)::int`.as('n')])
      .where('pool', '=', pool)
      .where('expires_at', '>', sql<Date>`now()`)
      .groupBy('environment_id')
      .execute();
    const perEnvironment = Object.fromEntries(rows.map((r) => [r.environment_id, r.n]));
    return { total: rows.reduce((n, r) => n + r.n, 0), perEnvironment };
  }

  /** Waiting requests in this process (for tests and metrics). */
  get waiting(): number {
    return this.waiters.length;
  }

  stop(): void {
    clearInterval(this.refreshTimer);
    clearInterval(this.recheckTimer);
    this.refreshTimer = this.recheckTimer = undefined;
    for (const w of this.waiters.splice(0)) w.reject(new InstallSlotWaitAborted('the worker is stopping'));
  }

  private async acquire(request: InstallSlotRequest, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    // Those already waiting go first; a newcomer tries at once only when nobody waits.
    if (this.waiters.length === 0 && (await this.take(request)) === 'taken') return this.holding(request.holder);
    signal?.throwIfAborted();
    await new Promise<void>((resolve, reject) => {
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
      const onAbort = () => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        const reason: unknown = signal?.reason;
        reject(
          reason instanceof Error ? reason : new InstallSlotWaitAborted('cancelled while waiting for an install slot'),
        );
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
      this.recheckTimer ??= setInterval(() => this.pump(), this.timings.recheckMs);
      this.pump();
    });
  }

  private async release(holder: string): Promise<void> {
    this.held.delete(holder);
    if (this.held.size === 0) {
      clearInterval(this.refreshTimer);
      this.refreshTimer = undefined;
    }
    await this.db.deleteFrom('install_slots').where('holder', '=', holder).execute();
    this.pump();
  }

  private holding(holder: string): void {
    this.held.add(holder);
    this.refreshTimer ??= setInterval(() => void this.refresh(), this.timings.refreshMs);
  }

  private async refresh(): Promise<void> {
    if (this.held.size === 0) return;
    await this.db
      .updateTable('install_slots')
      .set({ expires_at: sql<Date>`now() + make_interval(secs => ${this.timings.leaseMs / 1000})` })
      .where('holder', 'in', [...this.held])
      .execute()
      .catch(() => undefined); // The next refresh tries again; a lease lasts several refreshes.
  }

  /** Hands free slots to waiters in arrival order; one pass at a time, another if asked meanwhile. */
  private pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = (async () => {
      do {
        this.pumpAgain = false;
        const full = new Set<string>();
        for (const waiter of [...this.waiters]) {
          const { pool, environmentId } = waiter.request;
          if (full.has(pool) || full.has(`${pool}\n${environmentId}`)) continue;
          if (!this.waiters.includes(waiter)) continue;
          let result: TakeResult;
          try {
            result = await this.take(waiter.request);
          } catch {
            break; // The database is unreachable: the recheck timer tries again.
          }
          if (result === 'pool-full') full.add(pool);
          else if (result === 'environment-full') full.add(`${pool}\n${environmentId}`);
          else {
            this.waiters.splice(this.waiters.indexOf(waiter), 1);
            this.holding(waiter.request.holder);
            waiter.resolve();
          }
        }
      } while (this.pumpAgain);
      if (this.waiters.length === 0) {
        clearInterval(this.recheckTimer);
        this.recheckTimer = undefined;
      }
    })().finally(() => (this.pumping = undefined));
  }

  /**
   * One try, in one transaction under the pool's advisory lock, so that workers taking slots of the
   * same pool at once cannot both count the last free one.
   */
  private take(request: InstallSlotRequest): Promise<TakeResult> {
    const { pool, holder, environmentId } = request;
    return this.db.transaction().execute(async (tx) => {
      await sql`select pg_advisory_xact_lock(hashtext(${pool}))`.execute(tx);
      const { rows } = await sql<{ live: number; liveHere: number; mine: number; expired: number }>`
        select count(*) filter (where expires_at > now())::int as "live",
               count(*) filter (where expires_at > now() and environment_id = ${environmentId})::int as "liveHere",
               count(*) filter (where holder = ${holder})::int as "mine",
               count(*) filter (where expires_at <= now())::int as "expired"
          from install_slots where pool = ${pool}`.execute(tx);
      const counts = rows[0]!;
      const until = sql<Date>`now() + make_interval(secs => ${this.timings.leaseMs / 1000})`;
      if (counts.mine > 0) {
        await tx.updateTable('install_slots').set({ expires_at: until }).where('holder', '=', holder).execute();
        return 'taken';
      }
      if (counts.live >= request.global) return 'pool-full';
      if (counts.liveHere >= request.perEnvironment) return 'environment-full';
      if (counts.expired > 0) {
        await tx
          .deleteFrom('install_slots')
          .where('pool', '=', pool)
          .where('expires_at', '<=', sql<Date>`now()`)
          .execute();
      }
      await tx
        .insertInto('install_slots')
        .values({ holder, pool, environment_id: environmentId, expires_at: until })
        .execute();
      return 'taken';
    });
  }
}
