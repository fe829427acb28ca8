import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/**
 * One environment Autopilot serves. `api_url` is the base every environment API path hangs off
 * (`https://cluster/e/abc-p1` on a Managed cluster, `https://abc123.live.dynatrace.com` on SaaS).
 */
export interface EnvironmentsTable {
  id: string;
  kind: 'managed' | 'saas';
  cluster: string | null;
  api_url: string;
  customer: string | null;
  stage: string | null;
  source: 'onboarded' | 'adopted' | 'registered';
  state: Generated<'active' | 'needs-attention'>;
  attention: ColumnType<string | null, string | null | undefined, string | null>;
  scopes_checked_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** The environment tokens Autopilot holds or held, by their public id (the secret lives in the secret store). */
export interface EnvironmentTokensTable {
  token_id: string;
  environment_id: string;
  purpose: 'installer-download' | 'automation';
  secret_ref: string;
  scopes: ColumnType<string[], string, string>;
  expires_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** Minted by Autopilot (so revoked by it) or handed to it (`environments add`): those are never revoked. */
  minted_by_us: boolean;
  state: 'current' | 'superseded' | 'revoked';
  /** A superseded token stays valid this long for work that still holds it. */
  revoke_after: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
  revoked_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

/** Day-2 record: which token replaced which, when and why. */
export interface TokenRotationsTable {
  id: Generated<number>;
  environment_id: string;
  purpose: string;
  old_token_id: string | null;
  new_token_id: string;
  reason: string;
  rotated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface FleetSchema {
  environments: EnvironmentsTable;
  environment_tokens: EnvironmentTokensTable;
  token_rotations: TokenRotationsTable;
}

export type EnvironmentRow = Selectable<EnvironmentsTable>;
export type NewEnvironmentRow = Insertable<EnvironmentsTable>;
export type EnvironmentUpdate = Updateable<EnvironmentsTable>;
export type TokenRow = Selectable<EnvironmentTokensTable>;
