import { z } from 'zod';

const impactedEntity = z.object({
  type: z.string().min(1).max(100),
  name: z.string().max(1000).optional(),
  entity: z.string().min(1).max(200),
});

/**
 * The custom payload onboarding configures (reference §6.2-6.3): state, problem id, and the
 * impacted entities we route by. Everything else is optional; nothing in it is trusted beyond
 * routing: the workflow checks each problem against the API.
 */
export const notificationSchema = z.looseObject({
  State: z.string().min(1).max(32),
  // Problem ids may start with "-" (reference §0.4).
  PID: z.string().regex(/^-?[0-9A-Za-z_]{1,200}$/, { message: 'must be a Dynatrace problem id' }),
  ProblemID: z.string().max(100).optional(),
  ProblemTitle: z.string().max(2000).optional(),
  ImpactedEntities: z.array(impactedEntity).max(1000),
});
export type DynatraceNotification = z.infer<typeof notificationSchema>;

/** The "Send test notification" button's fixed dummy values (reference §6.3). */
export function isTestNotification(n: { PID?: unknown; ProblemTitle?: unknown }): boolean {
  return n.PID === '99999' || n.ProblemTitle === 'Dynatrace problem notification test run';
}
