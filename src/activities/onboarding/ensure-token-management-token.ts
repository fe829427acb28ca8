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
   * a short-lived token-management token is minted from the cluster token and used once, which also
   * waits out an environment whose API is not ready yet (503, retried by Temporal). A permanent one
   * that an earlier version kept in the secret store is revoked and deleted.
   */
  return async function ensureTokenManagementToken(input: {
    environmentId: string;
  }): Promise<EnsuredTokenManagementToken> {
    const environment = await deps.dynatrace.environments.environment(input.environmentId);
    const legacyRef = secretRefs.tokenManagementToken(input.environmentId);
    const legacy = await deps.secrets.get(legacyRef);
    // A re-run of a complete onboarding has nothing to wait for or clean up: no call at all.
    if (!legacy && environment.tokens.some((t) => t.state === 'current')) return { action: 'short-lived' };
    const legacyRevoked = await deps.dynatrace.keeper.withTokenManagement(environment, async (tokens) => {
      if (!legacy) {
        // The smallest page there is (100): the environment's API answers, and nothing else happens.
        await tokens.list({ pageSize: 100 }).next();
        return false;
      }
      const metadata = await tokens.lookup(legacy.value).catch((err: unknown) => {
        // Already expired or revoked: there is nothing left to revoke.
        if (err instanceof DynatraceApiError && GONE.has(err.type ?? '')) return undefined;
        throw err;
      });
      if (metadata?.id) await tokens.revoke(metadata.id);
      await deps.secrets.delete(legacyRef);
      log.info('Permanent token-management token revoked', { environmentId: input.environmentId });
      return true;
    });
    return { action: 'short-lived', ...(legacyRevoked ? { legacyRevoked } : {}) };
  };
}
