import { log } from '@temporalio/activity';
import { DynatraceApiError, DynatraceFailureType } from '../../dynatrace/index.js';
import type { SecretStore } from '../../secrets/secret-store.js';
import { secretRefs } from '../../secrets/secret-store.js';
import type { DynatraceAccess } from '../dynatrace-access.js';

export interface EnsuredTokenManagementToken {
  /** Absent since token-management tokens are short-lived; results of older runs name the stored one. */
  secretRef?: string;
  action: 'short-lived' | 'reused' | 'recovered';
  /** A never-expiring token-management token of an earlier version was revoked and forgotten. */
  legacyRevoked?: boolean;
}

const GONE = new Set<string>([
  DynatraceFailureType.notFound,
  DynatraceFailureType.badRequest,
  DynatraceFailureType.unauthorized,
]);

export function createEnsureTokenManagementToken(deps: { dynatrace: DynatraceAccess; secrets: SecretStore }) {
  /**
   * Makes sure Autopilot can manage the environment's tokens without holding an admin credential:
   * each token step mints a short-lived token-management token from the cluster token for itself
   * (and waits out an environment whose API is not ready yet: 503, retried by Temporal). What is
   * left to do here is a permanent one that an earlier version kept in the secret store: it is
   * revoked and deleted. Otherwise there is nothing to call.
   */
  return async function ensureTokenManagementToken(input: {
    environmentId: string;
  }): Promise<EnsuredTokenManagementToken> {
    const legacyRef = secretRefs.tokenManagementToken(input.environmentId);
    const legacy = await deps.secrets.get(legacyRef);
    if (!legacy) return { action: 'short-lived' };
    const environment = await deps.dynatrace.environments.environment(input.environmentId);
    await deps.dynatrace.keeper.withTokenManagement(environment, async (tokens) => {
      const metadata = await tokens.lookup(legacy.value).catch((err: unknown) => {
        // Already expired or revoked: there is nothing left to revoke.
        if (err instanceof DynatraceApiError && GONE.has(err.type ?? '')) return undefined;
        throw err;
      });
      if (metadata?.id) await tokens.revoke(metadata.id);
      await deps.secrets.delete(legacyRef);
      log.info('Permanent token-management token revoked', { environmentId: input.environmentId });
    });
    return { action: 'short-lived', legacyRevoked: true };
  };
}
