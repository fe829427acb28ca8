import { z } from 'zod';
import { DynatraceApiError, DynatraceFailureType, failureTypeForStatus } from './errors.js';
import type { DynatraceHttp, EnvironmentLocation } from './http-client.js';
import { paginateV2 } from './pagination.js';

export const settingsObjectSchema = z.object({
  objectId: z.string(),
  value: z.record(z.string(), z.unknown()),
  externalId: z.string().optional(),
  schemaId: z.string().optional(),
  scope: z.string().optional(),
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
          fields: 'objectId,value,externalId,schemaId,scope,created',
          pageSize: options.pageSize ?? 500,
        },
      },
      listSchema,
      (page) => page.items,
    );
  }

  /** Creates the objects; any item the server refused becomes a typed error naming the reason. */
  async create(objects: NewSettingsObject[]): Promise<string[]> {
    const results = await this.createEach(objects);
    const failed = results.find((r) => r.error);
    if (failed?.error) throw failed.error;
    return results.map((r) => r.objectId!);
  }

  /**
   * Creates the objects in one call and says for each whether it was created (its objectId) or
   * refused (a typed error with the settings API's violation messages): a 207 creates some and
   * refuses others, and the caller must know which.
   */
  async createEach(objects: NewSettingsObject[]): Promise<{ objectId?: string; error?: DynatraceApiError }[]> {
    const path = this.path();
    const response = await this.http.send({
      method: 'POST',
      path,
      token: this.token,
      pool: this.environment.id,
      json: objects,
      ok: [200, 207, 400, 404, 409],
    });
    if (response.status >= 400 && !Array.isArray(response.body)) {
      // The whole request was refused (an envelope, not per-item results).
      const envelope = response.body as { error?: { message?: string } } | undefined;
      throw new DynatraceApiError(
        { method: 'POST', path },
        response.status,
        failureTypeForStatus(response.status),
        envelope?.error?.message ?? `settings objects refused with ${response.status}`,
      );
    }
    const results = this.http.parse(itemResultSchema, response.body, { method: 'POST', path });
    if (results.length !== objects.length) {
      throw new DynatraceApiError(
        { method: 'POST', path },
        response.status,
        DynatraceFailureType.unexpectedResponse,
        `${results.length} result(s) for ${objects.length} object(s)`,
      );
    }
    return results.map((r) => {
      if (r.code >= 300) {
        return {
          error: new DynatraceApiError(
            { method: 'POST', path },
            r.code,
            failureTypeForStatus(r.code),
            r.error?.message ?? `settings object refused with ${r.code}`,
            (r.error?.constraintViolations ?? []).map((v) => ({ path: v.path ?? null, message: v.message })),
          ),
        };
      }
      if (!r.objectId) {
        return {
          error: new DynatraceApiError(
            { method: 'POST', path },
            r.code,
            DynatraceFailureType.unexpectedResponse,
            'no objectId returned',
          ),
        };
      }
      return { objectId: r.objectId };
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
