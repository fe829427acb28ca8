import { z } from 'zod';
import { DynatraceApiError, DynatraceFailureType } from './errors.js';
import type { DynatraceHttp, EnvironmentLocation } from './http-client.js';
import { paginateV2 } from './pagination.js';

export const apiTokenMetadataSchema = z.object({
  id: z.string(),
  name: z.string(),
  enabled: z.boolean().optional(),
  owner: z.string().optional(),
  creationDate: z.string().optional(),
  expirationDate: z.string().optional(),
  lastUsedDate: z.string().optional(),
  scopes: z.array(z.string()).optional(),
  personalAccessToken: z.boolean().optional(),
});
export type ApiTokenMetadata = z.infer<typeof apiTokenMetadataSchema>;

const createdSchema = z.object({ id: z.string(), token: z.string(), expirationDate: z.string().optional() });
export type CreatedApiToken = z.infer<typeof createdSchema>;

const listSchema = z.object({ apiTokens: z.array(apiTokenMetadataSchema), nextPageKey: z.string().nullish() });

/** Access tokens API v2 of one environment (reference §3.1); the secret is returned only on create. */
export class ApiTokensApi {
  constructor(
    private readonly http: DynatraceHttp,
    private readonly environment: EnvironmentLocation,
    private readonly token: string,
  ) {}

  private path(suffix = '') {
    return `${this.environment.apiRoot}/v2/apiTokens${suffix}`;
  }

  async create(input: { name: string; scopes: string[]; expirationDate?: Date }): Promise<CreatedApiToken> {
    const path = this.path();
    const response = await this.http.send({
      method: 'POST',
      path,
      token: this.token,
      pool: this.environment.id,
      json: {
        name: input.name,
        scopes: input.scopes,
        ...(input.expirationDate ? { expirationDate: input.expirationDate.toISOString() } : {}),
      },
      ok: [201],
    });
    return this.http.parse(createdSchema, response.body, { method: 'POST', path });
  }

  /** No name filter exists on the server; callers match names client-side. */
  list(options: { selector?: string; pageSize?: number } = {}): AsyncGenerator<ApiTokenMetadata> {
    return paginateV2(
      this.http,
      {
        path: this.path(),
        token: this.token,
        pool: this.environment.id,
        query: {
          apiTokenSelector: options.selector,
          fields: '+expirationDate,+scopes',
          pageSize: options.pageSize ?? 1000,
        },
      },
      listSchema,
      (page) => page.apiTokens,
    );
  }

  async get(id: string): Promise<ApiTokenMetadata | undefined> {
    const path = this.path(`/${encodeURIComponent(id)}`);
    try {
      const response = await this.http.send({ method: 'GET', path, token: this.token, pool: this.environment.id });
      return this.http.parse(apiTokenMetadataSchema, response.body, { method: 'GET', path });
    } catch (err) {
      if (err instanceof DynatraceApiError && err.type === DynatraceFailureType.notFound) return undefined;
      throw err;
    }
  }

  /** Idempotent: revoking a token that is already gone reports `false`. */
  async revoke(id: string): Promise<boolean> {
    try {
      await this.http.send({
        method: 'DELETE',
        path: this.path(`/${encodeURIComponent(id)}`),
        token: this.token,
        pool: this.environment.id,
        ok: [204],
      });
      return true;
    } catch (err) {
      if (err instanceof DynatraceApiError && err.type === DynatraceFailureType.notFound) return false;
      throw err;
    }
  }

  /** Metadata (scopes, expiry) of a token value, the way Dynatrace Operator verifies tokens. */
  async lookup(tokenValue: string): Promise<ApiTokenMetadata> {
    const path = this.path('/lookup');
    const response = await this.http.send({
      method: 'POST',
      path,
      token: this.token,
      pool: this.environment.id,
      json: { token: tokenValue },
    });
    return this.http.parse(apiTokenMetadataSchema, response.body, { method: 'POST', path });
  }
}
