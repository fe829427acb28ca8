import type { SecretSource } from '../config/secret.js';
import { DynatraceClient } from './client.js';

/** A Managed cluster Autopilot reaches, by the name operators give it. */
export interface ClusterEndpoint {
  name: string;
  url: string;
  token: SecretSource;
  caCertificate?: string;
  /** Requests in flight to this cluster in all, per worker. */
  maxConcurrentRequests: number;
  maxConcurrentRequestsPerEnvironment: number;
}

/** Where an environment of the registry is reached. */
export interface EnvironmentEndpoint {
  kind: 'managed' | 'saas';
  cluster?: string;
  apiUrl: string;
}

export class UnknownClusterError extends Error {
  override name = 'UnknownClusterError';
}

/**
 * One Dynatrace client per cluster and per SaaS host, per worker: each keeps its own concurrency
 * bounds (per environment, and for the cluster in all), CA and timeouts. URLs come from the
 * registry's records, never from one cluster setting.
 */
export class DynatraceClients {
  private readonly clusters = new Map<string, { endpoint: ClusterEndpoint; client: DynatraceClient }>();
  private readonly saas = new Map<string, DynatraceClient>();

  constructor(
    endpoints: readonly ClusterEndpoint[],
    private readonly defaults: {
      requestTimeoutMs: number;
      maxConcurrentPerEnvironment: number;
      saasMaxConcurrentRequests?: number;
    },
  ) {
    for (const endpoint of endpoints) {
      this.clusters.set(endpoint.name, {
        endpoint,
        client: new DynatraceClient({
          baseUrl: endpoint.url,
          maxConcurrentPerEnvironment: endpoint.maxConcurrentRequestsPerEnvironment,
          maxConcurrentTotal: endpoint.maxConcurrentRequests,
          requestTimeoutMs: defaults.requestTimeoutMs,
          ...(endpoint.caCertificate ? { caCertificate: endpoint.caCertificate } : {}),
        }),
      });
    }
  }

  get clusterNames(): string[] {
    return [...this.clusters.keys()];
  }

  /** A cluster by name; without a name the only one there is. */
  cluster(name?: string): { name: string; url: string; token: SecretSource; client: DynatraceClient } {
    const found =
      name === undefined
        ? this.clusters.size === 1
          ? [...this.clusters.values()][0]
          : undefined
        : this.clusters.get(name);
    if (!found) {
      const known = this.clusterNames.join(', ') || 'none configured';
      throw new UnknownClusterError(
        name === undefined ? `name the cluster (one of: ${known})` : `no cluster named ${name} (configured: ${known})`,
      );
    }
    const { endpoint, client } = found;
    return { name: endpoint.name, url: endpoint.url, token: endpoint.token, client };
  }

  /**
   * The client for an environment: its cluster's; or, for a SaaS environment and one on a cluster we
   * hold no cluster token for, one whose API paths start at the environment's own URL.
   */
  forEnvironment(environment: EnvironmentEndpoint): DynatraceClient {
    if (environment.kind === 'managed' && environment.cluster !== undefined) {
      return this.cluster(environment.cluster).client;
    }
    let client = this.saas.get(environment.apiUrl);
    if (!client) {
      client = new DynatraceClient({
        baseUrl: environment.apiUrl,
        layout: 'saas',
        maxConcurrentPerEnvironment: this.defaults.maxConcurrentPerEnvironment,
        requestTimeoutMs: this.defaults.requestTimeoutMs,
        ...(this.defaults.saasMaxConcurrentRequests
          ? { maxConcurrentTotal: this.defaults.saasMaxConcurrentRequests }
          : {}),
      });
      this.saas.set(environment.apiUrl, client);
    }
    return client;
  }
}
