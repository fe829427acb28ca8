import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { badRequest, json, notFound, violation, type SimResponse } from '../http.js';
import { pageSize as pageSizeParam, resolveV2Page, slicePage } from '../pagination.js';
import { environmentOf, type Handler, type Router } from '../router.js';
import type { SimulatorServices } from '../services.js';
import { ALERTING_PROFILE_SCHEMA } from '../notifications.js';
import {
  crossCheck,
  DEFAULT_PROFILE_NAME,
  inServerOrder,
  newObjectId,
  readableValue,
  SCHEMAS,
} from '../settings-schemas.js';
import type { EnvironmentRecord, SettingsObject } from '../state.js';

type ItemResult = {
  code: number;
  objectId?: string;
  error?: { code: number; message: string; constraintViolations: unknown[] };
  invalidValue?: unknown;
};

const itemError = (
  code: number,
  message: string,
  violations: { path: string; message: string }[] = [],
): ItemResult => ({
  code,
  error: {
    code,
    message,
    constraintViolations: violations.map((v) => ({
      path: v.path,
      message: v.message,
      parameterLocation: 'PAYLOAD_BODY',
      location: null,
    })),
  },
});

const FIELDS = [
  'objectId',
  'value',
  'externalId',
  'schemaId',
  'schemaVersion',
  'scope',
  'created',
  'modified',
  'updateToken',
  'author',
  'summary',
];

function objectJson(o: SettingsObject, fields: string[]) {
  const full: Record<string, unknown> = {
    objectId: o.objectId,
    value: readableValue(o),
    externalId: o.externalId,
    schemaId: o.schemaId,
    schemaVersion: o.schemaVersion,
    scope: o.scope,
    created: o.created,
    modified: o.modified,
    updateToken: o.updateToken,
    author: 'api',
    summary: [o.value.name, o.value.displayName].find((v): v is string => typeof v === 'string') ?? o.schemaId,
  };
  return Object.fromEntries(fields.filter((f) => full[f] !== undefined).map((f) => [f, full[f]]));
}

function validateValue(
  environment: EnvironmentRecord,
  schemaId: string,
  value: unknown,
): { value?: Record<string, unknown>; result?: ItemResult } {
  const schema = SCHEMAS[schemaId];
  if (!schema) return { result: itemError(404, `Schema ${schemaId} not found`) };
  const parsed = schema.schema.safeParse(value);
  if (!parsed.success) {
    return {
      result: itemError(
        400,
        'Given property values are invalid',
        parsed.error.issues.map((i) => ({ path: i.path.join('/'), message: i.message })),
      ),
    };
  }
  const issues = crossCheck(environment, schemaId, parsed.data);
  if (issues.length > 0) return { result: itemError(400, 'Given property values are invalid', issues) };
  return { value: inServerOrder(schemaId, parsed.data) };
}

/** Mixed outcomes are 207; otherwise the items' common code (reference §8.1: arrays, not envelopes). */
function arrayResponse(results: ItemResult[]): SimResponse {
  const codes = new Set(results.map((r) => r.code));
  const status = codes.size === 1 ? results[0]!.code : 207;
  return json(status, results);
}

const createItem = z.object({
  schemaId: z.string().min(1),
  scope: z.string().min(1),
  value: z.unknown(),
  schemaVersion: z.string().optional(),
  externalId: z.string().max(500).optional(),
  insertAfter: z.string().optional(),
});

export function registerSettingsRoutes(router: Router, svc: SimulatorServices): void {
  const { stats } = svc;
  const env = (method: string, pattern: string, scopes: string[], handler: Handler) =>
    router.add({ method, pattern, area: 'environment', scopes, handler });

  const findObject = (environment: EnvironmentRecord, id: string) => {
    const object = environment.settings.get(id);
    if (!object) throw notFound(`Settings object ${id} not found`);
    return object;
  };

  env('GET', '/api/v2/settings/objects', ['settings.read'], (ctx) => {
    const environment = environmentOf(ctx);
    const { params, offset } = resolveV2Page(ctx.query);
    const size = pageSizeParam(params.pageSize, 100, 1, 500);
    const schemaIds = params.schemaIds?.split(',').filter(Boolean);
    const scopes = params.scopes?.split(',').filter(Boolean);
    // A cluster that predates the filter does not know the parameter and lists the whole schema (§13).
    const externalIds = svc.knobs().settingsIgnoreExternalIdsFilter
      ? undefined
      : params.externalIds?.split(',').filter(Boolean);
    if (!schemaIds && !externalIds) {
      throw badRequest('schemaIds or externalIds is required', [violation('schemaIds', 'must not be null', 'QUERY')]);
    }
    const fields = (params.fields ?? 'objectId,value').split(',').map((f) => f.trim());
    for (const f of fields) {
      if (!FIELDS.includes(f))
        throw badRequest(`Unknown field ${f}`, [violation('fields', `unknown field ${f}`, 'QUERY')]);
    }
    const objects = [...environment.settings.values()]
      .filter((o) => !schemaIds || schemaIds.includes(o.schemaId))
      .filter((o) => !scopes || scopes.includes(o.scope))
      .filter((o) => !externalIds || (o.externalId !== undefined && externalIds.includes(o.externalId)))
      .sort((a, b) => a.created - b.created);
    const page = slicePage(objects, params, offset, size);
    return json(200, {
      items: page.items.map((o) => objectJson(o, fields)),
      totalCount: objects.length,
      pageSize: size,
      nextPageKey: page.nextPageKey,
    });
  });

  env('GET', '/api/v2/settings/objects/{objectId}', ['settings.read'], (ctx) =>
    json(200, objectJson(findObject(environmentOf(ctx), ctx.params.objectId!), FIELDS)),
  );

  env('POST', '/api/v2/settings/objects', ['settings.write'], (ctx) => {
    const environment = environmentOf(ctx);
    const raw = ctx.body();
    if (!Array.isArray(raw)) {
      throw badRequest('The request body must be an array of settings objects', [violation(null, 'must be an array')]);
    }
    const validateOnly = ctx.query.get('validateOnly') === 'true';
    const results: ItemResult[] = raw.map((item) => {
      const parsed = createItem.safeParse(item);
      if (!parsed.success) {
        return itemError(
          400,
          'Invalid settings object',
          parsed.error.issues.map((i) => ({ path: i.path.join('/'), message: i.message })),
        );
      }
      const { schemaId, scope, externalId } = parsed.data;
      if (scope !== 'environment') return itemError(400, `Scope ${scope} is not valid for ${schemaId}`);
      if (externalId && [...environment.settings.values()].some((o) => o.externalId === externalId)) {
        stats.duplicate('settingsObjects');
        return itemError(409, `An object with externalId ${externalId} already exists`);
      }
      const { value, result } = validateValue(environment, schemaId, parsed.data.value);
      if (result) return result;
      if (validateOnly) return { code: 200 };
      const now = Date.now();
      const object: SettingsObject = {
        objectId: newObjectId(schemaId),
        schemaId,
        schemaVersion: SCHEMAS[schemaId]!.version,
        scope,
        ...(externalId ? { externalId } : {}),
        value: value!,
        created: now,
        modified: now,
        updateToken: randomUUID(),
      };
      environment.settings.set(object.objectId, object);
      stats.create('settingsObjects', environment.id);
      return { code: 200, objectId: object.objectId };
    });
    svc.changed();
    return arrayResponse(results);
  });

  env('PUT', '/api/v2/settings/objects/{objectId}', ['settings.write'], (ctx) => {
    const environment = environmentOf(ctx);
    const object = findObject(environment, ctx.params.objectId!);
    const body = z
      .object({ value: z.unknown(), updateToken: z.string().optional(), schemaVersion: z.string().optional() })
      .safeParse(ctx.body());
    if (!body.success) throw badRequest('Invalid request body', [violation('value', 'must not be null')]);
    if (body.data.updateToken && body.data.updateToken !== object.updateToken) {
      return json(409, itemError(409, 'The object was changed in the meantime (updateToken mismatch)').error);
    }
    const { value, result } = validateValue(environment, object.schemaId, body.data.value);
    if (result) return json(result.code, { error: result.error });
    if (
      object.schemaId === ALERTING_PROFILE_SCHEMA &&
      object.value.name === DEFAULT_PROFILE_NAME &&
      value!.name !== DEFAULT_PROFILE_NAME
    ) {
      // Validator alerting-profile-default-name-unchanged-validator (reference §13).
      const refused = itemError(400, 'Given property values are invalid', [
        {
          path: 'name',
          message:
            "This is the default alerting profile, which is also used for mobile notifications. To avoid losing track of the profile's identity, the name 'Default' is protected from changes.",
        },
      ]);
      return json(400, { error: refused.error });
    }
    object.value = value!;
    object.modified = Date.now();
    object.updateToken = randomUUID();
    stats.create('settingsUpdates', environment.id);
    svc.changed();
    return json(200, { code: 200, objectId: object.objectId });
  });

  env('DELETE', '/api/v2/settings/objects/{objectId}', ['settings.write'], (ctx) => {
    const environment = environmentOf(ctx);
    findObject(environment, ctx.params.objectId!);
    environment.settings.delete(ctx.params.objectId!);
    stats.create('settingsDeletes', environment.id);
    svc.changed();
    return { status: 204 };
  });
}
