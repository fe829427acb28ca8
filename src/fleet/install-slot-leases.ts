import { sql, type Kysely } from 'kysely';
import type { FleetSchema } from '../database/fleet-schema.js';
import { chooseGrants, type InstallSlotRequest, type LeaseBook, type PoolUsage } from './install-slots.js';

export class MemoryLeaseBook implements LeaseBook {
  readonly shared = false;
  private readonly leases = new Map<string, { pool: string; environmentId: string }>();

  grant(pool: string, requests: InstallSlotRequest[], maxFresh?: number): Promise<Set<string>> {
    const { kept, fresh } = chooseGrants(requests, this.taken(pool), maxFresh);
    for (const r of fresh) this.leases.set(r.holder, { pool, environmentId: r.environmentId });
    return Promise.resolve(new Set([...kept, ...fresh].map((r) => r.holder)));
  }

  release(holder: string): Promise<void> {
    this.leases.delete(holder);
    return Promise.resolve();
  }

  refresh(): Promise<void> {
    return Promise.resolve();
  }

  usage(pool: string): Promise<PoolUsage> {
    const { total, perEnvironment } = this.taken(pool);
    return Promise.resolve({ total, perEnvironment: Object.fromEntries(perEnvironment) });
  }

  private taken(pool: string) {
    const holders = new Set<string>();
    const perEnvironment = new Map<string, number>();
    for (const [holder, lease] of this.leases) {
      if (lease.pool !== pool) continue;
      holders.add(holder);
      perEnvironment.set(lease.environmentId, (perEnvironment.get(lease.environmentId) ?? 0) + 1);
    }
    return { holders, total: holders.size, perEnvironment };
  }
}

/** Leases in PostgreSQL, which every worker of the deployment reaches: one count for all of them. */
export class DatabaseLeaseBook implements LeaseBook {
  readonly shared = true;

  constructor(
    private readonly db: Kysely<FleetSchema>,
    /** A lease not refreshed for this long is free again (its worker died and its host never came back). */
    private readonly leaseMs = 30_000,
  ) {}

  /** One transaction under the pool's advisory lock, so two workers cannot both count the last free slot. */
  grant(pool: string, requests: InstallSlotRequest[], maxFresh?: number): Promise<Set<string>> {
    return this.db.transaction().execute(async (tx) => {
      await sql`select pg_advisory_xact_lock(hashtext(${pool}))`.execute(tx);
      await tx
        .deleteFrom('install_slots')
        .where('pool', '=', pool)
        .where('expires_at', '<=', sql<Date>`now()`)
        .execute();
      const rows = await tx
        .selectFrom('install_slots')
        .select(['holder', 'environment_id'])
        .where('pool', '=', pool)
        .execute();
      const perEnvironment = new Map<string, number>();
      for (const r of rows) perEnvironment.set(r.environment_id, (perEnvironment.get(r.environment_id) ?? 0) + 1);
      const { kept, fresh } = chooseGrants(
        requests,
        {
          holders: new Set(rows.map((r) => r.holder)),
          total: rows.length,
          perEnvironment,
        },
        maxFresh,
      );
      const until = this.until();
      if (kept.length > 0) {
        await tx
          .updateTable('install_slots')
          .set({ expires_at: until })
          .where(
            'holder',
            'in',
            kept.map((r) => r.holder),
          )
          .execute();
      }
      if (fresh.length > 0) {
        await tx
          .insertInto('install_slots')
          .values(fresh.map((r) => ({ holder: r.holder, pool, environment_id: r.environmentId, expires_at: until })))
          .execute();
      }
      return new Set([...kept, ...fresh].map((r) => r.holder));
    });
  }

  async release(holder: string): Promise<void> {
    await this.db.deleteFrom('install_slots').where('holder', '=', holder).execute();
  }

  async refresh(holders: string[]): Promise<void> {
    if (holders.length === 0) return;
    await this.db
      .updateTable('install_slots')
      .set({ expires_at: this.until() })
      .where('holder', 'in', holders)
      .execute();
  }

  async usage(pool: string): Promise<PoolUsage> {
    const rows = await this.db
      .selectFrom('install_slots')
      .select(['environment_id', sql<number>`count(*)::int`.as('n')])
      .where('pool', '=', pool)
      .where('expires_at', '>', sql<Date>`now()`)
      .groupBy('environment_id')
      .execute();
    return {
      total: rows.reduce((n, r) => n + r.n, 0),
      perEnvironment: Object.fromEntries(rows.map((r) => [r.environment_id, r.n])),
    };
  }

  private until() {
    return sql<Date>`now() + make_interval(secs => ${this.leaseMs / 1000})`;
  }
}
