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
  /** Operators' labels (`tier:gold`, `eu`), for selectors. */
  tags: ColumnType<string[], string | undefined, string>;
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

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type OptionalTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

/** A problem the fleet scan saw in an environment: its current values and when it was open. */
export interface FleetProblemsTable {
  environment_id: string;
  problem_id: string;
  display_id: string;
  title: string;
  severity: string;
  impact: string;
  affected_entities: number;
  /** Dynatrace's own start and end of the problem (the end: when a scan saw it closed or gone). */
  opened_at: Timestamp;
  closed_at: OptionalTimestamp;
  incident_id: ColumnType<string | null, string | null | undefined, string | null>;
}

/** What changed about a problem and when: the history the time slider rebuilds a moment from. */
export interface FleetProblemChangesTable {
  id: Generated<number>;
  environment_id: string;
  problem_id: string;
  change: 'opened' | 'updated' | 'closed';
  at: Timestamp;
  title: string;
  severity: string;
  impact: string;
  affected_entities: number;
}

/** Per environment: when the scan last read it, and why it could not. */
export interface FleetEnvironmentScansTable {
  environment_id: string;
  problems_scanned_at: OptionalTimestamp;
  problems_ok_at: OptionalTimestamp;
  problems_error: ColumnType<string | null, string | null | undefined, string | null>;
  hosts_scanned_at: OptionalTimestamp;
  hosts_error: ColumnType<string | null, string | null | undefined, string | null>;
}

/** An environment's host count and OneAgent versions, written only when they changed. */
export interface FleetHostSnapshotsTable {
  id: Generated<number>;
  environment_id: string;
  at: Timestamp;
  hosts: number;
  agent_versions: ColumnType<Record<string, number>, string, string>;
}

export interface FleetIncidentsTable {
  id: string;
  problem_type: string;
  opened_at: Timestamp;
  last_opened_at: Timestamp;
  closed_at: OptionalTimestamp;
  environments: ColumnType<string[], string, string>;
}

/** One finished scan, so the page can say how old its data is. */
export interface FleetScansTable {
  id: Generated<number>;
  started_at: Timestamp;
  finished_at: Timestamp;
  environments: number;
  failed: number;
  host_scans: number;
  changes: number;
}

/** A validated standards folder by its content hash, as the CLI handed it over. */
export interface StandardSetsTable {
  hash: string;
  document: ColumnType<unknown, string, string>;
  origin_path: string;
  commit: string | null;
  dirty: boolean | null;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** Each apply an operator started: the last one is what the drift schedule holds the fleet to. */
export interface StandardsAppliedTable {
  id: Generated<number>;
  set_hash: string;
  selector: string;
  /** `workflowId/runId` of the StandardsApply run. */
  run: string;
  started_at: Timestamp;
  finished_at: OptionalTimestamp;
  counts: ColumnType<unknown, string | null | undefined, string | null>;
}

export interface StandardsPlansTable {
  id: string;
  set_hash: string;
  selector: string;
  purpose: 'plan' | 'apply' | 'drift';
  created_at: Timestamp;
  counts: ColumnType<unknown, string, string>;
}

/** The objects of a plan that need something (unchanged ones are only counted). */
export interface StandardsPlanItemsTable {
  seq: Generated<number>;
  plan_id: string;
  environment_id: string;
  standard: string;
  kind: string;
  object: string;
  action: string;
  mode: string;
  differences: ColumnType<unknown, string, string>;
  error: string | null;
}

export interface StandardsDriftTable {
  id: Generated<number>;
  environment_id: string;
  standard: string;
  object: string;
  field: string;
  old_value: ColumnType<unknown, string | null, string | null>;
  new_value: ColumnType<unknown, string | null, string | null>;
  mode: string;
  action: 'reapplied' | 'reported';
  found_at: Timestamp;
  last_seen_at: Timestamp;
  resolved_at: OptionalTimestamp;
}

/** A fleet inventory by its reference (`sha256:<hex>` of `content`), as the CLI stored it. */
export interface InventoriesTable {
  ref: string;
  content: string;
  hosts: number;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** A host's install holding one of its fleet's slots, until `expires_at` unless refreshed. */
export interface InstallSlotsTable {
  holder: string;
  pool: string;
  environment_id: string;
  expires_at: ColumnType<Date, Date | string, Date | string>;
}

export interface FleetSchema {
  environments: EnvironmentsTable;
  environment_tokens: EnvironmentTokensTable;
  token_rotations: TokenRotationsTable;
  fleet_problems: FleetProblemsTable;
  fleet_problem_changes: FleetProblemChangesTable;
  fleet_environment_scans: FleetEnvironmentScansTable;
  fleet_host_snapshots: FleetHostSnapshotsTable;
  fleet_incidents: FleetIncidentsTable;
  fleet_scans: FleetScansTable;
  standard_sets: StandardSetsTable;
  standards_applied: StandardsAppliedTable;
  standards_plans: StandardsPlansTable;
  standards_plan_items: StandardsPlanItemsTable;
  standards_drift: StandardsDriftTable;
  inventories: InventoriesTable;
  install_slots: InstallSlotsTable;
}

export type EnvironmentRow = Selectable<EnvironmentsTable>;
export type NewEnvironmentRow = Insertable<EnvironmentsTable>;
export type EnvironmentUpdate = Updateable<EnvironmentsTable>;
export type TokenRow = Selectable<EnvironmentTokensTable>;
