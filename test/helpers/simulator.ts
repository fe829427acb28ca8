import { DynatraceClient } from '../../src/dynatrace/index.js';
import {
  startDynatraceSimulator,
  type DynatraceSimulator,
  type SimulatorKnobsInput,
} from '../../sandbox/dynatrace/index.js';

export const ALL_ENVIRONMENT_SCOPES = [
  'apiTokens.read',
  'apiTokens.write',
  'InstallerDownload',
  'DataExport',
  'entities.read',
  'problems.read',
  'problems.write',
  'settings.read',
  'settings.write',
  'oneAgents.read',
];

export interface TestCluster {
  simulator: DynatraceSimulator;
  client: DynatraceClient;
  clusterToken: string;
  stop(): Promise<void>;
  /** Creates an environment and an environment token with the given scopes (all by default). */
  environment(id: string, scopes?: string[]): Promise<{ token: string; tokenManagementToken: string }>;
  stats(): Promise<StatsSnapshot>;
  control<T = unknown>(path: string, body?: unknown): Promise<T>;
}

export type StatsSnapshot = ReturnType<DynatraceSimulator['stats']['snapshot']> & {
  totals: { environments: number; groups: number; hosts: number; apiTokens: number; problems: number };
};

export async function startTestCluster(
  options: { knobs?: SimulatorKnobsInput; maxConcurrentPerEnvironment?: number } = {},
): Promise<TestCluster> {
  const simulator = await startDynatraceSimulator({
    knobs: { installerSizeBytes: 8 * 1024, ...options.knobs },
    clusterTokens: [{ name: 'admin', scopes: ['ServiceProviderAPI', 'EnvironmentTokenManagement'] }],
  });
  const client = new DynatraceClient({
    baseUrl: simulator.url,
    maxConcurrentPerEnvironment: options.maxConcurrentPerEnvironment ?? 5,
    requestTimeoutMs: 5_000,
  });
  const clusterToken = simulator.clusterTokens.admin!;
  const control = async <T>(path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${simulator.url}/_sim${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`control ${path} failed with ${response.status}: ${text}`);
    return JSON.parse(text) as T;
  };
  return {
    simulator,
    client,
    clusterToken,
    stop: () => simulator.stop(),
    control,
    stats: () => control<StatsSnapshot>('/stats'),
    async environment(id, scopes = ALL_ENVIRONMENT_SCOPES) {
      const result = await client
        .cluster(clusterToken)
        .putEnvironment(id, { name: `Environment ${id}` }, { createToken: true });
      if (!result.created || !result.tokenManagementToken) throw new Error(`environment ${id} already existed`);
      const token = await client
        .environment(id, result.tokenManagementToken)
        .tokens.create({ name: 'test-automation', scopes });
      return { token: token.token, tokenManagementToken: result.tokenManagementToken };
    },
  };
}

/** Runs `fn` and returns the error it throws (failing the test if it does not throw). */
export async function failureOf(fn: () => Promise<unknown>): Promise<Error> {
  try {
    await fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the call to fail');
}
