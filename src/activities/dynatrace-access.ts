import { ApplicationFailure } from '@temporalio/common';
import type { ClusterApi } from '../dynatrace/cluster-api.js';
import { UnknownClusterError, type DynatraceClients } from '../dynatrace/dynatrace-clients.js';
import { FailureType } from '../shared/failure-types.js';
import type { EnvironmentRegistry } from '../registry/environment-registry.js';
import type { SecretStore } from '../secrets/secret-store.js';
import { EnvironmentAccess } from './environment-access.js';
import { EnvironmentTokens } from './environment-tokens.js';
import { TokenKeeper, type TokenPolicy } from './tokens/token-keeper.js';

/**
 * How activities reach Dynatrace: the clusters by name, every environment through its registry
 * record (`environments`), and the tokens they hold there (`keeper`, by `tokenPolicy`).
 */
export interface DynatraceAccess {
  clients: DynatraceClients;
  registry: EnvironmentRegistry;
  environments: EnvironmentAccess;
  /** The stored environment tokens, read-only: for the fleet query, which never mints. */
  tokens: EnvironmentTokens;
  keeper: TokenKeeper;
  tokenPolicy: TokenPolicy;
}

/** The Dynatrace side of a worker: the clusters' and SaaS hosts' clients, the registry, the tokens. */
export function createDynatraceAccess(options: {
  clients: DynatraceClients;
  registry: EnvironmentRegistry;
  secrets: SecretStore;
  tokenPolicy: TokenPolicy;
}): DynatraceAccess {
  const keeper = new TokenKeeper(options.clients, options.registry, options.secrets);
  const tokens = new EnvironmentTokens(options.secrets);
  const environments = new EnvironmentAccess(
    options.clients,
    options.registry,
    tokens,
    options.secrets,
    keeper,
    options.tokenPolicy,
  );
  return {
    clients: options.clients,
    registry: options.registry,
    environments,
    tokens,
    keeper,
    tokenPolicy: options.tokenPolicy,
  };
}

/**
 * The cluster API (with the cluster token) of a configured cluster, by name or the only one; a name
 * that is not configured is a non-retryable failure saying which ones are.
 */
export function clusterApi(
  access: Pick<DynatraceAccess, 'clients'>,
  name: string | undefined,
): {
  name: string;
  url: string;
  api: ClusterApi;
} {
  try {
    const cluster = access.clients.cluster(name);
    return { name: cluster.name, url: cluster.url, api: cluster.client.cluster(cluster.token.reveal()) };
  } catch (err) {
    if (err instanceof UnknownClusterError)
      throw ApplicationFailure.nonRetryable(err.message, FailureType.UnknownCluster);
    throw err;
  }
}
