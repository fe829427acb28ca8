import { log } from '@temporalio/activity';
import { DynatraceApiError, DynatraceFailureType } from '../../dynatrace/index.js';
import type { SecretStore } from '../../secrets/secret-store.js';
import { secretRefs } from '../../secrets/secret-store.js';
import type { DynatraceAccess } from '../dynatrace-access.js';

const RECOVERY_VALIDITY_SECONDS = 30 * 86_400;
const RENEW_BEFORE_MS = 86_400_000;

export interface EnsuredTokenManagementToken {
  secretRef: string;
  action: 'reused' | 'recovered';
}

export function createEnsureTokenManagementToken(deps: { dynatrace: DynatraceAccess; secrets: SecretStore }) {
  /**
   * Makes sure the secret store holds a working token-management token for the environment. A
   * stored one is checked with a lookup, which also waits out an environment whose API is not ready
   * yet (503, retried by Temporal). A missing or dead one, e.g. because a worker died between the
   * environment PUT and storing its token, is replaced through the cluster's recovery endpoint.
   */
  return async function ensureTokenManagementToken(input: {
    environmentId: string;
  }): Promise<EnsuredTokenManagementToken> {
    const { client, clusterToken } = deps.dynatrace;
    const ref = secretRefs.tokenManagementToken(input.environmentId);
    const stored = await deps.secrets.get(ref);
    if (stored) {
      try {
        const metadata = await client.environment(input.environmentId, stored.value).tokens.lookup(stored.value);
        const expiresAt = metadata.expirationDate ? Date.parse(metadata.expirationDate) : Infinity;
        if (metadata.enabled !== false && expiresAt - Date.now() > RENEW_BEFORE_MS) {
          return { secretRef: ref, action: 'reused' };
        }
      } catch (err) {
        if (!(err instanceof DynatraceApiError && err.type === DynatraceFailureType.unauthorized)) throw err;
      }
    }
    const token = await client.cluster(clusterToken.reveal()).createTokenManagementToken(input.environmentId, {
      name: 'Dynatrace Autopilot token management',
      expiresInSeconds: RECOVERY_VALIDITY_SECONDS,
    });
    await deps.secrets.put(ref, token, {
      source: 'tokenManagementToken',
      expiresAt: new Date(Date.now() + RECOVERY_VALIDITY_SECONDS * 1000).toISOString(),
    });
    // The environment API must answer before the next steps use it.
    await client.environment(input.environmentId, token).tokens.lookup(token);
    log.info('Token management token recovered', { environmentId: input.environmentId });
    return { secretRef: ref, action: 'recovered' };
  };
}
