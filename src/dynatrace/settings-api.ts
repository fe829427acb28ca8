import { z } from 'zod';
import { DynatraceApiError, DynatraceFailureType, failureTypeForStatus } from './errors.js';
import type { DynatraceHttp, EnvironmentLocation } from './http-client.js';
import { paginateV2 } from './pagination.js';

export const settingsObjectSchema = z.object({
  objectId: z.string(),
  value: z.record(z.string(), z.unknown()),
  externalId: z.string().optional(),
  schemaId: z.string().optional(),
  /**
   * Creation time, to tell the oldest of several objects apart: epoch ms per the docs; an ISO
   * string is read too, and anything else leaves it unknown rather than failing the whole list.
   */
  created: z
    .unknown()
    .transform((v) => (typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : Number.NaN))
    .transform((ms) => (Number.isFinite(ms) ? ms : undefined)),
});
export type SettingsObject = z.infer<typeof settingsObjectSchema>;

const listSchema = z.object({ items: z.array(settingsObjectSchema), nextPageKey: z.string().nullish() });
const itemResultSchema = z.array(
  z.object({
    code: z.number(),
    objectId: z.string().optional(),
    error: z
      .object({
        message: z.string(),
        constraintViolations: z.array(z.object({ path: z.string().nullish(), message: z.string() })).nullish(),
      })
      .optional(),
  }),
);

export interface NewSettingsObject {
  schemaId: string;
  scope: string;
  value: Record<string, unknown>;
  externalId?: string;
}

/** Settings 2.0 objects of one environment (reference §8.1): writes answer arrays, not envelopes. */
export class SettingsApi {
  constructor(
    private readonly http: DynatraceHttp,
    private readonly environment: EnvironmentLocation,
    private readonly token: string,
  ) {}

  private path(suffix = '') {
    return `${this.environment.apiRoot}/v2/settings/objects${suffix}`;
  }

  /**
   * Every page of the matching objects. `externalIds` is a filter only newer clusters apply
   * (reference §13): callers must check `externalId` on what comes back.
   */
  list(options: {
    schemaIds?: string[];
    externalIds?: string[];
    scopes?: string[];
    pageSize?: number;
  }): AsyncGenerator<SettingsObject> {
    return paginateV2(
      this.http,
      {
        path: this.path(),
        token: this.token,
        pool: this.environment.id,
        query: {
          schemaIds: options.schemaIds?.join(','),
          externalIds: options.externalIds?.join(','),
          scopes: options.scopes?.join(','),
          fields: 'objectId,value,externalId,schemaId,created',
          pageSize: options.pageSize ?? 500,
        },
      },
      listSchema,
      (page) => page.items,
    );
  }

  /** Creates the objects; any item the server refused becomes a typed error naming the reason. */
  async create(objects: NewSettingsObject[]): Promise<string[]> {
    const path = this.path();
    const response = await this.http.send({
      method: 'POST',
      path,
      token: this.token,
      pool: this.environment.id,
      json: objects,
      ok: [200, 207],
    });
    const results = this.http.parse(itemResultSchema, response.body, { method: 'POST', path });
    const failed = results.find((r) => r.code >= 300);
    if (failed) {
      throw new DynatraceApiError(
        { method: 'POST', path },
        failed.code,
        failureTypeForStatus(failed.code),
        failed.error?.message ?? `settings object refused with ${failed.code}`,
        (failed.error?.constraintViolations ?? []).map((v) => ({ path: v.path ?? null, message: v.message })),
      );
    }
    return results.map((r) => {
      if (!r.objectId) {
        throw new DynatraceApiError(
          { method: 'POST', path },
          r.code,
          DynatraceFailureType.unexpectedResponse,
          'no objectId returned',
        );
      }
      return r.objectId;
    });
  }

  async update(objectId: string, value: Record<string, unknown>): Promise<void> {
    await this.http.send({
      method: 'PUT',
      path: this.path(`/${encodeURIComponent(objectId)}`),
      token: this.token,
      pool: this.environment.id,
      json: { value },
    });
  }

  async delete(objectId: string): Promise<void> {
    await this.http.send({
      method: 'DELETE',
      path: this.path(`/${encodeURIComponent(objectId)}`),
      token: this.token,
      pool: this.environment.id,
      ok: [204],
    });
  }
}
