/**
 * Every Dynatrace token scope Autopilot needs, per token and feature, with the endpoints that need
 * it. `autopilot doctor` checks tokens against this list and docs/least-privilege.md shows it;
 * test/dynatrace/token-scopes.test.ts holds it to what the code calls and mints, so neither drifts.
 */

/** The cluster token and the three tokens Autopilot keeps per environment. */
export type TokenKind = 'cluster' | 'token-management' | 'installer-download' | 'automation';

export const TOKEN_KINDS: readonly TokenKind[] = ['cluster', 'token-management', 'installer-download', 'automation'];

export const TOKEN_LABELS: Record<TokenKind, string> = {
  cluster: 'cluster token',
  'token-management': 'token-management token',
  'installer-download': 'installer-download token',
  automation: 'automation token',
};

export interface ScopedEndpoint {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path as the client sends it, parameters in braces. */
  path: string;
}

export interface ScopeRequirement {
  token: TokenKind;
  scope: string;
  feature: string;
  why: string;
  endpoints: readonly ScopedEndpoint[];
}

const GET = (path: string): ScopedEndpoint => ({ method: 'GET', path });
const POST = (path: string): ScopedEndpoint => ({ method: 'POST', path });
const PUT = (path: string): ScopedEndpoint => ({ method: 'PUT', path });
const DELETE = (path: string): ScopedEndpoint => ({ method: 'DELETE', path });

const ENV = '/e/{environmentId}/api';
const INSTALLER = `${ENV}/v1/deployment/installer/agent`;

export const SCOPE_REQUIREMENTS: readonly ScopeRequirement[] = [
  {
    token: 'cluster',
    scope: 'ServiceProviderAPI',
    feature: 'Onboarding: environment',
    why: 'reads the environment first, so a re-run keeps what operators changed; creates it under our id (PUT is the only call that keeps the id and is safe to retry), without a bootstrap token that would never expire',
    endpoints: [
      GET('/api/cluster/v2/environments/{environmentId}'),
      PUT('/api/cluster/v2/environments/{environmentId}'),
    ],
  },
  {
    token: 'cluster',
    scope: 'ServiceProviderAPI',
    feature: 'Onboarding: user groups',
    why: 'finds the customer groups by name, creates missing ones and merges the rights on this environment into them',
    endpoints: [
      GET('/api/v1.0/onpremise/groups'),
      POST('/api/v1.0/onpremise/groups'),
      PUT('/api/v1.0/onpremise/groups'),
    ],
  },
  {
    token: 'cluster',
    scope: 'ServiceProviderAPI',
    feature: 'autopilot doctor',
    why: 'lists the environments whose tokens it checks',
    endpoints: [GET('/api/cluster/v2/environments')],
  },
  {
    token: 'cluster',
    scope: 'EnvironmentTokenManagement',
    feature: 'Token lifecycle: short-lived token-management token',
    why: 'mints a token-management token for ten minutes whenever environment tokens are minted, rotated or revoked (onboarding, maintenance, a refused token); no environment keeps one',
    endpoints: [POST('/api/cluster/v2/environments/{environmentId}/tokenManagementToken')],
  },
  {
    token: 'token-management',
    scope: 'apiTokens.read',
    feature: 'Token lifecycle: short-lived token-management token',
    why: 'looks itself up to revoke itself when its work is done; the doctor looks up every stored token with it',
    endpoints: [POST(`${ENV}/v2/apiTokens/lookup`)],
  },
  {
    token: 'token-management',
    scope: 'apiTokens.read',
    feature: 'Onboarding: installer-download and automation tokens',
    why: 'lists our tokens by name to find orphans of crashed runs; the first list also waits until a new environment API answers',
    endpoints: [GET(`${ENV}/v2/apiTokens`)],
  },
  {
    token: 'token-management',
    scope: 'apiTokens.write',
    feature: 'Onboarding: installer-download and automation tokens',
    why: 'mints the tokens with an expiry, revokes orphans of crashed runs, the tokens they replace after their grace period, and itself',
    endpoints: [POST(`${ENV}/v2/apiTokens`), DELETE(`${ENV}/v2/apiTokens/{tokenId}`)],
  },
  {
    token: 'installer-download',
    scope: 'InstallerDownload',
    feature: 'Onboarding: OneAgent installer',
    why: 'asks for the latest Linux version and downloads it once into the installer cache (304 when unchanged)',
    endpoints: [
      GET(`${INSTALLER}/{osType}/{installerType}/latest/metainfo`),
      GET(`${INSTALLER}/{osType}/{installerType}/version/{version}`),
    ],
  },
  {
    token: 'installer-download',
    scope: 'InstallerDownload',
    feature: 'Enrollment: install OneAgent',
    why: 'a worker that does not have the installer in its cache downloads the version recorded at onboarding',
    endpoints: [GET(`${INSTALLER}/{osType}/{installerType}/version/{version}`)],
  },
  {
    token: 'automation',
    scope: 'settings.read',
    feature: 'Onboarding: problem notifications',
    why: 'finds the alerting profile and the webhook by externalId, so they are written only when they differ',
    endpoints: [GET(`${ENV}/v2/settings/objects`)],
  },
  {
    token: 'automation',
    scope: 'settings.write',
    feature: 'Onboarding: problem notifications',
    why: 'creates or updates the CPU-saturation alerting profile and the webhook notification',
    endpoints: [POST(`${ENV}/v2/settings/objects`), PUT(`${ENV}/v2/settings/objects/{objectId}`)],
  },
  {
    token: 'automation',
    scope: 'entities.read',
    feature: 'Enrollment: host reports in',
    why: 'one batched entityName.in(...) query per environment for the hosts seen in the last 30 minutes',
    endpoints: [GET(`${ENV}/v2/entities`)],
  },
  {
    token: 'automation',
    scope: 'entities.read',
    feature: 'Self-healing: host to EC2 instance',
    why: 'reads the awsInstanceId property of the host',
    endpoints: [GET(`${ENV}/v2/entities/{entityId}`)],
  },
  {
    token: 'automation',
    scope: 'DataExport',
    feature: 'Self-healing: host to EC2 instance',
    why: 'hosts API v1, where awsInstanceId is documented for sure, when the entity lacks it',
    endpoints: [GET(`${ENV}/v1/entity/infrastructure/hosts/{hostId}`)],
  },
  {
    token: 'automation',
    scope: 'problems.read',
    feature: 'Self-healing: validate the problem',
    why: 'checks that the notified problem exists, is open and is a CPU saturation of this host; the payload is never trusted',
    endpoints: [GET(`${ENV}/v2/problems/{problemId}`)],
  },
  {
    token: 'automation',
    scope: 'DataExport',
    feature: 'Self-healing: validate the problem',
    why: 'ranked events of problems API v1, when the v2 evidence names no CPU event',
    endpoints: [GET(`${ENV}/v1/problem/details/{problemId}`)],
  },
  {
    token: 'automation',
    scope: 'problems.read',
    feature: 'Self-healing: comment on problems',
    why: 'reads the comments first, so a retried step does not comment twice',
    endpoints: [GET(`${ENV}/v2/problems/{problemId}/comments`)],
  },
  {
    token: 'automation',
    scope: 'problems.write',
    feature: 'Self-healing: comment on problems',
    why: 'tells each problem what was done about it',
    endpoints: [POST(`${ENV}/v2/problems/{problemId}/comments`)],
  },
  {
    token: 'automation',
    scope: 'problems.read',
    feature: 'Fleet scan: open problems',
    why: 'one list per environment and scan: the open problems and those closed since the last good scan',
    endpoints: [GET(`${ENV}/v2/problems`)],
  },
  {
    token: 'automation',
    scope: 'DataExport',
    feature: 'Fleet scan: host census',
    why: 'counts hosts and OneAgent versions, each environment every `AUTOPILOT_FLEET_HOST_CENSUS_MINUTES`',
    endpoints: [GET(`${ENV}/v1/oneagents`)],
  },
];

/** The scopes a token needs for everything Autopilot does with it, in the order of the table. */
export function requiredScopes(token: TokenKind): string[] {
  return [...new Set(SCOPE_REQUIREMENTS.filter((r) => r.token === token).map((r) => r.scope))];
}

/** The features that stop working without `scope` on `token`. */
export function featuresNeeding(token: TokenKind, scope: string): string[] {
  return [...new Set(SCOPE_REQUIREMENTS.filter((r) => r.token === token && r.scope === scope).map((r) => r.feature))];
}

/**
 * The scope names of Dynatrace's 403 answer, "Token is missing required scope. Use one of:
 * problems.read (Read problems), DataExport (Access problem and event feed, metrics, and
 * topology)". Labels may contain commas, so names are taken from before each parenthesis; an
 * answer without labels is split on commas.
 */
export function scopesFromForbiddenMessage(message: string): string[] {
  const at = message.search(/use one of:/i);
  if (at < 0) return [];
  const list = message.slice(at + 'use one of:'.length);
  const labelled = [...list.matchAll(/([A-Za-z][\w.-]*)\s*\([^)]*\)/g)].map((m) => m[1]!);
  if (labelled.length > 0) return labelled;
  return list
    .split(',')
    .map((s) => s.trim().replace(/\.$/, ''))
    .filter((s) => /^[A-Za-z][\w.-]*$/.test(s));
}
