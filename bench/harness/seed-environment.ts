import { createDynatraceAccess, type DynatraceAccess } from '../../src/activities/dynatrace-access.js';
import { tokenName } from '../../src/activities/tokens/token-keeper.js';
import { Secret } from '../../src/config/secret.js';
import { DynatraceClients } from '../../src/dynatrace/dynatrace-clients.js';
import type { EnvironmentRegistry } from '../../src/registry/environment-registry.js';
import type { SecretStore } from '../../src/secrets/secret-store.js';
import { secretRefs } from '../../src/secrets/secret-store.js';
import { TOKEN_PURPOSES } from '../../src/shared/registry.js';
import type { DynatraceSimulator } from '../../sandbox/dynatrace/server.js';

/**
 * An environment as onboarding leaves it, written straight into the simulator's state, the secret
 * store and the registry: seeding thousands through the API would measure the seeding, not the
 * benchmark.
 */
export async function seedRegisteredEnvironment(
  simulator: DynatraceSimulator,
  registry: EnvironmentRegistry,
  secrets: SecretStore,
  environment: { id: string; cluster: string; customer: string; stage: string },
): Promise<void> {
  const { id } = environment;
  const created = simulator.state.createEnvironment({ id, name: id, state: 'ENABLED', trial: false, tags: [] });
  const token = simulator.state.createEnvironmentToken(created, {
    name: tokenName('automation'),
    scopes: [...TOKEN_PURPOSES.automation],
    owner: 'admin',
    kind: 'api',
  });
  await secrets.put(secretRefs.environmentToken(id, 'automation'), token.token, { tokenId: token.id });
  await registry.record({
    id,
    kind: 'managed',
    cluster: environment.cluster,
    apiUrl: `${simulator.url}/e/${id}`,
    customer: environment.customer,
    stage: environment.stage,
    source: 'onboarded',
  });
  await registry.tokenMinted({
    environmentId: id,
    purpose: 'automation',
    tokenId: token.id,
    secretRef: secretRefs.environmentToken(id, 'automation'),
    scopes: TOKEN_PURPOSES.automation,
    mintedByUs: true,
    reason: 'bench: seeded',
    replacedRevokeAfter: new Date(),
  });
}

/**
 * Four Managed clusters on one simulator, as the article's author ran them, each with the default
 * caps (50 requests in flight, `capacityPerEnvironment` per environment), reached as a worker does.
 */
export function fourClusterAccess(
  simulator: DynatraceSimulator,
  registry: EnvironmentRegistry,
  secrets: SecretStore,
  options: { capacityPerEnvironment: number; requestTimeoutMs: number },
): DynatraceAccess {
  const clusters = [0, 1, 2, 3].map((n) => ({
    name: `c${n}`,
    url: simulator.url,
    token: new Secret(simulator.clusterTokens.admin!),
    maxConcurrentRequests: 50,
    maxConcurrentRequestsPerEnvironment: options.capacityPerEnvironment,
  }));
  return createDynatraceAccess({
    clients: new DynatraceClients(clusters, {
      requestTimeoutMs: options.requestTimeoutMs,
      maxConcurrentPerEnvironment: 5,
    }),
    registry,
    secrets,
    tokenPolicy: { validityDays: 30, rotateBeforeDays: 7, revokeGraceMs: 7_200_000 },
  });
}
