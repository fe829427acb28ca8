import { ApplicationFailure } from '@temporalio/common';
import type { SecretSource } from '../config/secret.js';
import { FailureType } from '../shared/failure-types.js';
import { DynatraceClient } from './client.js';
import { DEFAULT_SAAS_DOMAINS, saasUrlRefusal, type EnvironmentUrlRules } from './environment-url.js';

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

/** A registry record that would send a token where tokens do not go; a retry cannot change that. */
export class EnvironmentEndpointRefusedError extends ApplicationFailure {
  constructor(message: string) {
    super(message, FailureType.EnvironmentUrlRefused, true);
  }
}

/**
 * One Dynatrace client per cluster and per SaaS host, per worker: each keeps its own concurrency
 * bounds (per environment, and for the cluster in all), CA and timeouts. A Managed environment is
 * reached at its configured cluster's URL; a SaaS one at its registry URL, and only if that URL keeps
 * the rules (https, a host below a configured SaaS domain), so no record can send a token elsewhere.
 */
export class DynatraceClients {
  private readonly clusters = new Map<string, { endpoint: ClusterEndpoint; client: DynatraceClient }>();
  private readonly saas = new Map<string, DynatraceClient>();
  /** Where tokens may go besides the clusters; without options, Dynatrace's SaaS domains and no http. */
  readonly rules: EnvironmentUrlRules;

  constructor(
    endpoints: readonly ClusterEndpoint[],
    private readonly defaults: {
      requestTimeoutMs: number;
      maxConcurrentPerEnvironment: number;
      saasMaxConcurrentRequests?: number;
      /** AUTOPILOT_SAAS_DOMAINS. */
      saasDomains?: readonly string[];
      /** Only the sandbox's clients speak plain http (to its simulator). */
      sandbox?: boolean;
    },
  ) {
    this.rules = {
      saasDomains: defaults.saasDomains ?? DEFAULT_SAAS_DOMAINS,
      sandbox: defaults.sandbox ?? false,
    };
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
   * The client for an environment: a Managed one's is its cluster's (the URL of the configuration,
   * whatever the record says); a SaaS one's starts its API paths at the environment's own URL, which
   * must keep the rules. A Managed record that names no cluster is refused: its URL would be the
   * record's say-so.
   */
  forEnvironment(environment: EnvironmentEndpoint): DynatraceClient {
    if (environment.kind === 'managed') {
      if (environment.cluster === undefined) {
        throw new EnvironmentEndpointRefusedError(
          `no token goes to ${originOf(environment.apiUrl)}: a Managed environment is reached through its configured cluster, and this record names none`,
        );
      }
      return this.cluster(environment.cluster).client;
    }
    const refusal = saasUrlRefusal(environment.apiUrl, this.rules);
    if (refusal)
      throw new EnvironmentEndpointRefusedError(`no token goes to ${originOf(environment.apiUrl)}: ${refusal}`);
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

/** A URL without its path, for messages (or the text itself, quoted, when it is no URL). */
function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return JSON.stringify(url);
  }
}
