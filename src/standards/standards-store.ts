import { sql, type Kysely } from 'kysely';
import type { FleetSchema } from '../database/fleet-schema.js';
import type { DriftRecord, PlanCounts, PlannedObject, StandardMode, StandardsSet } from '../shared/standards.js';

/** Plans are for reading soon after they were made; a week covers any investigation. */
const PLAN_RETENTION_MS = 7 * 86_400_000;
const INSERT_BATCH = 500;
/** Resolved drift is history for audits and the time slider; a quarter of a year of it is kept. */
const DRIFT_RETENTION_MS = 90 * 86_400_000;

/** One drifting field of one object, as drift checks and their resolution compare them. */
export const driftKey = (environmentId: string, standard: string, object: string, field: string) =>
  `${environmentId}|${standard}|${object}|${field}`;

/** What a drift check found, before the store gives it an id and a time. */
export type DriftFound = Omit<DriftRecord, 'id' | 'foundAt' | 'resolvedAt'>;

const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v));

/**
 * The fleet database's memory of standards: each set by its content hash (workflows refer to it by
 * that), what every plan found that needs something, which set was applied last, and drift.
 */
export class StandardsStore {
  constructor(private readonly db: Kysely<FleetSchema>) {}

  /** Idempotent: the same set is stored once, whoever hands it over how often. */
  async saveSet(set: StandardsSet): Promise<void> {
    await this.db
      .insertInto('standard_sets')
      .values({
        hash: set.hash,
        document: JSON.stringify(set),
        origin_path: set.origin.path,
        commit: set.origin.commit ?? null,
        dirty: set.origin.dirty ?? null,
      })
      .onConflict((oc) => oc.column('hash').doNothing())
      .execute();
  }

  async set(hash: string): Promise<StandardsSet | undefined> {
    const row = await this.db
      .selectFrom('standard_sets')
      .select('document')
      .where('hash', '=', hash)
      .executeTakeFirst();
    return row?.document as StandardsSet | undefined;
  }

  /** Every settings schema of every set ever applied: where objects of ours that are no longer declared may be. */
  async appliedSchemaIds(): Promise<string[]> {
    const rows = await this.db
      .selectFrom('standards_applied')
      .innerJoin('standard_sets', 'standard_sets.hash', 'standards_applied.set_hash')
      .select('standard_sets.document')
      .distinct()
      .execute();
    const ids = new Set<string>();
    for (const row of rows) {
      for (const s of (row.document as StandardsSet).standards) if (s.kind === 'settings') ids.add(s.settings.schemaId);
    }
    return [...ids].sort();
  }

  /**
   * An operator's apply of a set: from now on it is what the fleet is held to. Recorded once per run
   * (a retried activity changes nothing).
   */
  async applyStarted(entry: { setHash: string; selector: string; run: string }): Promise<void> {
    await this.db
      .insertInto('standards_applied')
      .values({ set_hash: entry.setHash, selector: entry.selector, run: entry.run, started_at: new Date() })
      .onConflict((oc) => oc.column('run').doNothing())
      .execute();
  }

  async applyFinished(run: string, counts: unknown): Promise<void> {
    await this.db
      .updateTable('standards_applied')
      .set({ finished_at: new Date(), counts: JSON.stringify(counts) })
      .where('run', '=', run)
      .execute();
  }

  /** The set the fleet is held to (the last apply started), and whether that apply still runs. */
  async lastApplied(): Promise<
    { setHash: string; selector: string; run: string; startedAt: Date; finished: boolean } | undefined
  > {
    const row = await this.db
      .selectFrom('standards_applied')
      .select(['set_hash', 'selector', 'run', 'started_at', 'finished_at'])
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row
      ? {
          setHash: row.set_hash,
          selector: row.selector,
          run: row.run,
          startedAt: row.started_at,
          finished: row.finished_at !== null,
        }
      : undefined;
  }

  /** A new plan, replacing one of the same id (a retried activity); plans past their retention go. */
  async startPlan(plan: {
    id: string;
    setHash: string;
    selector: string;
    purpose: 'plan' | 'apply' | 'drift';
    counts: PlanCounts;
  }): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('standards_plans').where('id', '=', plan.id).execute();
      await tx
        .deleteFrom('standards_plans')
        .where('created_at', '<', new Date(Date.now() - PLAN_RETENTION_MS))
        .execute();
      await tx
        .insertInto('standards_plans')
        .values({
          id: plan.id,
          set_hash: plan.setHash,
          selector: plan.selector,
          purpose: plan.purpose,
          created_at: new Date(),
          counts: JSON.stringify(plan.counts),
        })
        .execute();
    });
  }

  async addPlanItems(planId: string, items: readonly PlannedObject[]): Promise<void> {
    for (let i = 0; i < items.length; i += INSERT_BATCH) {
      await this.db
        .insertInto('standards_plan_items')
        .values(
          items.slice(i, i + INSERT_BATCH).map((item) => ({
            plan_id: planId,
            environment_id: item.environmentId,
            standard: item.standard,
            kind: item.kind,
            object: item.object,
            action: item.action,
            mode: item.mode,
            differences: JSON.stringify(item.differences),
            error: item.error ?? null,
          })),
        )
        .execute();
    }
  }

  async finishPlan(planId: string, counts: PlanCounts): Promise<void> {
    await this.db
      .updateTable('standards_plans')
      .set({ counts: JSON.stringify(counts) })
      .where('id', '=', planId)
      .execute();
  }

  /** A plan's rows by environment (then as found), a page at a time after the last row of the previous page. */
  async planItems(
    planId: string,
    options: { after?: { environmentId: string; seq: number }; limit: number; changesOnly: boolean },
  ): Promise<(PlannedObject & { seq: number })[]> {
    let query = this.db
      .selectFrom('standards_plan_items')
      .selectAll()
      .where('plan_id', '=', planId)
      .orderBy('environment_id')
      .orderBy('seq')
      .limit(options.limit);
    const after = options.after;
    if (after) {
      query = query.where((eb) =>
        eb.or([
          eb('environment_id', '>', after.environmentId),
          eb.and([eb('environment_id', '=', after.environmentId), eb('seq', '>', after.seq)]),
        ]),
      );
    }
    if (options.changesOnly) query = query.where('action', 'in', ['create', 'update', 'delete', 'refused']);
    const rows = await query.execute();
    return rows.map((r) => ({
      seq: Number(r.seq),
      environmentId: r.environment_id,
      standard: r.standard,
      kind: r.kind as PlannedObject['kind'],
      object: r.object,
      action: r.action as PlannedObject['action'],
      mode: r.mode as StandardMode,
      differences: r.differences as PlannedObject['differences'],
      ...(r.error ? { error: r.error } : {}),
    }));
  }

  /**
   * Records what a drift check found. A drift already open for the same field with the same value
   * is only seen again (a `report` standard drifts until somebody acts), not recorded twice; one
   * whose value changed since is resolved and the new value recorded. Resolved drift past its
   * retention is forgotten.
   */
  async recordDrift(found: readonly DriftFound[], at: Date): Promise<number> {
    let recorded = 0;
    for (const d of found) {
      const open = await this.db
        .selectFrom('standards_drift')
        .select(['id', 'old_value'])
        .where('environment_id', '=', d.environmentId)
        .where('standard', '=', d.standard)
        .where('object', '=', d.object)
        .where('field', '=', d.field)
        .where('resolved_at', 'is', null)
        .execute();
      const same = open.find((o) => JSON.stringify(o.old_value) === JSON.stringify(d.old ?? null));
      const superseded = open.filter((o) => o !== same).map((o) => o.id);
      if (superseded.length > 0) {
        await this.db.updateTable('standards_drift').set({ resolved_at: at }).where('id', 'in', superseded).execute();
      }
      if (same) {
        await this.db.updateTable('standards_drift').set({ last_seen_at: at }).where('id', '=', same.id).execute();
        continue;
      }
      await this.db
        .insertInto('standards_drift')
        .values({
          environment_id: d.environmentId,
          standard: d.standard,
          object: d.object,
          field: d.field,
          old_value: json(d.old),
          new_value: json(d.new),
          mode: d.mode,
          action: d.action,
          found_at: at,
          last_seen_at: at,
        })
        .execute();
      recorded++;
    }
    await this.db
      .deleteFrom('standards_drift')
      .where('resolved_at', '<', new Date(at.getTime() - DRIFT_RETENTION_MS))
      .execute();
    return recorded;
  }

  /**
   * Drift that a check no longer finds is resolved: re-applied, or put right by hand.
   * `stillDrifting` holds `environment|standard|object|field` of what the check did find.
   */
  async resolveDrift(
    environmentIds: readonly string[],
    stillDrifting: ReadonlySet<string>,
    at: Date,
    onlyAction?: 'reapplied' | 'reported',
  ): Promise<void> {
    for (let i = 0; i < environmentIds.length; i += INSERT_BATCH) {
      let query = this.db
        .selectFrom('standards_drift')
        .select(['id', 'environment_id', 'standard', 'object', 'field'])
        .where('resolved_at', 'is', null)
        .where('environment_id', 'in', environmentIds.slice(i, i + INSERT_BATCH));
      if (onlyAction) query = query.where('action', '=', onlyAction);
      const rows = await query.execute();
      const resolved = rows
        .filter((r) => !stillDrifting.has(driftKey(r.environment_id, r.standard, r.object, r.field)))
        .map((r) => r.id);
      if (resolved.length > 0) {
        await this.db.updateTable('standards_drift').set({ resolved_at: at }).where('id', 'in', resolved).execute();
      }
    }
  }

  async drift(options: { environmentIds?: readonly string[]; since?: Date; openOnly: boolean; limit: number }) {
    let query = this.db.selectFrom('standards_drift').selectAll().orderBy('found_at', 'desc').orderBy('id', 'desc');
    if (options.openOnly) query = query.where('resolved_at', 'is', null);
    if (options.since) query = query.where('found_at', '>=', options.since);
    if (options.environmentIds) query = query.where('environment_id', 'in', [...options.environmentIds, '']);
    const rows = await query.limit(options.limit).execute();
    return rows.map((r): DriftRecord => ({
      id: Number(r.id),
      environmentId: r.environment_id,
      standard: r.standard,
      object: r.object,
      field: r.field,
      ...(r.old_value !== null ? { old: r.old_value } : {}),
      ...(r.new_value !== null ? { new: r.new_value } : {}),
      mode: r.mode as StandardMode,
      foundAt: r.found_at.toISOString(),
      action: r.action,
      ...(r.resolved_at ? { resolvedAt: r.resolved_at.toISOString() } : {}),
    }));
  }

  /** Open drift per environment, for the fleet page. */
  async openDriftCounts(): Promise<Map<string, number>> {
    const rows = await this.db
      .selectFrom('standards_drift')
      .select(['environment_id', sql<number>`count(*)::int`.as('n')])
      .where('resolved_at', 'is', null)
      .groupBy('environment_id')
      .execute();
    return new Map(rows.map((r) => [r.environment_id, Number(r.n)]));
  }

  /** Open drift per environment as it was at a past moment of the retention (the fleet page's time slider). */
  async openDriftCountsAt(at: Date): Promise<Map<string, number>> {
    const rows = await this.db
      .selectFrom('standards_drift')
      .select(['environment_id', sql<number>`count(*)::int`.as('n')])
      .where('found_at', '<=', at)
      .where((eb) => eb.or([eb('resolved_at', 'is', null), eb('resolved_at', '>', at)]))
      .groupBy('environment_id')
      .execute();
    return new Map(rows.map((r) => [r.environment_id, Number(r.n)]));
  }
}
