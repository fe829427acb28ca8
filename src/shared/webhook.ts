/**
 * The header Dynatrace sends the environment's webhook key in (set as a secret header in the
 * environment), unless AUTOPILOT_WEBHOOK_KEY_HEADER names another, e.g. the `X-API-KEY` of an
 * existing set-up.
 */
export const DEFAULT_WEBHOOK_KEY_HEADER = 'X-Autopilot-Webhook-Key';
/** A non-secret fingerprint of the key, so onboarding can tell a rotated key from an unchanged one. */
export const WEBHOOK_KEY_ID_HEADER = 'X-Autopilot-Key-Id';

export const webhookPath = (environmentId: string) => `/webhooks/dynatrace/${encodeURIComponent(environmentId)}`;

/**
 * The custom payload every onboarded environment sends (reference §6.2-6.3). `{ImpactedEntities}`
 * and `{ProblemDetailsJSON}` expand to JSON and stay unquoted.
 */
export const WEBHOOK_PAYLOAD_TEMPLATE =
  '{"State":"{State}","PID":"{PID}","ProblemID":"{ProblemID}","ProblemTitle":"{ProblemTitle}",' +
  '"ProblemImpact":"{ProblemImpact}","ProblemSeverity":"{ProblemSeverity}","ProblemURL":"{ProblemURL}",' +
  '"Tags":"{Tags}","ImpactedEntities":{ImpactedEntities},"ProblemDetailsJSON":{ProblemDetailsJSON}}';
