import type { SecretStore } from '../secrets/secret-store.js';
import { secretRefs } from '../secrets/secret-store.js';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../shared/failure-types.js';

/**
 * Environment tokens for hot paths (host verification in fleet roll-outs), read from the secret
 * store at most once a minute per environment: with SSM every read would be an AWS call.
 */
export class EnvironmentTokens {
  private readonly cache = new Map<string, { value: string; until: number }>();

  constructor(
    private readonly secrets: SecretStore,
    private readonly ttlMs = 60_000,
  ) {}

  async get(environmentId: string, purpose: 'automation' | 'installer-download'): Promise<string> {
    const key = `${environmentId}|${purpose}`;
    const cached = this.cache.get(key);
    if (cached && cached.until > Date.now()) return cached.value;
    const value = await requireStoredToken(
      this.secrets,
      secretRefs.environmentToken(environmentId, purpose),
      `${purpose} token`,
    );
    this.cache.set(key, { value, until: Date.now() + this.ttlMs });
    return value;
  }

  /** After a 401 the token may have been rotated: read it again next time. */
  forget(environmentId: string, purpose: 'automation' | 'installer-download'): void {
    this.cache.delete(`${environmentId}|${purpose}`);
  }
}

/** An environment token from the secret store, or a non-retryable failure naming what is missing. */
async function requireStoredToken(secrets: SecretStore, ref: string, what: string): Promise<string> {
  const stored = await secrets.get(ref);
  if (!stored) {
    throw ApplicationFailure.nonRetryable(
      `no ${what} in the secret store (${ref}); run the onboarding of this environment first`,
      FailureType.MissingSecret,
    );
  }
  return stored.value;
}
