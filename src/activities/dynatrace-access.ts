import { ApplicationFailure } from '@temporalio/common';
import type { SecretSource } from '../config/secret.js';
import type { DynatraceClient } from '../dynatrace/index.js';
import type { SecretStore } from '../secrets/secret-store.js';
import { FailureType } from '../shared/failure-types.js';

/** How activities reach Dynatrace: the client, where users open the cluster, and the cluster token. */
export interface DynatraceAccess {
  client: DynatraceClient;
  /** Base URL of the cluster as users reach it (environment links point here). */
  clusterUrl: string;
  clusterToken: SecretSource;
}

/** An environment token from the secret store, or a non-retryable failure naming what is missing. */
export async function requireStoredToken(secrets: SecretStore, ref: string, what: string): Promise<string> {
  const stored = await secrets.get(ref);
  if (!stored) {
    throw ApplicationFailure.nonRetryable(
      `no ${what} in the secret store (${ref}); run the onboarding of this environment first`,
      FailureType.MissingSecret,
    );
  }
  return stored.value;
}
