import { z } from 'zod';
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
export interface ProblemNotification {
  problemId: string;
  state: string;
  displayId?: string;
  title?: string;
  hostEntityId: string;
  hostName?: string;
  receivedAt: string;
}

export const remediationPolicySchema = z.object({
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
});
export type RemediationPolicy = z.output<typeof remediationPolicySchema>;

export const remediationInputSchema = z.object({
  environmentId: z.string().regex(/^[a-zA-Z0-9_-]{1,70}$/),
  hostEntityId: z.string().regex(HOST_ENTITY_ID, { message: 'must be a HOST entity id' }),
  policy: remediationPolicySchema.default(remediationPolicySchema.parse({})),
});
export type RemediationInput = z.input<typeof remediationInputSchema>;

export interface Occurrence {
  problemId: string;
  displayId: string;
  /** Workflow time the occurrence was validated (the window is measured in it). */
  at: number;
}

export interface IgnoredNotification {
  problemId: string;
  state: string;
  reason: string;
}

export type RemediationOutcome =
  'remediated' | 'already-remediated' | 'quiet' | 'not-remediable' | 'rejected' | 'approval-expired' | 'skipped';

export interface RolledArtifact {
  productId: string;
  artifactId: string;
  name: string;
  fromType: string;
  toType: string;
  previousArtifactId: string;
  created: boolean;
}

export interface RemediationResult {
  environmentId: string;
  hostEntityId: string;
  hostName?: string;
  outcome: RemediationOutcome;
  reason: string;
  occurrences: Occurrence[];
  ignored: IgnoredNotification[];
  artifact?: RolledArtifact;
  commented: string[];
}

/** The `remediationStatus` query: what the host's remediation knows right now. */
export interface RemediationStatus {
  phase: string;
  hostName?: string;
  occurrences: Occurrence[];
  ignored: IgnoredNotification[];
  threshold: number;
  awaitingApproval: boolean;
  cooldownUntil?: string;
  artifact?: RolledArtifact;
  outcome?: RemediationOutcome;
}
