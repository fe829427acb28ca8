import { log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { DynatraceApiError, DynatraceFailureType } from '../dynatrace/errors.js';
import type { DynatraceClients } from '../dynatrace/dynatrace-clients.js';
import type { EnvironmentApi } from '../dynatrace/environment-api.js';
import type { EnvironmentRegistry } from '../registry/environment-registry.js';
import { FailureType } from '../shared/failure-types.js';
import type { SecretStore } from '../secrets/secret-store.js';
import { secretRefs } from '../secrets/secret-store.js';
import { TOKEN_PURPOSES, type RegisteredEnvironment, type TokenPurpose } from '../shared/registry.js';
import type { EnvironmentTokens } from './environment-tokens.js';
import type { TokenKeeper, TokenPolicy } from './tokens/token-keeper.js';

const RECORD_TTL_MS = 60_000;

/**
 * How activities reach an environment's API: its record says where (its cluster, or its SaaS host),
 * the secret store holds the purpose's token. A 401 — a token revoked behind Autopilot's back, or
 * expired — is answered by minting the replacement and trying once more, so the step that hit it
 * completes instead of failing; a token an operator handed us is reported, never replaced.
 */
export class EnvironmentAccess {
  private readonly records = new Map<string, { record: RegisteredEnvironment; until: number }>();
  /** One replacement per environment and purpose at a time in this worker. */
  private readonly replacing = new Map<string, Promise<void>>();

  constructor(
    private readonly clients: DynatraceClients,
    private readonly registry: EnvironmentRegistry,
    private readonly tokens: EnvironmentTokens,
    private readonly secrets: SecretStore,
    private readonly keeper: TokenKeeper,
    private readonly policy: TokenPolicy,
  ) {}

  /** The environment's record; an environment Autopilot does not know is a typed, non-retryable failure. */
  async environment(environmentId: string): Promise<RegisteredEnvironment> {
    const cached = this.records.get(environmentId);
    if (cached && cached.until > Date.now()) return cached.record;
    const record = (await this.registry.get(environmentId)) ?? (await this.importOnboarded(environmentId));
    if (!record) {
      throw ApplicationFailure.nonRetryable(
        `${environmentId} is not in the environment registry: onboard it, adopt it or add it first`,
        FailureType.UnknownEnvironment,
      );
    }
    this.records.set(environmentId, { record, until: Date.now() + RECORD_TTL_MS });
    return record;
  }

  /** Records just read from the registry in bulk (a fleet scan's list), so the calls that follow need no read each. */
  remember(records: readonly RegisteredEnvironment[]): void {
    const until = Date.now() + RECORD_TTL_MS;
    for (const record of records) this.records.set(record.id, { record, until });
  }

  /**
   * An environment onboarded before the registry existed: its tokens are in the secret store and it
   * lives on the one cluster there was. It is recorded with them, so nothing is lost on upgrade.
   */
  private async importOnboarded(environmentId: string): Promise<RegisteredEnvironment | undefined> {
    const [cluster] = this.clients.clusterNames;
    if (this.clients.clusterNames.length !== 1 || cluster === undefined) return undefined;
    const stored = await Promise.all(
      (Object.keys(TOKEN_PURPOSES) as TokenPurpose[]).map(async (purpose) => ({
        purpose,
        secret: await this.secrets.get(secretRefs.environmentToken(environmentId, purpose)),
      })),
    );
    if (!stored.some((s) => s.secret?.metadata.tokenId)) return undefined;
    const { url } = this.clients.cluster(cluster);
    await this.registry.record({
      id: environmentId,
      kind: 'managed',
      cluster,
      apiUrl: `${url.replace(/\/+$/, '')}/e/${encodeURIComponent(environmentId)}`,
      source: 'onboarded',
    });
    for (const { purpose, secret } of stored) {
      const tokenId = secret?.metadata.tokenId;
      if (!secret || !tokenId) continue;
      const expiresAt = secret.metadata.expiresAt ? new Date(secret.metadata.expiresAt) : undefined;
      await this.registry.tokenMinted({
        environmentId,
        purpose,
        tokenId,
        secretRef: secretRefs.environmentToken(environmentId, purpose),
        scopes: secret.metadata.scopes?.split(',') ?? [...TOKEN_PURPOSES[purpose]],
        ...(expiresAt && !Number.isNaN(expiresAt.getTime()) ? { expiresAt } : {}),
        mintedByUs: true,
        reason: 'recorded from the secret store (onboarded before the registry)',
        replacedRevokeAfter: new Date(),
      });
    }
    log.info('Environment recorded in the registry from the secret store', { environmentId, cluster });
    return this.registry.get(environmentId);
  }

  /** Runs `call` with the environment's API and the purpose's token; a 401 gets one replacement and one retry. */
  async withApi<T>(
    environmentId: string,
    purpose: TokenPurpose,
    call: (api: EnvironmentApi) => Promise<T>,
  ): Promise<T> {
    const attempt = async () => {
      const record = await this.environment(environmentId);
      const token = await this.tokens.get(environmentId, purpose);
      return call(this.clients.forEnvironment(record).environment(environmentId, token));
    };
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof DynatraceApiError && err.type === DynatraceFailureType.unauthorized)) throw err;
      await this.replaceRefusedToken(environmentId, purpose);
      return attempt();
    }
  }

  private async replaceRefusedToken(environmentId: string, purpose: TokenPurpose): Promise<void> {
    const key = `${environmentId}|${purpose}`;
    const running = this.replacing.get(key);
    if (running) return running;
    const replacement = (async () => {
      this.records.delete(environmentId);
      this.tokens.forget(environmentId, purpose);
      const record = await this.environment(environmentId);
      const current = record.tokens.find((t) => t.purpose === purpose && t.state === 'current');
      if (current && !current.mintedByUs) {
        const reason = `the ${purpose} token ${current.tokenId} handed to Autopilot is refused (401): replace it with \`autopilot environments add\``;
        await this.registry.needsAttention(environmentId, reason);
        throw ApplicationFailure.nonRetryable(reason, FailureType.DynatraceUnauthorized);
      }
      const minted = await this.keeper.withTokenManagement(record, (tokens) =>
        this.keeper.mint(record, purpose, tokens, {
          policy: this.policy,
          asOf: new Date(),
          reason: 'refused with 401',
        }),
      );
      log.warn('A refused token was replaced', {
        environmentId,
        purpose,
        tokenId: minted.tokenId,
        replaced: minted.replaced,
      });
      this.records.delete(environmentId);
      this.tokens.forget(environmentId, purpose);
    })();
    this.replacing.set(key, replacement);
    try {
      await replacement;
    } finally {
      this.replacing.delete(key);
    }
  }

  /** After a change the next reads must see (a rotation, a new record). */
  forget(environmentId: string): void {
    this.records.delete(environmentId);
  }
}
