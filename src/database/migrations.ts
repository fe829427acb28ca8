import { sql, type Kysely } from 'kysely';
import type { Migration, MigrationProvider } from 'kysely/migration';

/**
 * The fleet database's versioned migrations, applied in name order at start-up by whoever owns the
 * database (the worker). Never edit one that has shipped: add the next.
 */
const MIGRATIONS: Record<string, Migration> = {
  '0001-environment-registry': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('environments')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('managed', 'saas')`))
        .addColumn('cluster', 'text')
        .addColumn('api_url', 'text', (c) => c.notNull())
        .addColumn('customer', 'text')
        .addColumn('stage', 'text')
        .addColumn('source', 'text', (c) => c.notNull().check(sql`source in ('onboarded', 'adopted', 'registered')`))
        .addColumn('state', 'text', (c) => c.notNull().defaultTo('active'))
        .addColumn('attention', 'text')
        .addColumn('scopes_checked_at', 'timestamptz')
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema
        .createTable('environment_tokens')
        .addColumn('token_id', 'text', (c) => c.primaryKey())
        .addColumn('environment_id', 'text', (c) => c.notNull().references('environments.id').onDelete('cascade'))
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('secret_ref', 'text', (c) => c.notNull())
        .addColumn('scopes', 'jsonb', (c) => c.notNull())
        .addColumn('expires_at', 'timestamptz')
        .addColumn('minted_by_us', 'boolean', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('current', 'superseded', 'revoked')`))
        .addColumn('revoke_after', 'timestamptz')
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('revoked_at', 'timestamptz')
        .execute();
      // One current token per environment and purpose: a second mint for the same one cannot be recorded.
      await sql`create unique index environment_tokens_one_current on environment_tokens (environment_id, purpose) where state = 'current'`.execute(
        db,
      );
      await db.schema
        .createIndex('environment_tokens_expiry')
        .on('environment_tokens')
        .columns(['state', 'expires_at'])
        .execute();
      await db.schema
        .createTable('token_rotations')
        .addColumn('id', 'bigserial', (c) => c.primaryKey())
        .addColumn('environment_id', 'text', (c) => c.notNull())
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('old_token_id', 'text')
        .addColumn('new_token_id', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('rotated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
    },
  },
};

export const fleetMigrations: MigrationProvider = { getMigrations: async () => MIGRATIONS };
