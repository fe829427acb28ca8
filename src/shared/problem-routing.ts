import { z } from 'zod';
import { lazySchema } from './lazy-schema.js';
import { remediationPolicySchema, type RemediationPolicy } from './remediation.js';

export const ROUTE_PROBLEM_NOTIFICATION = 'RouteProblemNotification';

/**
 * One lookup per environment, problem and state: Dynatrace delivering the same notification again,
 * or two receivers taking it, finds the run that already routed it.
 */
export const problemRoutingWorkflowId = (environmentId: string, problemId: string, state: string) =>
  `route-problem:${environmentId}:${problemId}:${state}`;

/** A notification that named no host: which problem, in which state, as Dynatrace sent it. */
export const problemRoutingInputSchema = lazySchema(() =>
  z.object({
    environmentId: z.string().regex(/^[a-zA-Z0-9_-]{1,70}$/, { message: 'must be an environment id' }),
    problemId: z.string().regex(/^-?[0-9A-Za-z_]{1,200}$/, { message: 'must be a Dynatrace problem id' }),
    state: z.string().min(1).max(32),
    displayId: z.string().max(100).optional(),
    title: z.string().max(2000).optional(),
    receivedAt: z.string().min(1),
    policy: remediationPolicySchema.default(remediationPolicySchema.parse({})),
  }),
);
export type ProblemRoutingInput = z.input<typeof problemRoutingInputSchema>;

export interface ProblemHost {
  entityId: string;
  name?: string;
}

/** What the problems API says about a notified problem, as far as routing needs it. */
export type ProblemHostsLookup =
  | { found: false; reason: string }
  | {
      found: true;
      displayId: string;
      title: string;
      status: string;
      /** The problem's events that count as CPU saturation (v2 evidence, else v1 ranked events). */
      cpuEvents: string[];
      events: string[];
      hosts: ProblemHost[];
    };

export type ProblemRoutingOutcome = 'routed' | 'problem-not-found' | 'not-cpu-saturation' | 'no-host';

export interface ProblemRoutingResult {
  environmentId: string;
  problemId: string;
  state: string;
  displayId?: string;
  outcome: ProblemRoutingOutcome;
  reason: string;
  hosts: ProblemHost[];
  /** The `remediate:` workflows the problem was handed to. */
  workflowIds: string[];
}

export type { RemediationPolicy };
