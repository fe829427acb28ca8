import { z } from 'zod';
import { lazySchema } from './lazy-schema.js';
import { durationSchema } from './onboarding.js';

export const REMEDIATE_CPU_SATURATION = 'RemediateCpuSaturation';

/** One remediation per impacted host of an environment; every notification about it goes there. */
export const remediationWorkflowId = (environmentId: string, hostEntityId: string) =>
  `remediate:${environmentId}:${hostEntityId}`;

export const HOST_ENTITY_ID = /^HOST-[0-9A-F]{16}$/;

/**
 * The name of a version we create. Service Catalog allows no spaces in it ("for example, v1 v2beta"),
 * so the readable account of what changed goes into the description.
 */
export const rolledArtifactName = (targetType: string) => `${targetType}-dynatrace-autopilot`;

/** What the webhook forwards of a Dynatrace problem notification (never trusted: validated via the API). */
export const problemNotificationSchema = lazySchema(() =>
  z.object({
    problemId: z.string(),
    state: z.string(),
    displayId: z.string().optional(),
    title: z.string().optional(),
    hostEntityId: z.string(),
    hostName: z.string().optional(),
    receivedAt: z.string(),
  }),
);
export type ProblemNotification = z.infer<typeof problemNotificationSchema>;

export const remediationPolicySchema = lazySchema(() =>
  z.object({
    /** Act when this many distinct validated problems fall within `window`. */
    threshold: z.number().int().min(1).max(100).default(3),
    window: durationSchema.default('24 hours'),
    /** After a roll, notifications for the host are answered, not acted on, for this long. */
    cooldown: durationSchema.default('7 days'),
    approval: z.enum(['auto', 'required']).default('auto'),
    approvalTimeout: durationSchema.default('24 hours'),
    /** Event types that count as CPU saturation ([U] names differ between v1, v2 and Grail). */
    cpuEventTypes: z.array(z.string().min(1)).min(1).default(['OSI_HIGH_CPU', 'CPU_SATURATED', 'CPU_SATURATION']),
    deprecatePrevious: z.boolean().default(true),
    /** The run continues as new once its history has this many events (hosts that stay noisy for weeks). */
    historyLimit: z.number().int().min(200).max(40_000).default(4_000),
  }),
);
export type RemediationPolicy = z.output<typeof remediationPolicySchema>;

export const remediationInputSchema = lazySchema(() =>
  z.object({
    environmentId: z.string().regex(/^[a-zA-Z0-9_-]{1,70}$/),
    // A copy: zod resets the lastIndex of the RegExp it is given, and the workflow sandbox freezes
    // exported ones (workflows/preloaded-modules.ts).
    hostEntityId: z.string().regex(new RegExp(HOST_ENTITY_ID), { message: 'must be a HOST entity id' }),
    policy: remediationPolicySchema.default(remediationPolicySchema.parse({})),
  }),
);
export type RemediationInput = z.input<typeof remediationInputSchema>;

export const occurrenceSchema = lazySchema(() =>
  z.object({
    problemId: z.string(),
    displayId: z.string(),
    /** Workflow time the occurrence was validated (the window is measured in it). */
    at: z.number(),
  }),
);
export type Occurrence = z.infer<typeof occurrenceSchema>;

export const ignoredNotificationSchema = lazySchema(() =>
  z.object({ problemId: z.string(), state: z.string(), reason: z.string() }),
);
export type IgnoredNotification = z.infer<typeof ignoredNotificationSchema>;

export const remediationOutcomeSchema = lazySchema(() =>
  z.enum(['remediated', 'already-remediated', 'quiet', 'not-remediable', 'rejected', 'approval-expired', 'skipped']),
);
export type RemediationOutcome = z.infer<typeof remediationOutcomeSchema>;

export const rolledArtifactSchema = lazySchema(() =>
  z.object({
    productId: z.string(),
    artifactId: z.string(),
    name: z.string(),
    fromType: z.string(),
    toType: z.string(),
    previousArtifactId: z.string(),
    created: z.boolean(),
  }),
);
export type RolledArtifact = z.infer<typeof rolledArtifactSchema>;

/** What a RemediateCpuSaturation run returns; a contract with every client (docs/contract). */
export const remediationResultSchema = lazySchema(() =>
  z.object({
    environmentId: z.string(),
    hostEntityId: z.string(),
    hostName: z.string().optional(),
    outcome: remediationOutcomeSchema,
    reason: z.string(),
    occurrences: z.array(occurrenceSchema),
    ignored: z.array(ignoredNotificationSchema),
    artifact: rolledArtifactSchema.optional(),
    commented: z.array(z.string()),
  }),
);
export type RemediationResult = z.infer<typeof remediationResultSchema>;

/** The `remediationStatus` query: what the host's remediation knows right now. */
export const remediationStatusSchema = lazySchema(() =>
  z.object({
    phase: z.string(),
    hostName: z.string().optional(),
    occurrences: z.array(occurrenceSchema),
    ignored: z.array(ignoredNotificationSchema),
    threshold: z.number(),
    awaitingApproval: z.boolean(),
    cooldownUntil: z.string().optional(),
    artifact: rolledArtifactSchema.optional(),
    outcome: remediationOutcomeSchema.optional(),
  }),
);
export type RemediationStatus = z.infer<typeof remediationStatusSchema>;

/** Who approved or rejected a roll, and why: the `approve`/`reject` signals' and the `approval` update's argument. */
export const approvalDecisionSchema = lazySchema(() =>
  z.object({ by: z.string().optional(), reason: z.string().optional() }),
);
export type ApprovalDecision = z.infer<typeof approvalDecisionSchema>;
