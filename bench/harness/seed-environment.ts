import { tokenName } from '../../src/activities/tokens/token-keeper.js';
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
