import { z } from 'zod';
import { badRequest, json, noContent, notFound, violation } from '../http.js';
import { pageSize as pageSizeParam, resolveV2Page, slicePage } from '../pagination.js';
import { environmentOf, type Handler, type Router } from '../router.js';
import type { SimulatorServices } from '../services.js';
import type { EnvironmentRecord, EnvironmentToken } from '../state.js';
import { ENVIRONMENT_SCOPES } from '../tokens.js';
import { validateBody } from '../validation.js';

const UNIT_MS: Record<string, number> = {
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  M: 2_592_000_000,
  y: 31_536_000_000,
};

/** `expirationDate`: UTC milliseconds, ISO 8601, or relative like `now+14d` (reference §3.1). */
export function parseExpiration(value: string | number | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  let at: number;
  const relative = typeof value === 'string' ? /^now\+(\d+)([mhdwMy])$/.exec(value) : null;
  if (relative) at = now + Number(relative[1]) * UNIT_MS[relative[2]!]!;
  else if (typeof value === 'number' || /^\d+$/.test(value)) at = Number(value);
  else at = Date.parse(value);
  if (Number.isNaN(at)) {
    throw badRequest('expirationDate is not a valid date', [violation('expirationDate', 'invalid date')]);
  }
  if (at <= now) {
    throw badRequest('expirationDate must not be in the past', [violation('expirationDate', 'must be in the future')]);
  }
  return at;
}

const scopesSchema = z
  .array(z.string())
  .min(1, 'must not be empty')
  .superRefine((scopes, ctx) => {
    for (const scope of scopes) {
      if (!ENVIRONMENT_SCOPES.includes(scope)) ctx.addIssue({ code: 'custom', message: `unknown scope ${scope}` });
    }
  });

const createBody = z.object({
  name: z.string().min(1, 'must not be empty'),
  scopes: scopesSchema,
  expirationDate: z.union([z.string(), z.number()]).optional(),
  personalAccessToken: z.boolean().optional(),
});

const OPTIONAL_FIELDS = [
  'expirationDate',
  'lastUsedDate',
  'scopes',
  'personalAccessToken',
  'modifiedDate',
  'lastUsedIpAddress',
];

function tokenJson(t: EnvironmentToken, fields: Set<string>) {
  const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
  const optional: Record<string, unknown> = {
    expirationDate: iso(t.expirationDate),
    lastUsedDate: iso(t.lastUsedDate),
    scopes: t.scopes,
    personalAccessToken: t.personalAccessToken,
    modifiedDate: iso(t.creationDate),
  };
  return {
    id: t.id,
    name: t.name,
    enabled: t.enabled,
    owner: t.owner,
    creationDate: new Date(t.creationDate).toISOString(),
    ...Object.fromEntries(Object.entries(optional).filter(([k, v]) => fields.has(k) && v !== undefined)),
  };
}

function parseFields(fields: string | undefined): Set<string> {
  const set = new Set<string>();
  for (const f of (fields ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const name = f.replace(/^[+-]/, '');
    if (!OPTIONAL_FIELDS.includes(name) && !['id', 'name', 'enabled', 'owner', 'creationDate'].includes(name)) {
      throw badRequest(`Unknown field ${name}`, [violation('fields', `unknown field ${name}`, 'QUERY')]);
    }
    set.add(name);
  }
  return set;
}

/** `owner("x")`, `personalAccessToken(false)`, `scope("a","b")` (reference §3.1; no name filter). */
function tokenSelector(selector: string | undefined): (t: EnvironmentToken) => boolean {
  if (!selector) return () => true;
  const criteria = [...selector.matchAll(/(\w+)\(([^)]*)\)/g)].map(([, name, args]) => ({
    name: name!,
    values: [...(args ?? '').matchAll(/"([^"]*)"|([^,\s]+)/g)].map((m) => m[1] ?? m[2]!),
  }));
  return (t) =>
    criteria.every(({ name, values }) => {
      if (name === 'owner') return values.includes(t.owner);
      if (name === 'personalAccessToken') return String(t.personalAccessToken) === values[0];
      if (name === 'scope') return values.every((v) => t.scopes.includes(v));
      throw badRequest(`Unknown apiTokenSelector criterion ${name}`, [
        violation('apiTokenSelector', 'unknown criterion', 'QUERY'),
      ]);
    });
}

export function registerApiTokenRoutes(router: Router, svc: SimulatorServices): void {
  const { state, stats } = svc;
  const env = (method: string, pattern: string, scopes: string[], handler: Handler) =>
    router.add({ method, pattern, area: 'environment', scopes, handler });

  const findToken = (environment: EnvironmentRecord, id: string) => {
    const token = environment.tokens.get(id);
    if (!token) throw notFound(`Token ${id} not found`);
    return token;
  };

  env('POST', '/api/v2/apiTokens', ['apiTokens.write'], (ctx) => {
    const environment = environmentOf(ctx);
    const body = validateBody(createBody, ctx.body());
    const expirationDate = parseExpiration(body.expirationDate, Date.now() + svc.knobs().clockOffsetMs);
    const token = state.createEnvironmentToken(environment, {
      name: body.name,
      scopes: body.scopes,
      owner: ctx.principal,
      kind: 'api',
      ...(expirationDate ? { expirationDate } : {}),
    });
    stats.create('apiTokens', environment.id);
    svc.changed();
    return json(201, {
      id: token.id,
      token: token.token,
      ...(token.expirationDate ? { expirationDate: new Date(token.expirationDate).toISOString() } : {}),
    });
  });

  env('GET', '/api/v2/apiTokens', ['apiTokens.read'], (ctx) => {
    const environment = environmentOf(ctx);
    const { params, offset } = resolveV2Page(ctx.query);
    const size = pageSizeParam(params.pageSize, 200, 100, 10_000);
    const fields = parseFields(params.fields);
    const tokens = [...environment.tokens.values()]
      .filter(tokenSelector(params.apiTokenSelector))
      .sort((a, b) => a.creationDate - b.creationDate || a.id.localeCompare(b.id));
    const page = slicePage(tokens, params, offset, size);
    return json(200, {
      totalCount: tokens.length,
      pageSize: size,
      nextPageKey: page.nextPageKey,
      apiTokens: page.items.map((t) => tokenJson(t, fields)),
    });
  });

  env('POST', '/api/v2/apiTokens/lookup', ['apiTokens.read'], (ctx) => {
    const environment = environmentOf(ctx);
    const body = validateBody(z.object({ token: z.string().min(1) }), ctx.body());
    const owner = state.findToken(body.token);
    if (!owner || owner.kind !== 'environment' || owner.environmentId !== environment.id) {
      throw notFound('Token not found');
    }
    return json(200, tokenJson(owner.token, new Set(OPTIONAL_FIELDS)));
  });

  env('GET', '/api/v2/apiTokens/{id}', ['apiTokens.read'], (ctx) =>
    json(200, tokenJson(findToken(environmentOf(ctx), ctx.params.id!), new Set(OPTIONAL_FIELDS))),
  );

  env('PUT', '/api/v2/apiTokens/{id}', ['apiTokens.write'], (ctx) => {
    const token = findToken(environmentOf(ctx), ctx.params.id!);
    const body = validateBody(
      z.object({
        name: z.string().min(1).optional(),
        enabled: z.boolean().optional(),
        scopes: scopesSchema.optional(),
      }),
      ctx.body(),
    );
    if (body.name) token.name = body.name;
    if (body.enabled !== undefined) token.enabled = body.enabled;
    if (body.scopes) token.scopes = body.scopes;
    svc.changed();
    return noContent();
  });

  env('DELETE', '/api/v2/apiTokens/{id}', ['apiTokens.write'], (ctx) => {
    const environment = environmentOf(ctx);
    findToken(environment, ctx.params.id!);
    state.revokeEnvironmentToken(environment, ctx.params.id!);
    stats.create('apiTokensRevoked', environment.id);
    svc.changed();
    return noContent();
  });

  // Tokens API v1 (deprecated, still served; reference §3.2).
  env('POST', '/api/v1/tokens', ['TenantTokenManagement'], (ctx) => {
    const environment = environmentOf(ctx);
    const body = validateBody(
      z.object({
        name: z.string().min(1),
        scopes: scopesSchema,
        expiresIn: z
          .object({
            value: z.number().int().positive(),
            unit: z.enum(['DAYS', 'HOURS', 'MINUTES', 'SECONDS', 'MILLIS']),
          })
          .optional(),
      }),
      ctx.body(),
    );
    const unitMs = { DAYS: 86_400_000, HOURS: 3_600_000, MINUTES: 60_000, SECONDS: 1000, MILLIS: 1 };
    const token = state.createEnvironmentToken(environment, {
      name: body.name,
      scopes: body.scopes,
      owner: ctx.principal,
      kind: 'v1',
      ...(body.expiresIn
        ? {
            expirationDate: Date.now() + svc.knobs().clockOffsetMs + body.expiresIn.value * unitMs[body.expiresIn.unit],
          }
        : {}),
    });
    stats.create('apiTokens', environment.id);
    svc.changed();
    if ((ctx.req.headers.accept ?? '').includes('text/plain')) {
      return { status: 201, raw: token.token, contentType: 'text/plain' };
    }
    return json(201, { token: token.token });
  });

  env('GET', '/api/v1/config/clusterversion', ['DataExport', 'ReadConfig'], () =>
    json(200, { version: state.installerVersions.at(-1) }),
  );
}
