import { log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { mapWithConcurrency } from '../../concurrency/map-with-concurrency.js';
import {
  EnvironmentUrlError,
  managedEnvironmentUrl,
  saasUrlRefusal,
  sameUrl,
  understandEnvironmentUrl,
  type UnderstoodEnvironmentUrl,
} from '../../dynatrace/environment-url.js';
import type { EnvironmentEndpoint } from '../../dynatrace/dynatrace-clients.js';
import { DynatraceApiError, DynatraceFailureType } from '../../dynatrace/errors.js';
import { featuresNeeding, requiredScopes } from '../../dynatrace/token-scopes.js';
import { redactSecrets } from '../../observability/redact.js';
import type { SecretStore } from '../../secrets/secret-store.js';
import { isRegistrationStagingRef, secretRefs } from '../../secrets/secret-store.js';
import { parseEnvironmentSelector, selects, SelectorError } from '../../shared/environment-selector.js';
import {
  ENVIRONMENT_ID,
  type AdoptedEnvironment,
  type DiscoveredEnvironment,
  type EnvironmentToAdd,
  type TokenListing,
} from '../../shared/environments.js';
import { FailureType } from '../../shared/failure-types.js';
import { TOKEN_PURPOSES, type RegisteredEnvironment, type TokenPurpose } from '../../shared/registry.js';
import type { DeploymentDeps } from '../deployment.js';
import { clusterApi, type DynatraceAccess } from '../dynatrace-access.js';
import { heartbeatWhile } from '../heartbeat-while.js';

export interface RegistryDeps extends DeploymentDeps {
  dynatrace: DynatraceAccess;
  secrets: SecretStore;
}

const DAY_MS = 86_400_000;
/** Environments of one batch adopted at once: each costs a handful of token calls. */
const ADOPT_CONCURRENCY = 4;

const invalid = (message: string) => ApplicationFailure.nonRetryable(message, FailureType.InvalidWorkflowInput);
const urlRefused = (message: string) => ApplicationFailure.nonRetryable(message, FailureType.EnvironmentUrlRefused);

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
        apiUrl: managedEnvironmentUrl(clusterUrl, id),
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
   * An environment whose token an operator hands over (`autopilot environments add`): SaaS, or one on
   * a cluster whose tokens an operator prefers to mint. The token is looked up with itself and must
   * carry every scope its features need. What the input may say is narrow: the token is named only by
   * a reference `environments add` staged (nothing else is read, and nothing else is deleted by that
   * name), and where the token goes follows from the configuration (a Managed environment's URL is
   * its cluster's plus `/e/<id>`; a SaaS one's is https below a configured SaaS domain), never from
   * the input alone. An id already registered is replaced only when the input says `replace`. On any
   * refusal nothing is kept, the staged secret included.
   */
  async function registerEnvironment(input: EnvironmentToAdd): Promise<RegisteredEnvironment> {
    const ref: unknown = input.stagedSecretRef;
    if (!isRegistrationStagingRef(ref)) {
      const named = typeof ref === 'string' ? JSON.stringify(ref.slice(0, 120)) : 'no reference';
      throw ApplicationFailure.nonRetryable(
        `a registration takes only a token that \`autopilot environments add\` staged for it (staging/registry/<random>): ${named} is not one, so it was neither read nor deleted`,
        FailureType.SecretReferenceRefused,
      );
    }
    try {
      return await register(input, ref);
    } finally {
      await deps.secrets.delete(ref);
    }
  }

  async function register(input: EnvironmentToAdd, stagedSecretRef: string): Promise<RegisteredEnvironment> {
    if (typeof input.id !== 'string' || !ENVIRONMENT_ID.test(input.id))
      throw invalid(`--id ${JSON.stringify(input.id)} is not an environment id (letters, digits, "-", "_")`);
    const existing = await registry.get(input.id);
    if (existing && input.replace !== true) {
      throw ApplicationFailure.nonRetryable(
        `${input.id} is registered already (${existing.kind}, ${existing.apiUrl}, ${existing.source}); nothing changed. \`autopilot environments add --replace\` replaces its registration`,
        FailureType.EnvironmentAlreadyRegistered,
      );
    }
    const endpoint = endpointToRegister(input);
    const staged = await deps.secrets.get(stagedSecretRef);
    if (!staged) throw invalid('the token to register was not found in the secret store (it was staged, then removed)');
    const api = clients.forEnvironment(endpoint).environment(input.id, staged.value);
    let metadata;
    try {
      metadata = await api.tokens.lookup(staged.value);
    } catch (err) {
      if (err instanceof ApplicationFailure && err.type === FailureType.EnvironmentUrlRefused) throw err;
      throw invalid(registrationRefusal(err, endpoint.apiUrl));
    }
    const lacking = requiredScopes('automation').filter((s) => !(metadata.scopes ?? []).includes(s));
    if (lacking.length > 0) {
      throw invalid(
        `the token lacks ${lacking.map((s) => `${s} (needed for ${featuresNeeding('automation', s).join('; ')})`).join(', ')}`,
      );
    }
    if (metadata.enabled === false) throw invalid('the token is disabled');
    // Replaced only now that the new token checks out: the old registration goes as `remove` does it.
    if (existing) await forgetRecord(existing);
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
      reason: existing ? 'registered by an operator, replacing the earlier registration' : 'registered by an operator',
      replacedRevokeAfter: new Date(),
    });
    await registry.scopesChecked(input.id, new Date(), undefined);
    environments.forget(input.id);
    log.info('Environment registered', { environmentId: input.id, kind: endpoint.kind, replaced: !!existing });
    return (await registry.get(input.id))!;
  }

  /**
   * Where a registration's token may go. Managed: its cluster's URL (named, found by the URL given,
   * or the only one) plus `/e/<id>`; a URL given must be that. SaaS: the given URL, understood as
   * operators paste it, https below a configured SaaS domain (http in the sandbox), its first host
   * label the environment id.
   */
  function endpointToRegister(
    input: EnvironmentToAdd,
  ): Required<Pick<EnvironmentEndpoint, 'kind' | 'apiUrl'>> & Pick<EnvironmentEndpoint, 'cluster'> {
    const rules = { ...clients.rules, sandbox: deps.sandbox };
    let given: UnderstoodEnvironmentUrl | undefined;
    if (input.apiUrl !== undefined) {
      try {
        given = understandEnvironmentUrl(String(input.apiUrl), rules.saasDomains);
      } catch (err) {
        if (err instanceof EnvironmentUrlError) throw urlRefused(err.message);
        throw err;
      }
      if (given.environmentId !== input.id) {
        throw urlRefused(
          `--id ${input.id} is not the environment of ${given.url}: its URL names ${given.environmentId} (${given.form === 'saas' ? 'the first label of a SaaS host' : 'the segment after /e/'})`,
        );
      }
    }
    if (input.kind === 'managed') {
      if (given && given.form !== 'managed')
        throw urlRefused(`${given.url} is a SaaS environment's URL; a Managed one's is its cluster's plus /e/<id>`);
      const clusterName = input.cluster ?? (given ? clusterAt(given.clusterUrl!) : undefined);
      const { name, url } = clusterApi(deps.dynatrace, clusterName);
      const apiUrl = managedEnvironmentUrl(url, input.id);
      if (given && !sameUrl(given.url, apiUrl)) {
        throw urlRefused(
          `${given.url} is not ${input.id} on cluster ${name}: a Managed environment's URL is its cluster's plus /e/<id> (${apiUrl})`,
        );
      }
      return { kind: 'managed', cluster: name, apiUrl };
    }
    if (input.kind !== 'saas') throw invalid(`kind ${JSON.stringify(input.kind)} is neither managed nor saas`);
    if (input.cluster !== undefined) throw invalid('a SaaS environment lives on no cluster: leave out --cluster');
    if (!given) throw invalid('a SaaS environment needs its URL (--url https://<id>.live.dynatrace.com)');
    if (given.form !== 'saas')
      throw urlRefused(`${given.url} is a Managed environment's URL (/e/<id>); register it with its cluster`);
    const refusal = saasUrlRefusal(given.url, rules);
    if (refusal) throw urlRefused(refusal);
    return { kind: 'saas', apiUrl: given.url };
  }

  /** The configured cluster at `url`; undefined when none is (the only cluster is then asked for). */
  function clusterAt(url: string): string | undefined {
    const name = clients.clusterNames.find((n) => sameUrl(clients.cluster(n).url, url));
    if (name === undefined && clients.clusterNames.length > 0) {
      const known = clients.clusterNames.map((n) => `${n} ${clients.cluster(n).url}`).join(', ');
      throw urlRefused(`${url} is the URL of no configured cluster (configured: ${known})`);
    }
    return name;
  }

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

  /** Forgets an environment: the tokens Autopilot minted there are revoked, their secrets deleted. */
  async function forgetEnvironment(input: { id: string }): Promise<{ removed: boolean; revoked: string[] }> {
    const record = await registry.get(input.id);
    if (!record) return { removed: false, revoked: [] };
    return forgetRecord(record);
  }

  /** The tokens Autopilot minted there revoked, every token's secret deleted (refs from the registry), the record gone. */
  async function forgetRecord(record: RegisteredEnvironment): Promise<{ removed: boolean; revoked: string[] }> {
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
    await deps.secrets.delete(secretRefs.tokenManagementToken(record.id));
    const removed = await registry.remove(record.id);
    environments.forget(record.id);
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
