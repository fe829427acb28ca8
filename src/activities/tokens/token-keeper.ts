import { ApplicationFailure } from '@temporalio/common';
import { collect } from '../../dynatrace/pagination.js';
import type { ApiTokensApi } from '../../dynatrace/api-tokens-api.js';
import type { DynatraceClients } from '../../dynatrace/dynatrace-clients.js';
import type { EnvironmentRegistry } from '../../registry/environment-registry.js';
import type { SecretStore } from '../../secrets/secret-store.js';
import { secretRefs } from '../../secrets/secret-store.js';
import { FailureType } from '../../shared/failure-types.js';
import { TOKEN_PURPOSES, type RegisteredEnvironment, type TokenPurpose } from '../../shared/registry.js';

/** How long a token-management token lives: long enough for one step, far too short to be worth stealing. */
const TOKEN_MANAGEMENT_SECONDS = 10 * 60;
/** `dt0c01.<24-char public part>.<64-char secret>`: its id is `dt0c01.<public part>` (reference §0.2). */
const TOKEN_ID = /^(dt0c01\.[A-Za-z0-9]{24})\.[A-Za-z0-9]{64}$/;

/** Our tokens carry this name, so an orphan (minted, then never recorded) can be told from a customer's own. */
export const tokenName = (purpose: TokenPurpose) => `dynatrace-autopilot-${purpose}`;

export interface TokenPolicy {
  validityDays: number;
  /** A token that has less than this left is replaced. */
  rotateBeforeDays: number;
  /** A replaced token stays valid this long for work that still holds it. */
  revokeGraceMs: number;
}

export interface MintResult {
  tokenId: string;
  secretRef: string;
  expiresAt: string;
  replaced?: string;
}

/**
 * Every environment token Autopilot holds, minted, rotated and revoked in one place. A token-management
 * token is minted from the cluster token for the work at hand and revoked when it is done: no
 * per-environment admin credential outlives the step that needed it. Each mint is recorded in the
 * registry (the one it replaces superseded, revoked after its grace), each secret kept in the secret
 * store, and `asOf` is the time the caller decides by (a maintenance run's scheduled time).
 */
export class TokenKeeper {
  constructor(
    private readonly clients: DynatraceClients,
    private readonly registry: EnvironmentRegistry,
    private readonly secrets: SecretStore,
  ) {}

  /**
   * Runs `work` with a fresh token-management token of a Managed environment, revoked afterwards
   * (it revokes itself: it holds `apiTokens.write`). SaaS and hand-registered environments have no
   * cluster token to mint one with.
   */
  async withTokenManagement<T>(
    environment: RegisteredEnvironment,
    work: (tokens: ApiTokensApi) => Promise<T>,
  ): Promise<T> {
    if (environment.kind !== 'managed' || environment.cluster === undefined) {
      throw ApplicationFailure.nonRetryable(
        `${environment.id} is a ${environment.kind === 'saas' ? 'SaaS' : 'registered'} environment: Autopilot has no cluster token to manage its tokens; replace them with \`autopilot environments add\``,
        FailureType.TokensNotManaged,
      );
    }
    const cluster = this.clients.cluster(environment.cluster);
    const token = await cluster.client.cluster(cluster.token.reveal()).createTokenManagementToken(environment.id, {
      name: 'Dynatrace Autopilot token management (short-lived)',
      expiresInSeconds: TOKEN_MANAGEMENT_SECONDS,
    });
    const tokens = cluster.client.environment(environment.id, token).tokens;
    try {
      return await work(tokens);
    } finally {
      // A token of today's format names its own id; an older one is looked up.
      const id = TOKEN_ID.exec(token)?.[1] ?? (await tokens.lookup(token).catch(() => undefined))?.id;
      if (id) await tokens.revoke(id).catch(() => false);
    }
  }

  /** Mints the purpose's token with its least scopes, stores it, and records it as the current one. */
  async mint(
    environment: RegisteredEnvironment,
    purpose: TokenPurpose,
    tokens: ApiTokensApi,
    options: { policy: TokenPolicy; asOf: Date; reason: string },
  ): Promise<MintResult> {
    const scopes: readonly string[] = TOKEN_PURPOSES[purpose];
    const expiresAt = new Date(options.asOf.getTime() + options.policy.validityDays * 86_400_000);
    const created = await tokens.create({ name: tokenName(purpose), scopes: [...scopes], expirationDate: expiresAt });
    const secretRef = secretRefs.environmentToken(environment.id, purpose);
    await this.secrets.put(secretRef, created.token, {
      tokenId: created.id,
      expiresAt: expiresAt.toISOString(),
      scopes: scopes.join(','),
    });
    const replaced = environment.tokens.find((t) => t.purpose === purpose && t.state === 'current')?.tokenId;
    await this.registry.tokenMinted({
      environmentId: environment.id,
      purpose,
      tokenId: created.id,
      secretRef,
      scopes,
      expiresAt,
      mintedByUs: true,
      reason: options.reason,
      replacedRevokeAfter: new Date(options.asOf.getTime() + options.policy.revokeGraceMs),
    });
    return { tokenId: created.id, secretRef, expiresAt: expiresAt.toISOString(), ...(replaced ? { replaced } : {}) };
  }

  /** Revokes one token of ours and records it. Idempotent: a token already gone counts as revoked. */
  async revoke(tokenId: string, tokens: ApiTokensApi, asOf: Date): Promise<void> {
    await tokens.revoke(tokenId);
    await this.registry.tokenRevoked(tokenId, asOf);
  }

  /**
   * Tokens named like ours that the registry does not hold: minted by a run that died before it
   * recorded them, or left from before the registry. They are revoked; the customer's own are not.
   */
  async revokeOrphans(environment: RegisteredEnvironment, tokens: ApiTokensApi, asOf: Date): Promise<string[]> {
    const known = new Set(environment.tokens.map((t) => t.tokenId));
    const ours = new Set(Object.keys(TOKEN_PURPOSES).map((p) => tokenName(p as TokenPurpose)));
    const orphans = (await collect(tokens.list())).filter((t) => ours.has(t.name) && !known.has(t.id));
    for (const orphan of orphans) await this.revoke(orphan.id, tokens, asOf);
    return orphans.map((t) => t.id);
  }
}
