import { Kysely, PostgresDialect } from 'kysely';
import { Migrator } from 'kysely/migration';
import pg from 'pg';
import { openEmbeddedPostgres } from './embedded-postgres.js';
import type { FleetSchema } from './fleet-schema.js';
import { fleetMigrations } from './migrations.js';
import { PgliteAsPostgresPool } from './pglite-pool.js';

export interface FleetDatabase {
  db: Kysely<FleetSchema>;
  /** `postgresql`: every process may connect; `embedded`: this process owns it, the others ask it. */
  kind: 'postgresql' | 'embedded';
  close(): Promise<void>;
}

export class FleetDatabaseError extends Error {
  override name = 'FleetDatabaseError';
}

/**
 * Opens the fleet database and brings its schema up to date: PostgreSQL at `url` (production: its own
 * database in the PostgreSQL Temporal already uses), or the embedded PGlite under `embeddedDir` (a
 * fresh machine, the sandbox), which speaks the same SQL.
 */
export async function openFleetDatabase(options: { url?: string; embeddedDir: string }): Promise<FleetDatabase> {
  let pool: pg.Pool | PgliteAsPostgresPool;
  let kind: FleetDatabase['kind'];
  if (options.url) {
    const postgres = new pg.Pool({ connectionString: options.url, max: 10 });
    // An idle connection the server closes (a restart, a failover, a shutdown) is an 'error' event
    // that would end the process unheard: the pool drops that connection and the next query opens
    // another, while a query in flight still fails on its own.
    postgres.on('error', () => undefined);
    pool = postgres;
    kind = 'postgresql';
  } else {
    const pglite = await openEmbeddedPostgres(options.embeddedDir).catch((err: unknown) => {
      throw new FleetDatabaseError(err instanceof Error ? err.message : String(err));
    });
    pool = new PgliteAsPostgresPool(pglite);
    kind = 'embedded';
  }
  const db = new Kysely<FleetSchema>({ dialect: new PostgresDialect({ pool }) });
  const { error, results } = await new Migrator({ db, provider: fleetMigrations }).migrateToLatest();
  if (error) {
    await db.destroy();
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new FleetDatabaseError(
      `the fleet database could not be brought up to date${failed ? ` (migration ${failed})` : ''}: ${error instanceof Error ? error.message : JSON.stringify(error)}`,
    );
  }
  return { db, kind, close: () => db.destroy() };
}

/**
 * The fleet database of a process that only reads it (the webhook receiver): PostgreSQL, no
 * migrations (the workers own the schema), every session read-only, and bounded waits, so a
 * database that does not answer costs a request seconds rather than hanging it. Connections are
 * opened on first use.
 */
export function openReadOnlyFleetDatabase(url: string, options: { timeoutMs?: number } = {}): FleetDatabase {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const pool = new pg.Pool({
    connectionString: url,
    max: 4,
    connectionTimeoutMillis: timeoutMs,
    options: `-c default_transaction_read_only=on -c statement_timeout=${timeoutMs}`,
  });
  // As in openFleetDatabase: a dropped idle connection is replaced by the next query.
  pool.on('error', () => undefined);
  const db = new Kysely<FleetSchema>({ dialect: new PostgresDialect({ pool }) });
  return { db, kind: 'postgresql', close: () => db.destroy() };
}
