import { ClusterApi } from './cluster-api.js';
import { EnvironmentApi } from './environment-api.js';
import { DynatraceHttp, type DynatraceHttpOptions } from './http-client.js';

/**
 * Entry point: one per worker process, so the per-environment concurrency bound holds across all
 * activities of that worker. Tokens are passed per call site and live only inside activities.
 */
export class DynatraceClient {
  readonly http: DynatraceHttp;

  constructor(options: DynatraceHttpOptions) {
    this.http = new DynatraceHttp(options);
  }

  cluster(clusterToken: string): ClusterApi {
    return new ClusterApi(this.http, clusterToken);
  }

  /** Where the APIs of the client's environment(s) start: below `/e/{id}` on a cluster, at the root on SaaS. */
  get layout(): 'managed' | 'saas' {
    return this.http.options.layout ?? 'managed';
  }

  environment(environmentId: string, environmentToken: string): EnvironmentApi {
    const apiRoot = this.layout === 'saas' ? '/api' : `/e/${encodeURIComponent(environmentId)}/api`;
    return new EnvironmentApi(this.http, { id: environmentId, apiRoot }, environmentToken);
  }
}
