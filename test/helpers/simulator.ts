import { readFileSync } from 'node:fs';
import got from 'got';
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

/**
 * A Managed simulator; with `tls` it serves https (its certificate in `simulator.caFile`), as a worker
 * process, which is production, needs: it refuses a plain-http cluster.
 */
export async function startTestCluster(
  options: { knobs?: SimulatorKnobsInput; maxConcurrentPerEnvironment?: number; tls?: boolean } = {},
): Promise<TestCluster> {
  const simulator = await startDynatraceSimulator({
    knobs: { installerSizeBytes: 8 * 1024, ...options.knobs },
    clusterTokens: [{ name: 'admin', scopes: ['ServiceProviderAPI', 'EnvironmentTokenManagement'] }],
    ...(options.tls ? { tls: true } : {}),
  });
  const client = new DynatraceClient({
    baseUrl: simulator.url,
    maxConcurrentPerEnvironment: options.maxConcurrentPerEnvironment ?? 5,
    requestTimeoutMs: 5_000,
    ...caOf(simulator),
  });
  const clusterToken = simulator.clusterTokens.admin!;
  const control = simulatorControl(simulator);
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

export interface TestSaasEnvironment {
  simulator: DynatraceSimulator;
  /**
   * The environment's own host, as `https://abc12345.live.dynatrace.com` would be:
   * `http(s)://abc12345.localhost:<port>` (a SaaS domain list with `localhost` takes it).
   */
  url: string;
  environmentId: string;
  /** Layout `saas`: environment APIs at `${url}/api/...`. */
  client: DynatraceClient;
  tokenManagementToken: string;
  stop(): Promise<void>;
  /** Creates an environment token with the given scopes (all by default) through the environment's API. */
  token(scopes?: string[]): Promise<string>;
  stats(): Promise<StatsSnapshot>;
  control<T = unknown>(path: string, body?: unknown): Promise<T>;
}

/** A simulator shaped like one SaaS environment: no cluster API, no `/e/{id}` in front of its API. */
export async function startTestSaasEnvironment(
  options: {
    environmentId?: string;
    knobs?: SimulatorKnobsInput;
    maxConcurrentPerEnvironment?: number;
    tls?: boolean;
  } = {},
): Promise<TestSaasEnvironment> {
  const environmentId = options.environmentId ?? 'abc12345';
  const simulator = await startDynatraceSimulator({
    knobs: { installerSizeBytes: 8 * 1024, ...options.knobs },
    saas: { environmentId },
    ...(options.tls ? { tls: true } : {}),
  });
  const client = new DynatraceClient({
    baseUrl: simulator.saas!.url,
    layout: 'saas',
    maxConcurrentPerEnvironment: options.maxConcurrentPerEnvironment ?? 5,
    requestTimeoutMs: 5_000,
    ...caOf(simulator),
  });
  const tokenManagementToken = simulator.saas!.tokenManagementToken;
  const control = simulatorControl(simulator);
  return {
    simulator,
    url: simulator.saas!.url,
    environmentId,
    client,
    tokenManagementToken,
    stop: () => simulator.stop(),
    control,
    stats: () => control<StatsSnapshot>('/stats'),
    async token(scopes = ALL_ENVIRONMENT_SCOPES) {
      const created = await client
        .environment(environmentId, tokenManagementToken)
        .tokens.create({ name: 'test-automation', scopes });
      return created.token;
    },
  };
}

/** The simulator's certificate for a client to trust, when it serves https. */
export function caOf(simulator: DynatraceSimulator): { caCertificate?: string } {
  return simulator.caFile ? { caCertificate: readFileSync(simulator.caFile, 'utf8') } : {};
}

/** The simulator's `/_sim` API, over http or (trusting its certificate) https; a status of 400 or more throws. */
export function simulatorControl(simulator: DynatraceSimulator) {
  const { caCertificate } = caOf(simulator);
  return async <T>(path: string, body?: unknown): Promise<T> => {
    const response = await got(`${simulator.url}/_sim${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      responseType: 'text',
      throwHttpErrors: false,
      retry: { limit: 0 },
      ...(caCertificate ? { https: { certificateAuthority: caCertificate } } : {}),
    });
    if (response.statusCode >= 400)
      throw new Error(`control ${path} failed with ${response.statusCode}: ${response.body}`);
    return JSON.parse(response.body) as T;
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
