import type { EnvironmentRegistry } from '../../src/registry/environment-registry.js';
import { secretRefs, type SecretStore } from '../../src/secrets/secret-store.js';
import type { TestCluster } from './simulator.js';

/**
 * Environments on the simulated cluster as `environments adopt` leaves them for the fleet server:
 * in the registry, with an automation token (every scope) in the secret store. Returns each
 * environment's token, for a test to look at the environment directly.
 */
export async function seedFleetEnvironments(
  dt: TestCluster,
  registry: EnvironmentRegistry,
  secrets: SecretStore,
  ids: readonly string[],
): Promise<Map<string, string>> {
  const tokens = new Map<string, string>();
  for (const id of ids) {
    const { token } = await dt.environment(id);
    tokens.set(id, token);
    await secrets.put(secretRefs.environmentToken(id, 'automation'), token);
    await registry.record({
      id,
      kind: 'managed',
      cluster: 'default',
      apiUrl: `${dt.simulator.url}/e/${id}`,
      source: 'adopted',
    });
  }
  return tokens;
}

/**
 * A fleet's worth of environments straight into the registry's table, in batches: ids only, no
 * tokens, so nothing may reach them; what a selector over thousands of environments is matched against.
 */
export async function insertEnvironments(
  registry: EnvironmentRegistry,
  ids: readonly string[],
  clusterUrl: string,
): Promise<void> {
  for (let i = 0; i < ids.length; i += 500) {
    await registry.db
      .insertInto('environments')
      .values(
        ids.slice(i, i + 500).map((id) => ({
          id,
          kind: 'managed' as const,
          cluster: 'default',
          api_url: `${clusterUrl}/e/${id}`,
          customer: id.split('-')[0]!,
          stage: 'p1',
          source: 'adopted' as const,
        })),
      )
      .execute();
  }
}
