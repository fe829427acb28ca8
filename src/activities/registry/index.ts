import { log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { mapWithConcurrency } from '../../concurrency/map-with-concurrency.js';
import { DynatraceApiError, DynatraceFailureType } from '../../dynatrace/errors.js';
import { featuresNeeding, requiredScopes } from '../../dynatrace/token-scopes.js';
import { redactSecrets } from '../../observability/redact.js';
import type { SecretStore } from '../../secrets/secret-store.js';
import { secretRefs } from '../../secrets/secret-store.js';
import { parseEnvironmentSelector, selects, SelectorError } from '../../shared/environment-selector.js';
import {
  ENVIRONMENT_API_URL,
  ENVIRONMENT_ID,
  type AdoptedEnvironment,
  type DiscoveredEnvironment,
  type EnvironmentToAdd,
  type TokenListing,
} from '../../shared/environments.js';
import { FailureType } from '../../shared/failure-types.js';
import { TOKEN_PURPOSES, type RegisteredEnvironment, type TokenPurpose } from '../../shared/registry.js';
import { clusterApi, type DynatraceAccess } from '../dynatrace-access.js';
import { heartbeatWhile } from '../heartbeat-while.js';

export interface RegistryDeps {
  dynatrace: DynatraceAccess;
  secrets: SecretStore;
}

const DAY_MS = 86_400_000;
/** Environments of one batch adopted at once: each costs a handful of token calls. */
const ADOPT_CONCURRENCY = 4;

const invalid = (message: string) => ApplicationFailure.nonRetryable(message, FailureType.InvalidWorkflowInput);

/** `abc-p1` → customer `abc`, stage `p1`: the naming onboarding uses; other ids have neither. */
function customerAndStage(id: string): { customer?: string; stage?: string } {
  const match = /^([a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?)-([a-z0-9]{1,16})$/.exec(id);
  return match ? { customer: match[1]!, stage: match[2]! } : {};
}

function selectorOf(text: string) {
  try {
    return parseEnvironmentSelector(text);
  } catch (err) {
    if (err instanceof SelectorError) throw invalid(err.message);
    throw err;
  }
}

export function createRegistryActivities(deps: RegistryDeps) {
  const { registry, keeper, tokenPolicy, clients, environments } = deps.dynatrace;

  /** The cluster's environments (every page), and which of them Autopilot already serves. */
  async function discoverEnvironments(input: { cluster?: string; selector?: string }): Promise<{
    cluster: string;
    environments: DiscoveredEnvironment[];
  }> {
    const { name, api } = clusterApi(deps.dynatrace, input.cluster);
    const selector = input.selector ? selectorOf(input.selector) : undefined;
    const listed = await api.listAllEnvironments();
    const known = await registry.sources();
    const found = listed
      .filter((e) => !selector || selects(selector, { id: e.id, cluster: name, kind: 'managed', ...nulls(e.id) }))
      .map((e) => {
        const source = known.get(e.id);
        return { id: e.id, name: e.name, state: e.state ?? 'ENABLED', ...(source ? { registered: source } : {}) };
      })
      .sort((a, b) => a.id.localeCompare(b.id));
    return { cluster: name, environments: found };
  }

  /**
   * Takes existing environments into the registry with tokens of their own, minted from the cluster
   * token; nothing else in them is changed. An environment that already has its tokens is left as it
   * is, so a rerun, a retry or a second worker mints nothing twice.
   */
  async function adoptEnvironments(input: { cluster: string; ids: string[] }): Promise<AdoptedEnvironment[]> {
    const { name, url } = clusterApi(deps.dynatrace, input.cluster);
    // Heartbeats on a timer: a worker killed mid-batch is noticed in seconds, a slow cluster is not mistaken for one.
    return heartbeatWhile({ batch: input.ids[0] }, () =>
      mapWithConcurrency(input.ids, ADOPT_CONCURRENCY, (id) => adoptOne(name, url, id)),
    );
  }

  async function adoptOne(cluster: string, clusterUrl: string, id: string): Promise<AdoptedEnvironment> {
    const purposes = Object.keys(TOKEN_PURPOSES) as TokenPurpose[];
    const existing = await registry.get(id);
    const lacking = (e: RegisteredEnvironment | undefined) =>
      purposes.filter((p) => !e?.tokens.some((t) => t.purpose === p && t.state === 'current'));
    if (existing && lacking(existing).length === 0)
      return { environmentId: id, action: 'already-registered', minted: [] };
    const record =
      existing ??
      (await registry.record({
        id,
        kind: 'managed',
        cluster,
        apiUrl: `${clusterUrl.replace(/\/+$/, '')}/e/${encodeURIComponent(id)}`,
        source: 'adopted',
        ...customerAndStage(id),
      }));
    const now = new Date();
    const minted = await keeper.withTokenManagement(record, async (tokens) => {
      const made: string[] = [];
      for (const purpose of lacking(record)) {
        made.push(
          (await keeper.mint(record, purpose, tokens, { policy: tokenPolicy, asOf: now, reason: 'adopted' })).tokenId,
        );
      }
      const recorded = await registry.get(id);
      if (recorded) await keeper.revokeOrphans(recorded, tokens, now);
      return made;
    });
    environments.forget(id);
    return { environmentId: id, action: existing ? 'already-registered' : 'adopted', minted };
  }

  /**
   * An environment Autopilot cannot mint tokens in (SaaS, or a cluster without a cluster token here):
   * the token the operator handed over is looked up with itself and must carry every scope its
   * features need. On any refusal nothing is kept, the staged secret included.
   */
  async function registerEnvironment(input: EnvironmentToAdd): Promise<RegisteredEnvironment> {
    try {
      return await register(input);
    } finally {
      await deps.secrets.delete(input.stagedSecretRef);
    }
  }

  async function register(input: EnvironmentToAdd): Promise<RegisteredEnvironment> {
    if (!ENVIRONMENT_ID.test(input.id))
      throw invalid(`--id ${JSON.stringify(input.id)} is not an environment id (letters, digits, "-", "_")`);
    if (!ENVIRONMENT_API_URL.test(input.apiUrl)) {
      throw invalid(
        `--url ${JSON.stringify(input.apiUrl)} is not an http(s) URL like https://abc12345.live.dynatrace.com`,
      );
    }
    const staged = await deps.secrets.get(input.stagedSecretRef);
    if (!staged) throw invalid(`the token to register was not found in the secret store (${input.stagedSecretRef})`);
    const apiUrl = input.apiUrl.replace(/\/+$/, '');
    const endpoint = { kind: input.kind, apiUrl, ...(input.cluster ? { cluster: input.cluster } : {}) };
    const api = clients
      .forEnvironment(input.cluster ? endpoint : { kind: 'saas', apiUrl })
      .environment(input.id, staged.value);
    let metadata;
    try {
      metadata = await api.tokens.lookup(staged.value);
    } catch (err) {
      throw invalid(registrationRefusal(err, apiUrl));
    }
    const lacking = requiredScopes('automation').filter((s) => !(metadata.scopes ?? []).includes(s));
    if (lacking.length > 0) {
      throw invalid(
        `the token lacks ${lacking.map((s) => `${s} (needed for ${featuresNeeding('automation', s).join('; ')})`).join(', ')}`,
      );
    }
    if (metadata.enabled === false) throw invalid('the token is disabled');
    const expiresAt = metadata.expirationDate ? new Date(metadata.expirationDate) : undefined;
    const secretRef = secretRefs.environmentToken(input.id, 'automation');
    await deps.secrets.put(secretRef, staged.value, {
      tokenId: metadata.id ?? 'unknown',
      ...(expiresAt ? { expiresAt: expiresAt.toISOString() } : {}),
      scopes: (metadata.scopes ?? []).join(','),
      source: 'registered',
    });
    await registry.record({ id: input.id, ...endpoint, source: 'registered', ...customerAndStage(input.id) });
    await registry.tokenMinted({
      environmentId: input.id,
      purpose: 'automation',
      tokenId: metadata.id ?? `registered-${input.id}`,
      secretRef,
      scopes: metadata.scopes ?? [],
      ...(expiresAt ? { expiresAt } : {}),
      mintedByUs: false,
      reason: 'registered by an operator',
      replacedRevokeAfter: new Date(),
    });
    await registry.scopesChecked(input.id, new Date(), undefined);
    environments.forget(input.id);
    log.info('Environment registered', { environmentId: input.id, kind: input.kind });
    return (await registry.get(input.id))!;
  }

  /** Forgets an environment: the tokens Autopilot minted there are revoked, their secrets deleted. */
  /** Operators' labels for selectors (`tag:tier:gold`); the environment itself is not touched. */
  async function tagEnvironment(input: {
    id: string;
    add: string[];
    remove: string[];
  }): Promise<RegisteredEnvironment | undefined> {
    const environment = await registry.retag(input.id, input.add, input.remove);
    environments.forget(input.id);
    return environment;
  }

  async function forgetEnvironment(input: { id: string }): Promise<{ removed: boolean; revoked: string[] }> {
    const record = await registry.get(input.id);
    if (!record) return { removed: false, revoked: [] };
    const ours = record.tokens.filter((t) => t.mintedByUs);
    const revoked: string[] = [];
    if (ours.length > 0 && record.kind === 'managed' && record.cluster !== undefined) {
      await keeper.withTokenManagement(record, async (tokens) => {
        for (const t of ours) {
          await keeper.revoke(t.tokenId, tokens, new Date());
          revoked.push(t.tokenId);
        }
      });
    }
    for (const t of record.tokens) await deps.secrets.delete(t.secretRef);
    await deps.secrets.delete(secretRefs.tokenManagementToken(input.id));
    const removed = await registry.remove(input.id);
    environments.forget(input.id);
    return { removed, revoked };
  }

  async function listEnvironments(input: { selector?: string }): Promise<RegisteredEnvironment[]> {
    if (input.selector) selectorOf(input.selector);
    return registry.list(input.selector);
  }

  async function showEnvironment(input: { id: string }): Promise<RegisteredEnvironment | undefined> {
    return registry.get(input.id);
  }

  /** Every token Autopilot holds, soonest expiry first; `expiringWithinDays` keeps only those. */
  async function listTokens(input: { expiringWithinDays?: number; asOf?: string }): Promise<TokenListing[]> {
    const now = input.asOf ? Date.parse(input.asOf) : Date.now();
    const tokens = (await registry.list()).flatMap((e) =>
      e.tokens.map((t) => ({
        ...t,
        ...(t.expiresAt ? { daysLeft: Math.floor((Date.parse(t.expiresAt) - now) / DAY_MS) } : {}),
      })),
    );
    return tokens
      .filter(
        (t) =>
          input.expiringWithinDays === undefined ||
          (t.expiresAt !== undefined && Date.parse(t.expiresAt) - now <= input.expiringWithinDays * DAY_MS),
      )
      .sort((a, b) => (a.expiresAt ?? '9999').localeCompare(b.expiresAt ?? '9999'));
  }

  return {
    discoverEnvironments,
    adoptEnvironments,
    registerEnvironment,
    forgetEnvironment,
    tagEnvironment,
    listEnvironments,
    showEnvironment,
    listTokens,
  };
}

function nulls(id: string): { customer: string | null; stage: string | null } {
  const { customer, stage } = customerAndStage(id);
  return { customer: customer ?? null, stage: stage ?? null };
}

/** One line saying why a token handed over for registration was not taken. */
function registrationRefusal(err: unknown, url: string): string {
  if (err instanceof DynatraceApiError) {
    switch (err.type) {
      case DynatraceFailureType.unauthorized:
        return `${url} refuses the token (401): it is invalid, expired, revoked or of another environment`;
      case DynatraceFailureType.forbidden:
        return 'the token lacks apiTokens.read, which Autopilot needs to read its own scopes (add it to the token)';
      case DynatraceFailureType.notFound:
        return `${url} has no Dynatrace environment API (404): check --url and --id`;
      default:
        return `${url} cannot be reached: ${redactSecrets(err.dynatraceMessage)}`;
    }
  }
  return `${url} cannot be reached: ${redactSecrets(err instanceof Error ? err.message : String(err))}`;
}
