/**
 * Configuration standards as code: what a standard declares, how a plan describes the work, and the
 * contract of the standards workflows. Shared by the CLI, the workflows and the activities, so it
 * holds types and pure functions only.
 */

export const STANDARDS_APPLY = 'StandardsApply';
export const STANDARDS_PLAN = 'StandardsPlan';
export const STANDARDS_DRIFT = 'StandardsDrift';
export const STANDARDS_REQUEST = 'StandardsRequest';
export const STANDARDS_DRIFT_SCHEDULE_ID = 'standards-drift';

export type StandardMode = 'enforce' | 'report';
export type StandardKind = 'settings' | 'user-group' | 'environment-quotas';

/** The part of a standard that says what it wants; overrides replace parts of it per selector. */
export interface SettingsBody {
  schemaId: string;
  /** `environment`, or an entity id (`HOST_GROUP-0123456789ABCDEF`); may use placeholders. */
  scope: string;
  value: Record<string, unknown>;
}

export interface UserGroupBody {
  name: string;
  /** Permissions this group holds on each targeted environment (`VIEWER`, `MANAGE_SETTINGS`, ...). */
  permissions: string[];
  ldapGroupNames: string[];
}

export interface StandardOverride {
  /** Selector of the environments this override applies to, in the registry's selector syntax. */
  environments: string;
  mode?: StandardMode;
  /** Deep-merged onto the standard's value / group / quotas: mappings merge, everything else replaces. */
  value?: Record<string, unknown>;
  group?: Partial<UserGroupBody>;
  quotas?: Record<string, unknown>;
}

interface StandardBase {
  name: string;
  description?: string;
  /** Which environments it targets (selector; `*` for all). */
  environments: string;
  mode: StandardMode;
  overrides: StandardOverride[];
  /** Where it was declared, for messages: `standards/zones.yaml:3`. */
  source: string;
}

export interface SettingsStandard extends StandardBase {
  kind: 'settings';
  settings: SettingsBody;
  /** Set-typed properties beyond the ones Autopilot knows for the schema (paths, `*` for every element). */
  unordered: string[];
  /**
   * An external id given by the standard (it takes over an object that carries it, such as one
   * onboarding created; placeholders allowed); otherwise one derived from the name and scope.
   */
  externalId?: string;
}

export interface UserGroupStandard extends StandardBase {
  kind: 'user-group';
  group: UserGroupBody;
}

export interface QuotasStandard extends StandardBase {
  kind: 'environment-quotas';
  quotas: Record<string, unknown>;
}

export type Standard = SettingsStandard | UserGroupStandard | QuotasStandard;

/** A validated standards folder: its content hash names it wherever it is referred to. */
export interface StandardsSet {
  hash: string;
  standards: Standard[];
  /** Remove objects of ours that no standard declares any more (otherwise they are reported). */
  prune: boolean;
  origin: { path: string; commit?: string; dirty?: boolean };
}

export type PlannedAction = 'create' | 'update' | 'delete' | 'unchanged' | 'orphan' | 'refused';

/** One field that differs: `severityRules` old → new (values shown as JSON, secrets never). */
export interface FieldDifference {
  field: string;
  old?: unknown;
  new?: unknown;
}

/** What a plan found for one object of one environment. */
export interface PlannedObject {
  environmentId: string;
  standard: string;
  kind: StandardKind;
  /** `builtin:alerting.profile abc-p1 paging` — what the object is, for people. */
  object: string;
  action: PlannedAction;
  mode: StandardMode;
  differences: FieldDifference[];
  /** Why the object cannot be planned or written (a render error, a cluster's refusal). */
  error?: string;
}

export interface PlanCounts {
  environments: number;
  objects: number;
  create: number;
  update: number;
  delete: number;
  unchanged: number;
  orphan: number;
  refused: number;
  /** Environments that could not be read at all (their rows say why). */
  unreadable: number;
}

export interface StandardsPlanSummary {
  planId: string;
  setHash: string;
  selector: string;
  createdAt: string;
  counts: PlanCounts;
  /** Environments with something to write (create, update, delete) for the run's purpose, in registry order. */
  changedEnvironments: string[];
  /** Environments where an object of ours is missing or differs, whatever the standard's mode. */
  driftedEnvironments: number;
}

export const emptyCounts = (): PlanCounts => ({
  environments: 0,
  objects: 0,
  create: 0,
  update: 0,
  delete: 0,
  unchanged: 0,
  orphan: 0,
  refused: 0,
  unreadable: 0,
});

export const hasChanges = (counts: PlanCounts) => counts.create + counts.update + counts.delete > 0;

/** One standards run over the fleet for `apply`: a second apply of the same standards attaches to it. */
export const standardsApplyWorkflowId = (setHash: string, selector: string) =>
  `standards:${setHash.slice(0, 16)}${selector === '*' ? '' : `:${selector.replace(/\s+/g, ' ').trim()}`}`;

export interface StandardsApplyInput {
  set: StandardsSet;
  /** Which environments (selector); `*` for every targeted one. */
  selector: string;
  /** Environments written at once across the fleet (each cluster's own caps still apply). */
  concurrency?: number;
  /** `drift`: only `enforce` standards are written, as the drift schedule does. */
  purpose?: 'apply' | 'drift';
}

export type EnvironmentApplyState = 'pending' | 'applying' | 'applied' | 'needs-attention' | 'skipped';

export interface EnvironmentApplyOutcome {
  environmentId: string;
  outcome: 'applied' | 'unchanged' | 'needs-attention';
  created: number;
  updated: number;
  deleted: number;
  /** The cluster's refusal, with the settings API's violation messages. */
  reason?: string;
  /** Objects of ours no standard wants here (left alone without `prune`): label and objectId. */
  orphans?: string[];
}

export interface StandardsApplyProgress {
  workflowId: string;
  setHash: string;
  phase: string;
  planned: PlanCounts;
  environments: number;
  applied: number;
  unchanged: number;
  skipped: number;
  writes: { created: number; updated: number; deleted: number };
  /** Environments waiting for `retry` or `skip`, with the cluster's reason. */
  attention: { environmentId: string; reason: string; since: string }[];
}

export interface StandardsApplyResult extends StandardsApplyProgress {
  planId: string;
}

export interface StandardsPlanInput {
  set: StandardsSet;
  selector: string;
  concurrency?: number;
}

export interface StandardsDriftInput {
  concurrency?: number;
}

export interface StandardsDriftReport {
  /** Absent when no standards were ever applied: there is nothing to hold the fleet to. */
  setHash?: string;
  checkedAt: string;
  environments: number;
  drifted: number;
  reapplied: number;
  reported: number;
  needsAttention: number;
  /** The apply this check gave way to (it writes the same set). */
  skippedFor?: string;
}

/** A drift the schedule found: a field of an object of ours that differs from its standard. */
export interface DriftRecord {
  id: number;
  environmentId: string;
  standard: string;
  object: string;
  field: string;
  old?: unknown;
  new?: unknown;
  mode: StandardMode;
  foundAt: string;
  /** `reapplied` (enforce) or `reported` (report). */
  action: 'reapplied' | 'reported';
  resolvedAt?: string;
}

export type StandardsRequestInput =
  | {
      op: 'plan-items';
      planId: string;
      after?: { environmentId: string; seq: number };
      limit: number;
      changesOnly: boolean;
    }
  | { op: 'drift'; selector?: string; since?: string; openOnly: boolean; limit: number };

export type StandardsRequestResult =
  | { op: 'plan-items'; items: (PlannedObject & { seq: number })[]; next?: { environmentId: string; seq: number } }
  | { op: 'drift'; records: DriftRecord[] };
