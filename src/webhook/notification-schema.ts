import { z } from 'zod';

const impactedEntity = z.object({
  type: z.string().min(1).max(100),
  name: z.string().max(1000).optional(),
  entity: z.string().min(1).max(200),
});

/**
 * A custom payload is whatever the environment's admin typed (reference §13): only `State` and `PID`
 * are required. The impacted entities, when the payload has them, route the notification to its
 * hosts at once; without them the problem is read through the API. Nothing in it is trusted beyond
 * routing: the workflow checks each problem against the API.
 */
export const notificationSchema = z.looseObject({
  State: z.string().min(1).max(32),
  // Problem ids may start with "-" (reference §0.4).
  PID: z.string().regex(/^-?[0-9A-Za-z_]{1,200}$/, { message: 'must be a Dynatrace problem id' }),
  ProblemID: z.string().max(100).optional(),
  ProblemTitle: z.string().max(2000).optional(),
  // Each HOST among them costs a Temporal call within the request; the body limit alone allows more.
  ImpactedEntities: z.array(impactedEntity).max(500).optional(),
});
export type DynatraceNotification = z.infer<typeof notificationSchema>;

/** The "Send test notification" button's fixed dummy values (reference §6.3). */
export function isTestNotification(n: { PID?: unknown; ProblemTitle?: unknown }): boolean {
  return n.PID === '99999' || n.ProblemTitle === 'Dynatrace problem notification test run';
}

const SCHEMA_FIELDS = new Set([...Object.keys(notificationSchema.shape), ...Object.keys(impactedEntity.shape)]);
const MAX_LISTED_FIELDS = 10;

/**
 * The invalid fields of a rejected payload, for the 400's message. Only our schema's field names and
 * array indexes are named: a path segment we did not define came from the sender and is not echoed.
 */
export function invalidFieldsMessage(issues: readonly { path: readonly PropertyKey[] }[]): string {
  const fields = new Set<string>();
  for (const issue of issues) {
    const known: string[] = [];
    for (const segment of issue.path) {
      if (typeof segment === 'number' || (typeof segment === 'string' && SCHEMA_FIELDS.has(segment))) {
        known.push(String(segment));
      } else {
        break;
      }
    }
    fields.add(known.join('.') || '(body)');
  }
  const listed = [...fields].slice(0, MAX_LISTED_FIELDS);
  const more = fields.size - listed.length;
  return `missing or invalid field(s): ${listed.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
}
