import { randomBytes } from 'node:crypto';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import type { AwsClients } from '../aws/aws-clients.js';
import type { AutopilotConfig } from '../config/config.js';
import type { SecretSource } from '../config/secret.js';
import { DynatraceApiError, DynatraceFailureType, type ApiTokenMetadata, type ClusterApi } from '../dynatrace/index.js';
import type { DynatraceClient } from '../dynatrace/index.js';
import {
  featuresNeeding,
  requiredScopes,
  scopesFromForbiddenMessage,
  TOKEN_LABELS,
  type TokenKind,
} from '../dynatrace/token-scopes.js';
import { secretRefs, type SecretStore, type StoredSecret } from '../secrets/secret-store.js';
import { localExecutorWarning } from '../hosts/create-executors.js';
import { installerTrustOf, installerTrustWarning, readInstallerCa } from '../installers/installer-trust.js';

export type CheckStatus = 'ok' | 'warning' | 'failed' | 'skipped';

export interface MissingScope {
  scope: string;
  features: string[];
  /** What Dynatrace's 403 asked for, when it named something other than the scope we require. */
  dynatraceAsks?: string[];
}

/** One line of the doctor's report; never holds a token value (ids are public, reference §0.2). */
export interface DoctorCheck {
  area: 'cluster' | 'environment' | 'aws' | 'worker';
  subject: string;
  status: CheckStatus;
  detail: string;
  token?: TokenKind;
  environmentId?: string;
  tokenId?: string;
  secretRef?: string;
  missingScopes?: MissingScope[];
  /** Cluster token: the scopes its probes proved. */
  grantedScopes?: string[];
  expiresAt?: string;
}

export interface ClusterEndpoint {
  url: string;
  token: SecretSource;
  /** Where the token came from, for the report: a variable name or the sandbox file. */
  source: string;
  sandbox: boolean;
}

type Probe = (cluster: ClusterApi) => Promise<void>;

/**
 * Cluster tokens cannot be looked up, so each required scope is proven by one call that needs it and
 * changes nothing. The recovery endpoint has no read, so it is asked for a token of an environment
 * that cannot exist: the scope check comes first, and a 404 means it passed ([U] on real clusters,
 * where the order of the checks is not documented; the simulator checks the scope first).
 */
export const CLUSTER_SCOPE_PROBES: Record<string, Probe> = {
  ServiceProviderAPI: async (cluster) => {
    await cluster.listEnvironments({ pageSize: 1 }).next();
  },
  EnvironmentTokenManagement: async (cluster) => {
    const id = `autopilot-doctor-probe-${randomBytes(8).toString('hex')}`;
    try {
      await cluster.createTokenManagementToken(id, { name: 'autopilot doctor probe', expiresInSeconds: 60 });
    } catch (err) {
      if (err instanceof DynatraceApiError && err.type === DynatraceFailureType.notFound) return;
      throw err;
    }
  },
};

/** The public part of a `dt0c01.<id>.<secret>` token; nothing for tokens of another shape. */
export function publicTokenId(value: string): string | undefined {
  return /^(dt0[a-z]\d{2}\.[A-Z0-9]{24})\.[A-Z0-9]{64}$/.exec(value)?.[1];
}

function missing(token: TokenKind, scope: string, dynatraceAsks?: string[]): MissingScope {
  return {
    scope,
    features: featuresNeeding(token, scope),
    ...(dynatraceAsks && !(dynatraceAsks.length === 1 && dynatraceAsks[0] === scope) ? { dynatraceAsks } : {}),
  };
}

/** A refused or failed call, in the words an operator acts on. */
function explainFailedDynatraceCall(err: unknown, url: string, sandbox: boolean): string {
  if (err instanceof DynatraceApiError) {
    if (err.type === DynatraceFailureType.unauthorized) {
      return `Dynatrace answered 401 (${err.dynatraceMessage}): the token is invalid, expired or revoked`;
    }
    if (err.type === DynatraceFailureType.unavailable) {
      return `cannot reach ${url}: ${err.dynatraceMessage}${sandbox ? ' (is `npm start` running?)' : ''}`;
    }
    return `Dynatrace answered ${err.status ?? 'nothing usable'}: ${err.dynatraceMessage}`;
  }
  return err instanceof Error ? err.message : String(err);
}

export interface ClusterTokenResult {
  check: DoctorCheck;
  /** The environment list answers (ServiceProviderAPI is there). */
  canList: boolean;
  /** The cluster answered at all: no point in asking its environments otherwise. */
  reachable: boolean;
}

export async function checkClusterToken(
  client: DynatraceClient,
  endpoint: ClusterEndpoint,
): Promise<ClusterTokenResult> {
  const value = endpoint.token.reveal();
  const tokenId = publicTokenId(value);
  const cluster = client.cluster(value);
  const base = {
    area: 'cluster' as const,
    subject: TOKEN_LABELS.cluster,
    token: 'cluster' as const,
    ...(tokenId ? { tokenId } : {}),
  };
  const granted: string[] = [];
  const lacking: MissingScope[] = [];
  const unknown: string[] = [];
  for (const scope of requiredScopes('cluster')) {
    const probe = CLUSTER_SCOPE_PROBES[scope];
    if (!probe) {
      unknown.push(`${scope}: doctor has no harmless call to prove it`);
      continue;
    }
    try {
      await probe(cluster);
      granted.push(scope);
    } catch (err) {
      if (err instanceof DynatraceApiError && err.type === DynatraceFailureType.forbidden) {
        lacking.push(missing('cluster', scope, scopesFromForbiddenMessage(err.dynatraceMessage)));
        continue;
      }
      const detail = explainFailedDynatraceCall(err, endpoint.url, endpoint.sandbox);
      const fatal =
        err instanceof DynatraceApiError &&
        (err.type === DynatraceFailureType.unauthorized || err.type === DynatraceFailureType.unavailable);
      if (fatal) {
        return {
          check: { ...base, status: 'failed', detail },
          canList: false,
          reachable: err.type !== DynatraceFailureType.unavailable,
        };
      }
      unknown.push(`${scope}: ${detail}`);
    }
  }
  const canList = granted.includes('ServiceProviderAPI');
  if (lacking.length > 0) {
    return {
      check: {
        ...base,
        status: 'failed',
        detail: `lacks ${lacking.map((m) => m.scope).join(', ')}`,
        missingScopes: lacking,
        grantedScopes: granted,
      },
      canList,
      reachable: true,
    };
  }
  if (unknown.length > 0) {
    return {
      check: { ...base, status: 'warning', detail: `could not check ${unknown.join('; ')}` },
      canList,
      reachable: true,
    };
  }
  return {
    check: { ...base, status: 'ok', detail: granted.join(', '), grantedScopes: granted },
    canList,
    reachable: true,
  };
}

const PER_ENVIRONMENT: readonly Exclude<TokenKind, 'cluster'>[] = [
  'token-management',
  'installer-download',
  'automation',
];

export function secretRefOf(token: Exclude<TokenKind, 'cluster'>, environmentId: string): string {
  return token === 'token-management'
    ? secretRefs.tokenManagementToken(environmentId)
    : secretRefs.environmentToken(environmentId, token);
}

/** The environments among `ids` that hold at least one Autopilot token in the secret store. */
export async function onboardedEnvironments(store: SecretStore, ids: string[]): Promise<string[]> {
  const onboarded: string[] = [];
  for (const id of ids) {
    const stored = await Promise.all(
      PER_ENVIRONMENT.map((t) => store.get(secretRefOf(t, id)).catch(() => 'unreadable')),
    );
    if (stored.some((s) => s !== undefined)) onboarded.push(id);
  }
  return onboarded;
}

const DAY_MS = 86_400_000;

/** Scopes, state and expiry of a looked-up token against what Autopilot needs of it. */
export function assessToken(
  token: Exclude<TokenKind, 'cluster'>,
  metadata: ApiTokenMetadata,
  options: { now: number; warnDays: number; environmentId: string },
): Pick<DoctorCheck, 'status' | 'detail' | 'missingScopes' | 'expiresAt'> {
  const required = requiredScopes(token);
  const problems: string[] = [];
  const warnings: string[] = [];
  const lacking = metadata.scopes
    ? required.filter((s) => !metadata.scopes!.includes(s)).map((s) => missing(token, s))
    : [];
  if (!metadata.scopes) warnings.push('Dynatrace did not say which scopes it has');
  if (metadata.enabled === false) problems.push('is disabled');
  const expiresAt = metadata.expirationDate ? Date.parse(metadata.expirationDate) : undefined;
  if (expiresAt !== undefined && expiresAt <= options.now) problems.push(`expired on ${metadata.expirationDate}`);
  if (lacking.length > 0) problems.push(`lacks ${lacking.map((m) => m.scope).join(', ')}`);
  if (expiresAt !== undefined && expiresAt > options.now && expiresAt - options.now < options.warnDays * DAY_MS) {
    const days = Math.floor((expiresAt - options.now) / DAY_MS);
    warnings.push(
      `expires ${days === 0 ? 'within a day' : `in ${days} day${days === 1 ? '' : 's'}`} (${metadata.expirationDate}); ${
        token === 'token-management'
          ? 'the onboarding replaces it through the cluster token when it has less than a day left'
          : `run the onboarding of ${options.environmentId} again to rotate it`
      }`,
    );
  }
  const expiry = metadata.expirationDate ? { expiresAt: metadata.expirationDate } : {};
  const withMissing = lacking.length > 0 ? { missingScopes: lacking } : {};
  if (problems.length > 0)
    return { status: 'failed', detail: [...problems, ...warnings].join('; '), ...withMissing, ...expiry };
  if (warnings.length > 0) return { status: 'warning', detail: warnings.join('; '), ...expiry };
  return {
    status: 'ok',
    detail: `${required.join(', ')}${metadata.expirationDate ? `; expires ${metadata.expirationDate}` : '; does not expire'}`,
    ...expiry,
  };
}

/**
 * The three tokens of one environment, each looked up with the token-management token (the only
 * one allowed to read token metadata), compared with the scopes its features need.
 */
export async function checkEnvironment(
  client: DynatraceClient,
  store: SecretStore,
  environmentId: string,
  options: { now: number; warnDays: number; url: string; sandbox: boolean; clusterToken?: string },
): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const stored = new Map<TokenKind, StoredSecret | undefined>();
  let shortLived: string | undefined;
  for (const token of PER_ENVIRONMENT) {
    const secretRef = secretRefOf(token, environmentId);
    const base = { area: 'environment' as const, subject: TOKEN_LABELS[token], token, environmentId, secretRef };
    try {
      let secret = await store.get(secretRef);
      if (!secret && token === 'token-management' && options.clusterToken) {
        // Autopilot keeps none: like the workers, the doctor mints one for ten minutes and revokes it after.
        shortLived = await client.cluster(options.clusterToken).createTokenManagementToken(environmentId, {
          name: 'Dynatrace Autopilot doctor (short-lived)',
          expiresInSeconds: 600,
        });
        secret = { value: shortLived, metadata: {}, updatedAt: new Date(options.now).toISOString() };
      }
      stored.set(token, secret);
      if (!secret) {
        checks.push({
          ...base,
          status: token === 'token-management' ? 'skipped' : 'failed',
          detail:
            token === 'token-management'
              ? `none is kept: Autopilot mints a short-lived one when it needs one, which takes the cluster token's EnvironmentTokenManagement`
              : `not in the secret store (${secretRef}); run the onboarding of ${environmentId}`,
        });
      }
    } catch (err) {
      checks.push({
        ...base,
        status: 'failed',
        detail: `cannot read ${secretRef} from the secret store: ${String(err)}`,
      });
    }
  }

  const tmt = stored.get('token-management');
  const tokens = tmt ? client.environment(environmentId, tmt.value).tokens : undefined;
  let lookupsPossible = tokens !== undefined;
  for (const token of PER_ENVIRONMENT) {
    const secret = stored.get(token);
    if (!secret) continue;
    const secretRef = secretRefOf(token, environmentId);
    const knownId = secret.metadata.tokenId ?? publicTokenId(secret.value);
    const base = {
      area: 'environment' as const,
      subject: TOKEN_LABELS[token],
      token,
      environmentId,
      secretRef,
      ...(knownId ? { tokenId: knownId } : {}),
    };
    if (!tokens || !lookupsPossible) {
      checks.push({
        ...base,
        status: 'skipped',
        detail: 'cannot be looked up without a working token-management token',
      });
      continue;
    }
    try {
      const metadata = await tokens.lookup(secret.value);
      const minted = token === 'token-management' && shortLived !== undefined;
      // A short-lived token expires in minutes by design: only its scopes and state are judged.
      const judged = minted ? { ...metadata, expirationDate: undefined } : metadata;
      const assessed = assessToken(token, judged, { ...options, environmentId });
      checks.push({
        ...base,
        tokenId: metadata.id,
        ...assessed,
        ...(minted
          ? {
              secretRef: 'none (short-lived)',
              ...(assessed.status === 'ok'
                ? {
                    detail: `${requiredScopes(token).join(', ')}; short-lived, minted for this check and revoked after it`,
                  }
                : {}),
            }
          : {}),
      });
    } catch (err) {
      const forbidden = err instanceof DynatraceApiError && err.type === DynatraceFailureType.forbidden;
      const notFound = err instanceof DynatraceApiError && err.type === DynatraceFailureType.notFound;
      if (token === 'token-management') {
        // Everything else is looked up with this token: when it fails, say so once.
        lookupsPossible = false;
        if (forbidden) {
          const asks = scopesFromForbiddenMessage(err.dynatraceMessage);
          checks.push({
            ...base,
            status: 'failed',
            detail: 'lacks apiTokens.read',
            missingScopes: [missing('token-management', 'apiTokens.read', asks)],
          });
          continue;
        }
      }
      checks.push({
        ...base,
        status: 'failed',
        detail: notFound
          ? `Dynatrace does not know it (${err.dynatraceMessage}): revoked, deleted, or the environment is gone`
          : explainFailedDynatraceCall(err, options.url, options.sandbox),
      });
    }
  }
  if (shortLived && tokens) {
    const self = await tokens.lookup(shortLived).catch(() => undefined);
    if (self?.id) await tokens.revoke(self.id).catch(() => false);
  }
  return checks;
}

function awsErrorText(err: unknown): { name: string; status: number | undefined; text: string } {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = e?.name ?? 'Error';
  return { name, status: e?.$metadata?.httpStatusCode, text: `${name}${e?.message ? `: ${e.message}` : ''}` };
}

/** What the remediation needs before it can act: the approved types and a bucket for edited templates. */
export async function checkAws(aws: AwsClients, config: AutopilotConfig): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  const parameter = config.remediation.approvedTypesParameter;
  const subject = `approved instance types ${parameter}`;
  try {
    const { Parameter } = await aws.ssm.send(new GetParameterCommand({ Name: parameter }));
    const types = (Parameter?.Value ?? '')
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    checks.push(
      types.length > 0
        ? { area: 'aws', subject, status: 'ok', detail: types.join(', ') }
        : { area: 'aws', subject, status: 'failed', detail: 'is empty: the remediation has no type to move to' },
    );
  } catch (err) {
    const { name, text } = awsErrorText(err);
    checks.push({
      area: 'aws',
      subject,
      status: 'failed',
      detail:
        name === 'ParameterNotFound'
          ? `does not exist in SSM (${aws.region}); REMEDIATION_APPROVED_TYPES_PARAMETER names it`
          : /AccessDenied/.test(name)
            ? `cannot be read: ${text} (the role needs ssm:GetParameter on it, see deploy/aws/iam-policy.json)`
            : `cannot be read: ${text}`,
    });
  }

  const bucket = config.remediation.templateBucket;
  if (!bucket) {
    checks.push({
      area: 'aws',
      subject: 'template bucket',
      status: 'failed',
      detail: 'REMEDIATION_TEMPLATE_BUCKET is not set: the remediation has nowhere to upload edited templates',
    });
  } else {
    checks.push(await bucketCheck(aws, 'template bucket', bucket));
  }
  // Without it each worker keeps its installers in its own folder: nothing to check.
  if (config.installerBucket) {
    checks.push(await bucketCheck(aws, 'installer bucket', config.installerBucket, 'AUTOPILOT_INSTALLER_BUCKET'));
  }
  return checks;
}

/** A bucket this role uses: there, and usable (HeadBucket needs the s3:ListBucket the policy grants). */
async function bucketCheck(aws: AwsClients, what: string, bucket: string, variable?: string): Promise<DoctorCheck> {
  const subject = `${what} ${bucket}`;
  try {
    await aws.s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return { area: 'aws', subject, status: 'ok', detail: 'exists' };
  } catch (err) {
    const { name, status, text } = awsErrorText(err);
    return {
      area: 'aws',
      subject,
      status: 'failed',
      detail:
        status === 404 || name === 'NotFound' || name === 'NoSuchBucket'
          ? `does not exist (${aws.region})${variable ? `; ${variable} names it` : ''}`
          : status === 403
            ? 'exists, but this role may not use it (it needs s3:ListBucket on the bucket, see deploy/aws/iam-policy.json)'
            : `cannot be checked: ${text}`,
    };
  }
}

/**
 * How the workers of this configuration treat installers and hosts: what they would refuse, and
 * what they warn about at every start (outside the sandbox).
 */
export function checkWorkerSettings(
  config: AutopilotConfig,
  options: { sandbox: boolean; now: number },
): DoctorCheck[] {
  const trust = installerTrustOf({
    caFile: config.dynatrace.installerCaFile,
    signature: config.dynatrace.installerSignature,
    sandbox: options.sandbox,
  });
  const installers = { area: 'worker' as const, subject: 'installer signatures' };
  const checks: DoctorCheck[] = [];
  if (trust.check === 'verify') {
    try {
      const ca = readInstallerCa(trust.caFile);
      const expired = Date.parse(ca.validTo) <= options.now;
      checks.push({
        ...installers,
        status: expired ? 'failed' : 'ok',
        detail: `verified against DT_INSTALLER_CA_FILE ${trust.caFile} (${ca.subject.replace(/\n/g, ', ')}; ${
          expired ? 'expired' : 'valid until'
        } ${ca.validTo})`,
      });
    } catch (err) {
      checks.push({ ...installers, status: 'failed', detail: (err as Error).message });
    }
  } else if (trust.check === 'shape-only' && trust.acceptedBy === 'sandbox') {
    checks.push({
      ...installers,
      status: 'ok',
      detail: "sandbox: checked by their shape (the simulator's signing certificate is its own)",
    });
  } else {
    checks.push({
      ...installers,
      status: trust.check === 'unverifiable' ? 'failed' : 'warning',
      detail: installerTrustWarning(trust)!,
    });
  }
  const local = localExecutorWarning(config, options);
  const executor = config.hosts.configuredExecutor ?? (options.sandbox ? 'local' : 'ssh');
  checks.push(
    local
      ? { area: 'worker', subject: 'host executor', status: 'warning', detail: local }
      : {
          area: 'worker',
          subject: 'host executor',
          status: 'ok',
          detail:
            executor === 'local'
              ? 'local (sandbox): installers run in one folder per host on this machine'
              : "ssh; an enrollment that names executor 'local' is refused",
        },
  );
  return checks;
}
