import { z } from 'zod';
import { lazySchema } from './lazy-schema.js';

/**
 * Configuration standards as code: what a standard declares, how a plan describes the work, and the
 * contract of the standards workflows. Shared by the CLI, the workflows and the activities, so it
 * holds schemas, types and pure functions only.
 */

export const STANDARDS_APPLY = 'StandardsApply';
export const STANDARDS_PLAN = 'StandardsPlan';
export const STANDARDS_DRIFT = 'StandardsDrift';
export const STANDARDS_REQUEST = 'StandardsRequest';
export const STANDARDS_DRIFT_SCHEDULE_ID = 'standards-drift';

export const standardModeSchema = lazySchema(() => z.enum(['enforce', 'report']));
export type StandardMode = z.infer<typeof standardModeSchema>;
export type StandardKind = 'settings' | 'user-group' | 'environment-quotas';

/** The part of a standard that says what it wants; overrides replace parts of it per selector. */
const settingsBodySchema = lazySchema(() =>
  z.object({
    schemaId: z.string().min(1),
    /** `environment`, or an entity id (`HOST_GROUP-0123456789ABCDEF`); may use placeholders. */
    scope: z.string().min(1),
    value: z.record(z.string(), z.unknown()),
  }),
);
export type SettingsBody = z.infer<typeof settingsBodySchema>;

const userGroupBodySchema = lazySchema(() =>
  z.object({
    name: z.string().min(1),
    /** Permissions this group holds on each targeted environment (`VIEWER`, `MANAGE_SETTINGS`, ...). */
    permissions: z.array(z.string()),
    ldapGroupNames: z.array(z.string()),
  }),
);
export type UserGroupBody = z.infer<typeof userGroupBodySchema>;

const standardOverrideSchema = lazySchema(() =>
  z.object({
    /** Selector of the environments this override applies to, in the registry's selector syntax. */
    environments: z.string().min(1),
    mode: standardModeSchema.optional(),
    /** Deep-merged onto the standard's value / group / quotas: mappings merge, everything else replaces. */
    value: z.record(z.string(), z.unknown()).optional(),
    group: userGroupBodySchema.partial().optional(),
    quotas: z.record(z.string(), z.unknown()).optional(),
  }),
);
export type StandardOverride = z.infer<typeof standardOverrideSchema>;

/** The fields every kind of standard has (a function, so that its schemas are built only when used). */
const standardBase = () => ({
  name: z.string().min(1),
  description: z.string().optional(),
  /** Which environments it targets (selector; `*` for all). */
  environments: z.string().min(1),
  mode: standardModeSchema,
  overrides: z.array(standardOverrideSchema),
  /** Where it was declared, for messages: `standards/zones.yaml:3`. */
  source: z.string(),
});

const settingsStandardSchema = lazySchema(() =>
  z.object({
    ...standardBase(),
    kind: z.literal('settings'),
    settings: settingsBodySchema,
    /** Set-typed properties beyond the ones Autopilot knows for the schema (paths, `*` for every element). */
    unordered: z.array(z.string()),
    /**
     * An external id given by the standard (it takes over an object that carries it, such as one
     * onboarding created; placeholders allowed); otherwise one derived from the name and scope.
     */
    externalId: z.string().optional(),
  }),
);
export type SettingsStandard = z.infer<typeof settingsStandardSchema>;

const userGroupStandardSchema = lazySchema(() =>
  z.object({
    ...standardBase(),
    kind: z.literal('user-group'),
    group: userGroupBodySchema,
  }),
);
export type UserGroupStandard = z.infer<typeof userGroupStandardSchema>;

const quotasStandardSchema = lazySchema(() =>
  z.object({
    ...standardBase(),
    kind: z.literal('environment-quotas'),
    quotas: z.record(z.string(), z.unknown()),
  }),
);
export type QuotasStandard = z.infer<typeof quotasStandardSchema>;

export const standardSchema = lazySchema(() =>
  z.discriminatedUnion('kind', [settingsStandardSchema, userGroupStandardSchema, quotasStandardSchema]),
);
export type Standard = z.infer<typeof standardSchema>;

/**
 * A validated standards folder: its content hash names it wherever it is referred to. The shape is
 * checked here; what only the whole set can tell (references, placeholders, the hash) is checked
 * where it is recorded.
 */
export const standardsSetSchema = lazySchema(() =>
  z.object({
    hash: z.string().regex(/^[0-9a-f]{64}$/, 'must be the sha256 of the standards'),
    standards: z.array(standardSchema),
    /** Remove objects of ours that no standard declares any more (otherwise they are reported). */
    prune: z.boolean(),
    origin: z.object({ path: z.string(), commit: z.string().optional(), dirty: z.boolean().optional() }),
  }),
);
export type StandardsSet = z.infer<typeof standardsSetSchema>;

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

export const planCountsSchema = lazySchema(() =>
  z.object({
    environments: z.number(),
    objects: z.number(),
    create: z.number(),
    update: z.number(),
    delete: z.number(),
    unchanged: z.number(),
    orphan: z.number(),
    refused: z.number(),
    /** Environments that could not be read at all (their rows say why). */
    unreadable: z.number(),
  }),
);
export type PlanCounts = z.infer<typeof planCountsSchema>;

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

/** StandardsApply's input, checked when the run starts (a client in any language may start one). */
export const standardsApplyInputSchema = lazySchema(() =>
  z.object({
    set: standardsSetSchema,
    /** Which environments (selector); `*` for every targeted one. */
    selector: z.string().min(1),
    /** Environments written at once across the fleet (each cluster's own caps still apply). */
    concurrency: z.number().int().min(1).max(1000).optional(),
    /** `drift`: only `enforce` standards are written, as the drift schedule does. */
    purpose: z.enum(['apply', 'drift']).optional(),
  }),
);
export type StandardsApplyInput = z.infer<typeof standardsApplyInputSchema>;

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

/** The `standardsProgress` query of a StandardsApply run; with the plan's id, its result. */
export const standardsApplyProgressSchema = lazySchema(() =>
  z.object({
    workflowId: z.string(),
    setHash: z.string(),
    phase: z.string(),
    planned: planCountsSchema,
    environments: z.number(),
    applied: z.number(),
    unchanged: z.number(),
    skipped: z.number(),
    writes: z.object({ created: z.number(), updated: z.number(), deleted: z.number() }),
    /** Environments waiting for `retry` or `skip`, with the cluster's reason. */
    attention: z.array(z.object({ environmentId: z.string(), reason: z.string(), since: z.string() })),
  }),
);
export type StandardsApplyProgress = z.infer<typeof standardsApplyProgressSchema>;

export const standardsApplyResultSchema = lazySchema(() => standardsApplyProgressSchema.extend({ planId: z.string() }));
export type StandardsApplyResult = z.infer<typeof standardsApplyResultSchema>;

/** A decision on an environment a StandardsApply run waits on (the `decideEnvironment` update's argument). */
export const environmentDecisionSchema = lazySchema(() =>
  z.object({
    /** The environment waiting for a decision, or `*` for every one that is. */
    environmentId: z.string().min(1),
    action: z.enum(['retry', 'skip']),
    reason: z.string().optional(),
  }),
);
export type EnvironmentDecision = z.infer<typeof environmentDecisionSchema>;

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
