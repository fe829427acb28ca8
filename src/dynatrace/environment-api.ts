import { z } from 'zod';
import { ApiTokensApi } from './api-tokens-api.js';
import { DeploymentApi } from './deployment-api.js';
import { EntitiesApi } from './entities-api.js';
import type { DynatraceHttp, EnvironmentLocation } from './http-client.js';
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
    private readonly location: EnvironmentLocation,
    private readonly token: string,
  ) {
    this.tokens = new ApiTokensApi(http, location, token);
    this.deployment = new DeploymentApi(http, location, token);
    this.entities = new EntitiesApi(http, location, token);
    this.problems = new ProblemsApi(http, location, token);
    this.settings = new SettingsApi(http, location, token);
  }

  get environmentId(): string {
    return this.location.id;
  }

  /** A cheap call for readiness checks (scope `DataExport` or `ReadConfig`). */
  async clusterVersion(): Promise<string> {
    const path = `${this.location.apiRoot}/v1/config/clusterversion`;
    const response = await this.http.send({ method: 'GET', path, token: this.token, pool: this.location.id });
    return this.http.parse(z.object({ version: z.string() }), response.body, { method: 'GET', path }).version;
  }
}
