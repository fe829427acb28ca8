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

  environment(environmentId: string, environmentToken: string): EnvironmentApi {
    return new EnvironmentApi(this.http, environmentId, environmentToken);
  }
}
