import { z } from 'zod';
import { AUTOPILOT_PHASES } from './phases.js';

export const stepStatusSchema = z.enum(['pending', 'running', 'done', 'skipped', 'needs-attention']);
export type StepStatus = z.infer<typeof stepStatusSchema>;

export const stepProgressSchema = z.object({
  name: z.string(),
  title: z.string(),
  status: stepStatusSchema,
  /** What happened, in words an operator understands ("created", "reused token dt0c01.ABC…"). */
  detail: z.string().optional(),
  attempts: z.number(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
});
export type StepProgress = z.infer<typeof stepProgressSchema>;

export const attentionRequestSchema = z.object({
  step: z.string(),
  reason: z.string(),
  failureType: z.string().optional(),
  since: z.string(),
  /** What the operator may send: retry always, skip only for optional steps, abort always. */
  allowed: z.array(z.enum(['retry', 'skip', 'abort'])),
});
export type AttentionRequest = z.infer<typeof attentionRequestSchema>;

/** Answer of the `progress` query of every Autopilot workflow that has steps. */
export const workflowProgressSchema = z.object({
  phase: z.enum(AUTOPILOT_PHASES),
  steps: z.array(stepProgressSchema),
  attention: attentionRequestSchema.optional(),
  decisions: z.array(z.object({ action: z.string(), step: z.string(), reason: z.string().optional(), at: z.string() })),
});
export type WorkflowProgress = z.infer<typeof workflowProgressSchema>;

/** The `retry`, `skip` and `abort` signals' argument. */
export const decisionArgsSchema = z.object({ reason: z.string().optional() });
export type DecisionArgs = z.infer<typeof decisionArgsSchema>;

/** The `decide` update's argument: an operator's answer to a step that needs attention. */
export const operatorDecisionSchema = z.object({
  action: z.enum(['retry', 'skip', 'abort']),
  reason: z.string().optional(),
  /** With `retry`: corrections to the workflow input, validated before they are accepted. */
  input: z.record(z.string(), z.unknown()).optional(),
});
export type OperatorDecision = z.infer<typeof operatorDecisionSchema>;

/** What the `decide` update answers when it took the decision. */
export const operatorDecisionAcceptedSchema = z.object({ step: z.string(), action: z.string() });
