import { sql, type ExpressionBuilder, type Kysely } from 'kysely';
import type { EnvironmentRow, FleetSchema, TokenRow } from '../database/fleet-schema.js';
import { parseEnvironmentSelector, selects } from '../shared/environment-selector.js';
import type { RegisteredEnvironment, RegisteredToken, TokenPurpose } from '../shared/registry.js';

/** What a caller says about an environment it serves; the registry keeps when and how it came. */
export interface EnvironmentToRecord {
  id: string;
  kind: 'managed' | 'saas';
  cluster?: string;
  apiUrl: string;
  customer?: string;
  stage?: string;
  source: RegisteredEnvironment['source'];
}

export interface MintedToken {
  environmentId: string;
  purpose: TokenPurpose;
  tokenId: string;
  secretRef: string;
  scopes: readonly string[];
  expiresAt?: Date;
  mintedByUs: boolean;
  reason: string;
  /** The token it replaces stays valid until then (work in flight still holds it). */
  replacedRevokeAfter: Date;
}

/** An environment with work due in a maintenance run. */
export interface MaintenanceDue {
  environmentId: string;
  /** Current tokens that expire within the rotation margin. */
  expiring: RegisteredToken[];
  /** Tokens we replaced whose grace period is over. */
  toRevoke: RegisteredToken[];
  scopeCheck: boolean;
}

/**
 * The registry of every environment Autopilot serves and the tokens it holds there, in the fleet
 * database. Only activities use it; what Temporal knows about runs is never copied here.
 */
export class EnvironmentRegistry {
  constructor(readonly db: Kysely<FleetSchema>) {}

  /** Records an environment, or brings its record up to date; its first source is kept. */
  async record(environment: EnvironmentToRecord): Promise<RegisteredEnvironment> {
    const values = {
      id: environment.id,
      kind: environment.kind,
      cluster: environment.cluster ?? null,
      api_url: environment.apiUrl,
      customer: environment.customer ?? null,
      stage: environment.stage ?? null,
      source: environment.source,
    };
    await this.db
      .insertInto('environments')
      .values(values)
      .onConflict((oc) =>
        oc.column('id').doUpdateSet({
          kind: values.kind,
          cluster: values.cluster,
          api_url: values.api_url,
          customer: sql`coalesce(excluded.customer, environments.customer)`,
          stage: sql`coalesce(excluded.stage, environments.stage)`,
          updated_at: sql`now()`,
        }),
      )
      .execute();
    return (await this.get(environment.id))!;
  }

  async get(id: string): Promise<RegisteredEnvironment | undefined> {
    const row = await this.db.selectFrom('environments').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return undefined;
    const tokens = await this.db
      .selectFrom('environment_tokens')
      .selectAll()
      .where('environment_id', '=', id)
      .where('state', '!=', 'revoked')
      .orderBy('created_at')
      .execute();
    return environmentOf(row, tokens);
  }

  /** Whether an environment of this id is registered: one indexed read, no tokens. */
  async has(id: string): Promise<boolean> {
    const row = await this.db.selectFrom('environments').select('id').where('id', '=', id).executeTakeFirst();
    return row !== undefined;
  }

  /** Every environment, or those a selector names (`*-p*`, `cluster:eu1`), in id order. */
  async list(selectorText?: string): Promise<RegisteredEnvironment[]> {
    const selector = selectorText ? parseEnvironmentSelector(selectorText) : undefined;
    if (!selector) return this.withTokens(await this.db.selectFrom('environments').selectAll().orderBy('id').execute());
    // A selector is matched on the columns it names; reading only those is several times faster
    // over thousands of environments, and the whole records are read for the ones it chose.
    const candidates = await this.db
      .selectFrom('environments')
      .select(['id', 'customer', 'stage', 'cluster', 'kind'])
      .$if(selector.tags.length > 0, (q) => q.select('tags'))
      .execute();
    const chosen = candidates.filter((r) => selects(selector, r)).map((r) => r.id);
    if (chosen.length === 0) return [];
    const rows = await this.db.selectFrom('environments').selectAll().where('id', 'in', chosen).orderBy('id').execute();
    return this.withTokens(rows);
  }

  /** These environments (those that exist), in id order: a batch costs two queries, not two per environment. */
  async getMany(ids: readonly string[]): Promise<RegisteredEnvironment[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.selectFrom('environments').selectAll().where('id', 'in', ids).orderBy('id').execute();
    return this.withTokens(rows);
  }

  private async withTokens(chosen: EnvironmentRow[]): Promise<RegisteredEnvironment[]> {
    if (chosen.length === 0) return [];
    const tokens = await this.db
      .selectFrom('environment_tokens')
      .selectAll()
      .where('state', '!=', 'revoked')
      .where(
        'environment_id',
        'in',
        chosen.map((r) => r.id),
      )
      .orderBy('created_at')
      .execute();
    const byEnvironment = new Map<string, TokenRow[]>();
    for (const t of tokens) byEnvironment.set(t.environment_id, [...(byEnvironment.get(t.environment_id) ?? []), t]);
    return chosen.map((r) => environmentOf(r, byEnvironment.get(r.id) ?? []));
  }

  /** Adds and removes an environment's tags; false when there is no such environment. */
  async retag(
    id: string,
    add: readonly string[],
    remove: readonly string[],
  ): Promise<RegisteredEnvironment | undefined> {
    const row = await this.db.selectFrom('environments').select('tags').where('id', '=', id).executeTakeFirst();
    if (!row) return undefined;
    const tags = [...new Set([...row.tags.filter((t) => !remove.includes(t)), ...add])].sort();
    await this.db
      .updateTable('environments')
      .set({ tags: JSON.stringify(tags), updated_at: sql`now()` })
      .where('id', '=', id)
      .execute();
    return this.get(id);
  }

  /** Where each registered environment came from, by id (no tokens read). */
  async sources(): Promise<Map<string, RegisteredEnvironment['source']>> {
    const rows = await this.db.selectFrom('environments').select(['id', 'source']).execute();
    return new Map(rows.map((r) => [r.id, r.source]));
  }

  async remove(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('environments').where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async currentToken(environmentId: string, purpose: TokenPurpose): Promise<RegisteredToken | undefined> {
    const row = await this.db
      .selectFrom('environment_tokens')
      .selectAll()
      .where('environment_id', '=', environmentId)
      .where('purpose', '=', purpose)
      .where('state', '=', 'current')
      .executeTakeFirst();
    return row ? tokenOf(row) : undefined;
  }

  /**
   * Records a new current token for the purpose, in one transaction: the one it replaces becomes
   * superseded (revoked by maintenance after its grace period), and the rotation is written down.
   */
  async tokenMinted(minted: MintedToken): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      const previous = await tx
        .updateTable('environment_tokens')
        .set({ state: 'superseded', revoke_after: minted.replacedRevokeAfter })
        .where('environment_id', '=', minted.environmentId)
        .where('purpose', '=', minted.purpose)
        .where('state', '=', 'current')
        .where('token_id', '!=', minted.tokenId)
        .returning('token_id')
        .execute();
      await tx
        .insertInto('environment_tokens')
        .values({
          token_id: minted.tokenId,
          environment_id: minted.environmentId,
          purpose: minted.purpose,
          secret_ref: minted.secretRef,
          scopes: JSON.stringify(minted.scopes),
          expires_at: minted.expiresAt ?? null,
          minted_by_us: minted.mintedByUs,
          state: 'current',
        })
        .onConflict((oc) => oc.column('token_id').doNothing())
        .execute();
      await tx
        .insertInto('token_rotations')
        .values({
          environment_id: minted.environmentId,
          purpose: minted.purpose,
          old_token_id: previous[0]?.token_id ?? null,
          new_token_id: minted.tokenId,
          reason: minted.reason,
        })
        .execute();
    });
  }

  async tokenRevoked(tokenId: string, at: Date): Promise<void> {
    await this.db
      .updateTable('environment_tokens')
      .set({ state: 'revoked', revoked_at: at, revoke_after: null })
      .where('token_id', '=', tokenId)
      .execute();
  }

  async scopesChecked(environmentId: string, at: Date, attention: string | undefined): Promise<void> {
    await this.db
      .updateTable('environments')
      .set({
        scopes_checked_at: at,
        state: attention ? 'needs-attention' : 'active',
        attention: attention ?? null,
        updated_at: sql`now()`,
      })
      .where('id', '=', environmentId)
      .execute();
  }

  async needsAttention(environmentId: string, reason: string): Promise<void> {
    await this.db
      .updateTable('environments')
      .set({ state: 'needs-attention', attention: reason, updated_at: sql`now()` })
      .where('id', '=', environmentId)
      .execute();
  }

  /**
   * The environments with something due as of `asOf`, from the registry alone (no Dynatrace call):
   * current tokens expiring within `rotateBeforeMs`, replaced tokens whose grace is over, and a
   * scope check older than `scopeCheckMs`. At most `limit` environments, in id order after `after`.
   */
  async dueForMaintenance(
    asOf: Date,
    policy: { rotateBeforeMs: number; scopeCheckMs: number },
    page: { after?: string; limit: number },
  ): Promise<MaintenanceDue[]> {
    const rotateBy = new Date(asOf.getTime() + policy.rotateBeforeMs);
    const checkedBefore = new Date(asOf.getTime() - policy.scopeCheckMs);
    const tokenDue = (eb: ExpressionBuilder<FleetSchema, 'environment_tokens'>) =>
      eb.or([
        eb.and([eb('state', '=', 'current'), eb('minted_by_us', '=', true), eb('expires_at', '<=', rotateBy)]),
        eb.and([eb('state', '=', 'superseded'), eb('revoke_after', '<=', asOf)]),
      ]);
    const checkDue = (eb: ExpressionBuilder<FleetSchema, 'environments'>) =>
      eb.or([eb('scopes_checked_at', 'is', null), eb('scopes_checked_at', '<=', checkedBefore)]);
    // The page and its cursor are the database's: one order (its collation) for both, and a LIMIT.
    const rows = await this.db
      .selectFrom((db) =>
        db
          .selectFrom('environment_tokens')
          .select('environment_id as id')
          .where(tokenDue)
          .union(db.selectFrom('environments').select('id').where(checkDue))
          .as('due'),
      )
      .select('id')
      .$if(page.after !== undefined, (q) => q.where('id', '>', page.after!))
      .orderBy('id')
      .limit(page.limit)
      .execute();
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const tokens = await this.db
      .selectFrom('environment_tokens')
      .selectAll()
      .where('environment_id', 'in', ids)
      .where(tokenDue)
      .execute();
    const unchecked = new Set(
      (await this.db.selectFrom('environments').select('id').where('id', 'in', ids).where(checkDue).execute()).map(
        (r) => r.id,
      ),
    );
    const due = new Map<string, MaintenanceDue>(
      ids.map((id) => [id, { environmentId: id, expiring: [], toRevoke: [], scopeCheck: unchecked.has(id) }]),
    );
    for (const t of tokens) {
      const entry = due.get(t.environment_id)!;
      (t.state === 'current' ? entry.expiring : entry.toRevoke).push(tokenOf(t));
    }
    return [...due.values()];
  }

  /** The rotations of an environment (or all), newest first. */
  async rotations(environmentId?: string, limit = 100) {
    return this.db
      .selectFrom('token_rotations')
      .selectAll()
      .$if(environmentId !== undefined, (q) => q.where('environment_id', '=', environmentId!))
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
  }
}

const iso = (d: Date | string | null): string | undefined => (d === null ? undefined : new Date(d).toISOString());

function tokenOf(row: TokenRow): RegisteredToken {
  return {
    tokenId: row.token_id,
    environmentId: row.environment_id,
    purpose: row.purpose,
    secretRef: row.secret_ref,
    scopes: row.scopes,
    ...(row.expires_at ? { expiresAt: iso(row.expires_at)! } : {}),
    mintedByUs: row.minted_by_us,
    state: row.state,
    ...(row.revoke_after ? { revokeAfter: iso(row.revoke_after)! } : {}),
  };
}

function environmentOf(row: EnvironmentRow, tokens: TokenRow[]): RegisteredEnvironment {
  return {
    id: row.id,
    kind: row.kind,
    ...(row.cluster ? { cluster: row.cluster } : {}),
    apiUrl: row.api_url,
    ...(row.customer ? { customer: row.customer } : {}),
    ...(row.stage ? { stage: row.stage } : {}),
    source: row.source,
    state: row.state,
    ...(row.attention ? { attention: row.attention } : {}),
    tags: row.tags,
    ...(row.scopes_checked_at ? { scopesCheckedAt: iso(row.scopes_checked_at)! } : {}),
    createdAt: iso(row.created_at)!,
    updatedAt: iso(row.updated_at)!,
    tokens: tokens.map(tokenOf),
  };
}
