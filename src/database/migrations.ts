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
  '0002-fleet-history': {
    // Changes only, never one row per scan: the state at any moment is rebuilt from them.
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('fleet_problems')
        .addColumn('environment_id', 'text', (c) => c.notNull())
        .addColumn('problem_id', 'text', (c) => c.notNull())
        .addColumn('display_id', 'text', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('impact', 'text', (c) => c.notNull())
        .addColumn('affected_entities', 'integer', (c) => c.notNull())
        .addColumn('opened_at', 'timestamptz', (c) => c.notNull())
        .addColumn('closed_at', 'timestamptz')
        .addColumn('incident_id', 'text')
        .addPrimaryKeyConstraint('fleet_problems_pk', ['environment_id', 'problem_id'])
        .execute();
      await sql`create index fleet_problems_open on fleet_problems (environment_id) where closed_at is null`.execute(
        db,
      );
      await db.schema.createIndex('fleet_problems_opened').on('fleet_problems').columns(['opened_at']).execute();
      await db.schema.createIndex('fleet_problems_closed').on('fleet_problems').columns(['closed_at']).execute();
      await db.schema
        .createTable('fleet_problem_changes')
        .addColumn('id', 'bigserial', (c) => c.primaryKey())
        .addColumn('environment_id', 'text', (c) => c.notNull())
        .addColumn('problem_id', 'text', (c) => c.notNull())
        .addColumn('change', 'text', (c) => c.notNull().check(sql`change in ('opened', 'updated', 'closed')`))
        .addColumn('at', 'timestamptz', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('impact', 'text', (c) => c.notNull())
        .addColumn('affected_entities', 'integer', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('fleet_problem_changes_problem')
        .on('fleet_problem_changes')
        .columns(['environment_id', 'problem_id', 'at'])
        .execute();
      await db.schema.createIndex('fleet_problem_changes_at').on('fleet_problem_changes').columns(['at']).execute();
      await db.schema
        .createTable('fleet_environment_scans')
        .addColumn('environment_id', 'text', (c) => c.primaryKey())
        .addColumn('problems_scanned_at', 'timestamptz')
        .addColumn('problems_ok_at', 'timestamptz')
        .addColumn('problems_error', 'text')
        .addColumn('hosts_scanned_at', 'timestamptz')
        .addColumn('hosts_error', 'text')
        .execute();
      await db.schema
        .createTable('fleet_host_snapshots')
        .addColumn('id', 'bigserial', (c) => c.primaryKey())
        .addColumn('environment_id', 'text', (c) => c.notNull())
        .addColumn('at', 'timestamptz', (c) => c.notNull())
        .addColumn('hosts', 'integer', (c) => c.notNull())
        .addColumn('agent_versions', 'jsonb', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('fleet_host_snapshots_environment')
        .on('fleet_host_snapshots')
        .columns(['environment_id', 'at'])
        .execute();
      await db.schema
        .createTable('fleet_incidents')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('problem_type', 'text', (c) => c.notNull())
        .addColumn('opened_at', 'timestamptz', (c) => c.notNull())
        .addColumn('last_opened_at', 'timestamptz', (c) => c.notNull())
        .addColumn('closed_at', 'timestamptz')
        .addColumn('environments', 'jsonb', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('fleet_incidents_type')
        .on('fleet_incidents')
        .columns(['problem_type', 'closed_at'])
        .execute();
      await db.schema
        .createTable('fleet_scans')
        .addColumn('id', 'bigserial', (c) => c.primaryKey())
        .addColumn('started_at', 'timestamptz', (c) => c.notNull())
        .addColumn('finished_at', 'timestamptz', (c) => c.notNull())
        .addColumn('environments', 'integer', (c) => c.notNull())
        .addColumn('failed', 'integer', (c) => c.notNull())
        .addColumn('host_scans', 'integer', (c) => c.notNull())
        .addColumn('changes', 'integer', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('fleet_scans_finished').on('fleet_scans').columns(['finished_at']).execute();
    },
  },
  '0003-environment-tags': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .alterTable('environments')
        .addColumn('tags', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
        .execute();
    },
  },
  '0004-standards': {
    // Standards sets by content hash, plans as their changes only, and drift kept until resolved.
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('standard_sets')
        .addColumn('hash', 'text', (c) => c.primaryKey())
        .addColumn('document', 'jsonb', (c) => c.notNull())
        .addColumn('origin_path', 'text', (c) => c.notNull())
        .addColumn('commit', 'text')
        .addColumn('dirty', 'boolean')
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema
        .createTable('standards_applied')
        .addColumn('id', 'bigserial', (c) => c.primaryKey())
        .addColumn('set_hash', 'text', (c) => c.notNull().references('standard_sets.hash'))
        .addColumn('selector', 'text', (c) => c.notNull())
        .addColumn('run', 'text', (c) => c.notNull().unique())
        .addColumn('started_at', 'timestamptz', (c) => c.notNull())
        .addColumn('finished_at', 'timestamptz')
        .addColumn('counts', 'jsonb')
        .execute();
      await db.schema
        .createTable('standards_plans')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('set_hash', 'text', (c) => c.notNull())
        .addColumn('selector', 'text', (c) => c.notNull())
        .addColumn('purpose', 'text', (c) => c.notNull().check(sql`purpose in ('plan', 'apply', 'drift')`))
        .addColumn('created_at', 'timestamptz', (c) => c.notNull())
        .addColumn('counts', 'jsonb', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('standards_plans_created').on('standards_plans').columns(['created_at']).execute();
      await db.schema
        .createTable('standards_plan_items')
        .addColumn('seq', 'bigserial', (c) => c.primaryKey())
        .addColumn('plan_id', 'text', (c) => c.notNull().references('standards_plans.id').onDelete('cascade'))
        .addColumn('environment_id', 'text', (c) => c.notNull())
        .addColumn('standard', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('object', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('mode', 'text', (c) => c.notNull())
        .addColumn('differences', 'jsonb', (c) => c.notNull())
        .addColumn('error', 'text')
        .execute();
      await db.schema
        .createIndex('standards_plan_items_plan')
        .on('standards_plan_items')
        .columns(['plan_id', 'seq'])
        .execute();
      await db.schema
        .createTable('standards_drift')
        .addColumn('id', 'bigserial', (c) => c.primaryKey())
        .addColumn('environment_id', 'text', (c) => c.notNull())
        .addColumn('standard', 'text', (c) => c.notNull())
        .addColumn('object', 'text', (c) => c.notNull())
        .addColumn('field', 'text', (c) => c.notNull())
        .addColumn('old_value', 'jsonb')
        .addColumn('new_value', 'jsonb')
        .addColumn('mode', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull().check(sql`action in ('reapplied', 'reported')`))
        .addColumn('found_at', 'timestamptz', (c) => c.notNull())
        .addColumn('last_seen_at', 'timestamptz', (c) => c.notNull())
        .addColumn('resolved_at', 'timestamptz')
        .execute();
      await sql`create index standards_drift_open on standards_drift (environment_id, standard) where resolved_at is null`.execute(
        db,
      );
      await db.schema.createIndex('standards_drift_found').on('standards_drift').columns(['found_at']).execute();
    },
  },
  '0005-inventories': {
    // The exact JSON text, not jsonb: its SHA-256 is the inventory's reference and is checked on read.
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('inventories')
        .addColumn('ref', 'text', (c) => c.primaryKey())
        .addColumn('content', 'text', (c) => c.notNull())
        .addColumn('hosts', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
    },
  },
  '0006-install-slots': {
    // Leases, not counters: a worker that dies holding slots frees them when its leases expire.
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('install_slots')
        .addColumn('holder', 'text', (c) => c.primaryKey())
        .addColumn('pool', 'text', (c) => c.notNull())
        .addColumn('environment_id', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('install_slots_pool')
        .on('install_slots')
        .columns(['pool', 'environment_id'])
        .execute();
    },
  },
};

export const fleetMigrations: MigrationProvider = { getMigrations: async () => MIGRATIONS };
