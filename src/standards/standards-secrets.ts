import { isSecretMarker, referencedSecrets } from './placeholders.js';

/**
 * The secrets a standard may write into settings. A standard selects environments of any customer,
 * so a secret it names reaches all of them: it may name only secrets stored for standards
 * (`autopilot secrets set standards/<name> --file …`), never the tokens and keys Autopilot keeps for
 * its own work (environments' tokens, SSH keys), which live in the same store.
 */
export const STANDARDS_SECRET_PREFIX = 'standards/';

/** The `<name>` of `standards/<name>`: one lowercase path segment. */
export const STANDARDS_SECRET_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/**
 * The environment's own webhook key for Autopilot's receiver, as standards (and onboarding's
 * built-in ones) refer to it: derived from `WEBHOOK_API_KEY` for the environment being written (in
 * shared mode, that key itself). It is configuration, not a stored secret.
 */
export const WEBHOOK_KEY_SECRET = 'autopilot/webhook-key';

/** The reference of a secret stored for standards. */
export const standardsSecretRef = (name: string) => `${STANDARDS_SECRET_PREFIX}${name}`;

/** Whether a standard may name this secret. */
export function isStandardsSecret(ref: string): boolean {
  if (ref === WEBHOOK_KEY_SECRET) return true;
  return (
    ref.startsWith(STANDARDS_SECRET_PREFIX) && STANDARDS_SECRET_NAME.test(ref.slice(STANDARDS_SECRET_PREFIX.length))
  );
}

/** The rule as errors state it. */
export const STANDARDS_SECRETS_RULE =
  `standards may use ${STANDARDS_SECRET_PREFIX}<name> (autopilot secrets set ${STANDARDS_SECRET_PREFIX}<name> --file …) ` +
  `and ${WEBHOOK_KEY_SECRET} only`;

/** Why a standard may not name this secret. */
export const notAStandardsSecret = (ref: string) =>
  `{{ secret "${ref}" }} names no secret stored for standards: ${STANDARDS_SECRETS_RULE}`;

/** Secret markers written out by hand (`{ $secret: "…" }`), which the loader refuses. */
function literalMarkers(value: unknown): string[] {
  if (isSecretMarker(value)) return [value.$secret];
  if (Array.isArray(value)) return value.flatMap(literalMarkers);
  if (value && typeof value === 'object') return Object.values(value).flatMap(literalMarkers);
  return [];
}

/**
 * The secrets standards name that no standard may, however they name them (none for a set the
 * loader or the workflow's check accepted; a set stored before this rule may have some).
 */
export function foreignSecrets(standards: unknown): string[] {
  const named = new Set([...referencedSecrets(standards), ...literalMarkers(standards)]);
  return [...named].filter((ref) => !isStandardsSecret(ref)).sort();
}
