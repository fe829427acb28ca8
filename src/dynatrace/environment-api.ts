import { z } from 'zod';
import { ApiTokensApi } from './api-tokens-api.js';
import { DeploymentApi } from './deployment-api.js';
import { EntitiesApi } from './entities-api.js';
import type { DynatraceHttp } from './http-client.js';
import { ProblemsApi } from './problems-api.js';
import { SettingsApi } from './settings-api.js';

/** The APIs of one environment, all with the same environment token. */
export class EnvironmentApi {
  readonly tokens: ApiTokensApi;
  readonly deployment: DeploymentApi;
  readonly entities: EntitiesApi;
  readonly problems: ProblemsApi;
  readonly settings: SettingsApi;

  constructor(
    private readonly http: DynatraceHttp,
    readonly environmentId: string,
    private readonly token: string,
  ) {
    this.tokens = new ApiTokensApi(http, environmentId, token);
    this.deployment = new DeploymentApi(http, environmentId, token);
    this.entities = new EntitiesApi(http, environmentId, token);
    this.problems = new ProblemsApi(http, environmentId, token);
    this.settings = new SettingsApi(http, environmentId, token);
  }

  /** A cheap call for readiness checks (scope `DataExport` or `ReadConfig`). */
  async clusterVersion(): Promise<string> {
    const path = `/e/${encodeURIComponent(this.environmentId)}/api/v1/config/clusterversion`;
    const response = await this.http.send({ method: 'GET', path, token: this.token, pool: this.environmentId });
    return this.http.parse(z.object({ version: z.string() }), response.body, { method: 'GET', path }).version;
  }
}
