import { log } from '@temporalio/activity';
import type { SecretStore } from '../../secrets/secret-store.js';
import { secretRefs } from '../../secrets/secret-store.js';
import type { TokenPurpose } from '../../shared/registry.js';
import type { DynatraceAccess } from '../dynatrace-access.js';

export { TOKEN_PURPOSES, type TokenPurpose } from '../../shared/registry.js';

export interface EnsureEnvironmentTokenInput {
  environmentId: string;
  purpose: TokenPurpose;
  validityDays: number;
  rotateBeforeDays: number;
}

export interface EnsuredEnvironmentToken {
  secretRef: string;
  tokenId: string;
  expiresAt: string;
  action: 'reused' | 'created' | 'rotated';
  /** Orphans of ours revoked now; a replaced token is revoked by maintenance after its grace period. */
  revoked: number;
}

export function createEnsureEnvironmentToken(deps: { dynatrace: DynatraceAccess; secrets: SecretStore }) {
  /**
   * One token per environment and purpose, recorded in the registry and held in the secret store. A
   * recorded token with its secret in place and enough validity left is reused without a call to
   * Dynatrace (a revoked one is replaced on first use, see EnvironmentAccess). Otherwise a new one is
   * minted with a short-lived token-management token; the one it replaces stays valid for its grace
   * period, and any orphan of ours (a worker died between minting and recording) is revoked.
   */
  return async function ensureEnvironmentToken(input: EnsureEnvironmentTokenInput): Promise<EnsuredEnvironmentToken> {
    const { environments, keeper, registry, tokenPolicy } = deps.dynatrace;
    environments.forget(input.environmentId);
    const environment = await environments.environment(input.environmentId);
    const secretRef = secretRefs.environmentToken(input.environmentId, input.purpose);
    const now = new Date();
    const current = environment.tokens.find((t) => t.purpose === input.purpose && t.state === 'current');
    const stored = current ? await deps.secrets.get(current.secretRef) : undefined;
    const expiresAt = current?.expiresAt ? Date.parse(current.expiresAt) : Infinity;
    if (
      current &&
      stored?.metadata.tokenId === current.tokenId &&
      expiresAt - now.getTime() > input.rotateBeforeDays * 86_400_000
    ) {
      return {
        secretRef,
        tokenId: current.tokenId,
        expiresAt: current.expiresAt ?? 'never',
        action: 'reused',
        revoked: 0,
      };
    }

    const policy = { ...tokenPolicy, validityDays: input.validityDays, rotateBeforeDays: input.rotateBeforeDays };
    const result = await keeper.withTokenManagement(environment, async (tokens) => {
      const minted = await keeper.mint(environment, input.purpose, tokens, {
        policy,
        asOf: now,
        reason: current ? 'onboarding: due for rotation' : 'onboarding',
      });
      const recorded = await registry.get(input.environmentId);
      const orphans = recorded ? await keeper.revokeOrphans(recorded, tokens, now) : [];
      return { minted, orphans };
    });
    environments.forget(input.environmentId);
    log.info(current ? 'Environment token rotated' : 'Environment token created', {
      environmentId: input.environmentId,
      purpose: input.purpose,
      tokenId: result.minted.tokenId,
      replaced: result.minted.replaced,
      orphansRevoked: result.orphans.length,
    });
    return {
      secretRef,
      tokenId: result.minted.tokenId,
      expiresAt: result.minted.expiresAt,
      action: current ? 'rotated' : 'created',
      revoked: result.orphans.length,
    };
  };
}
