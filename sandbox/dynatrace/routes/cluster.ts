import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { badRequest, HttpError, json, noContent, notFound, violation } from '../http.js';
import { resolveV2Page, pageSize as pageSizeParam, slicePage } from '../pagination.js';
import type { Handler, Router } from '../router.js';
import type { SimulatorServices } from '../services.js';
import type { EnvironmentRecord, GroupRecord } from '../state.js';
import { validateBody, queryFlag } from '../validation.js';
import { GROUP_PERMISSIONS } from '../../../src/shared/onboarding.js';
import { defaultAlertingProfile } from '../settings-schemas.js';

const ENVIRONMENT_ID = /^[a-zA-Z0-9_-]{1,70}$/;

const environmentBody = z.object({
  name: z.string().min(1, 'must not be empty').max(100, 'size must be between 1 and 100'),
  id: z.string().optional(),
  trial: z.boolean().optional(),
  state: z.enum(['ENABLED', 'DISABLED']).optional(),
  tags: z.array(z.string().max(100, 'a tag must have at most 100 characters')).optional(),
  quotas: z.record(z.string(), z.unknown()).optional(),
  storage: z.record(z.string(), z.unknown()).optional(),
  creationDate: z.string().optional(),
});

function environmentJson(e: EnvironmentRecord) {
  return {
    id: e.id,
    name: e.name,
    trial: e.trial,
    state: e.state,
    tags: e.tags,
    creationDate: e.creationDate,
    ...(e.quotas ? { quotas: e.quotas } : {}),
    ...(e.storage ? { storage: e.storage } : {}),
  };
}

/** An omitted quota object is left as is; inside a sent one, omitted limits become unlimited (§1.4). */
function mergeQuotas(current: Record<string, unknown> | undefined, sent: Record<string, unknown> | undefined) {
  if (!sent) return current;
  return { ...current, ...sent };
}

// The permissions the cluster knows are the ones onboarding may grant (reference §2).
const groupBody = z.object({
  id: z.string().optional(),
  name: z.string().min(1, 'must not be empty'),
  isClusterAdminGroup: z.boolean({ message: 'must not be null' }),
  isAccessAccount: z.boolean().optional(),
  isManageAccount: z.boolean().optional(),
  ldapGroupNames: z.array(z.string()).nullish(),
  ssoGroupNames: z.array(z.string()).nullish(),
  accessRight: z.partialRecord(z.enum(GROUP_PERMISSIONS), z.array(z.string())).nullish(),
});

export function registerClusterRoutes(router: Router, svc: SimulatorServices): void {
  const { state, stats } = svc;
  const cluster = (method: string, pattern: string, scopes: string[], handler: Handler) =>
    router.add({ method, pattern, area: 'cluster', scopes, handler });

  const findEnvironment = (id: string) => {
    const environment = state.environments.get(id);
    if (!environment) throw notFound(`Environment ${id} not found`);
    return environment;
  };

  const createEnvironment = (id: string, body: z.infer<typeof environmentBody>) => {
    const environment = state.createEnvironment({
      id,
      name: body.name,
      state: body.state ?? 'ENABLED',
      trial: body.trial ?? false,
      tags: body.tags ?? [],
      ...(body.quotas ? { quotas: body.quotas } : {}),
      ...(body.storage ? { storage: body.storage } : {}),
    });
    const profile = defaultAlertingProfile();
    environment.settings.set(profile.objectId, profile);
    stats.create('environments', id);
    return environment;
  };

  const issueTokenManagementToken = (environment: EnvironmentRecord, owner: string, expiresInMs?: number) => {
    stats.create('tokenManagementTokens', environment.id);
    return state.createEnvironmentToken(environment, {
      name: 'Token management token',
      scopes: ['apiTokens.read', 'apiTokens.write', 'TenantTokenManagement'],
      owner,
      kind: 'tokenManagement',
      ...(expiresInMs ? { expirationDate: Date.now() + svc.knobs().clockOffsetMs + expiresInMs } : {}),
    });
  };

  cluster('PUT', '/api/cluster/v2/environments/{id}', ['ServiceProviderAPI'], (ctx) => {
    const id = ctx.params.id!;
    if (!ENVIRONMENT_ID.test(id)) {
      throw badRequest('Invalid environment id', [violation('id', 'must match [a-zA-Z0-9_-]{1,70}', 'PATH')]);
    }
    const body = validateBody(environmentBody, ctx.body());
    if (body.id !== undefined && body.id !== id) {
      throw badRequest('The id in the body does not match the id in the path', [
        violation('id', 'must match the path'),
      ]);
    }
    const createToken = queryFlag(ctx.query.get('createToken'), 'createToken');
    const existing = state.environments.get(id);
    if (existing) {
      stats.duplicate('environments');
      existing.name = body.name;
      if (body.state) existing.state = body.state;
      if (body.trial !== undefined) existing.trial = body.trial;
      if (body.tags) existing.tags = body.tags;
      const quotas = mergeQuotas(existing.quotas, body.quotas);
      if (quotas) existing.quotas = quotas;
      if (body.storage) existing.storage = { ...existing.storage, ...body.storage };
      svc.changed();
      return noContent();
    }
    const environment = createEnvironment(id, body);
    const token = createToken ? issueTokenManagementToken(environment, ctx.principal) : undefined;
    svc.changed();
    return json(201, { id, name: environment.name, ...(token ? { tokenManagementToken: token.token } : {}) });
  });

  cluster('POST', '/api/cluster/v2/environments', ['ServiceProviderAPI'], (ctx) => {
    const body = validateBody(environmentBody, ctx.body());
    if (body.id !== undefined) {
      throw badRequest('The id must not be provided on creation', [violation('id', 'must be null')]);
    }
    const id = randomUUID();
    const environment = createEnvironment(id, body);
    const token = queryFlag(ctx.query.get('createToken'), 'createToken')
      ? issueTokenManagementToken(environment, ctx.principal)
      : undefined;
    svc.changed();
    return json(
      201,
      { id, name: environment.name, ...(token ? { tokenManagementToken: token.token } : {}) },
      { Location: `${svc.baseUrl()}/api/cluster/v2/environments/${id}` },
    );
  });

  cluster('GET', '/api/cluster/v2/environments', ['ServiceProviderAPI'], (ctx) => {
    const { params, offset } = resolveV2Page(ctx.query);
    const size = pageSizeParam(params.pageSize, 100, 1, 1000);
    let environments = [...state.environments.values()];
    if (params.filter) environments = environments.filter(environmentFilter(params.filter));
    const sort = params.sort ?? 'name';
    const key = sort.replace(/^-/, '');
    if (key !== 'name' && key !== 'creationDate') {
      throw badRequest('sort must be name, -name, creationDate or -creationDate', [
        violation('sort', 'invalid', 'QUERY'),
      ]);
    }
    environments.sort(
      (a, b) => (key === 'name' ? a.name.localeCompare(b.name) : a.createdAt - b.createdAt) || a.id.localeCompare(b.id),
    );
    if (sort.startsWith('-')) environments.reverse();
    const page = slicePage(environments, params, offset, size);
    return json(200, {
      environments: page.items.map(environmentJson),
      totalCount: environments.length,
      pageSize: size,
      nextPageKey: page.nextPageKey,
    });
  });

  cluster('GET', '/api/cluster/v2/environments/{id}', ['ServiceProviderAPI'], (ctx) =>
    json(200, environmentJson(findEnvironment(ctx.params.id!))),
  );

  cluster('DELETE', '/api/cluster/v2/environments/{id}', ['ServiceProviderAPI'], (ctx) => {
    const environment = findEnvironment(ctx.params.id!);
    if (environment.state !== 'DISABLED') {
      throw badRequest('The environment must be disabled before it can be deleted');
    }
    state.deleteEnvironment(environment.id);
    svc.changed();
    return noContent();
  });

  const expiresIn = z
    .object({
      name: z.string().min(1).optional(),
      expiresIn: z
        .object({
          value: z.number().int().positive(),
          unit: z.enum(['DAYS', 'HOURS', 'MILLIS', 'MINUTES', 'SECONDS']).optional(),
        })
        .optional(),
    })
    .optional();
  const UNIT_MS = { DAYS: 86_400_000, HOURS: 3_600_000, MINUTES: 60_000, SECONDS: 1000, MILLIS: 1 };

  cluster('POST', '/api/cluster/v2/environments/{id}/tokenManagementToken', ['EnvironmentTokenManagement'], (ctx) => {
    const environment = findEnvironment(ctx.params.id!);
    const body = validateBody(expiresIn, ctx.rawBody.length > 0 ? ctx.body() : undefined);
    const ms = body?.expiresIn ? body.expiresIn.value * UNIT_MS[body.expiresIn.unit ?? 'MILLIS'] : undefined;
    const token = issueTokenManagementToken(environment, ctx.principal, ms);
    if (body?.name) token.name = body.name;
    svc.changed();
    return json(
      201,
      { token: token.token },
      { Location: `${svc.baseUrl()}/e/${environment.id}/api/v2/apiTokens/${token.id}` },
    );
  });

  // --- user groups (Cluster API v1, reference §2) ---------------------------------------------

  /**
   * The 2022-24 spec (reference §2, §13): `isAccessAccount` / `isManageAccount` are write-only and
   * never read back; what a read shows instead are the read-only `has…Role` flags.
   */
  const groupJson = ({ isAccessAccount, isManageAccount, ...g }: GroupRecord) => ({
    ...g,
    hasAccessAccountRole: isAccessAccount,
    hasManageAccountAndViewProductUsageRole: isManageAccount,
  });

  const checkAccessRight = (accessRight: Record<string, string[]> | null | undefined) => {
    for (const [permission, envs] of Object.entries(accessRight ?? {})) {
      for (const id of envs) {
        if (!state.environments.has(id)) {
          throw badRequest(`Unknown environment ${id} in accessRight.${permission}`, [
            violation(`accessRight.${permission}`, `environment ${id} does not exist`),
          ]);
        }
      }
    }
  };

  const groupIdFor = (name: string) => {
    const base = name.toLowerCase().replace(/[^a-z0-9]/g, '') || 'group';
    let id = base;
    for (let n = 2; state.groups.has(id); n++) id = `${base}${n}`;
    return id;
  };

  cluster('GET', '/api/v1.0/onpremise/groups', ['ServiceProviderAPI'], () =>
    json(200, [...state.groups.values()].map(groupJson)),
  );

  cluster('GET', '/api/v1.0/onpremise/groups/{groupId}', ['ServiceProviderAPI'], (ctx) => {
    const group = state.groups.get(ctx.params.groupId!);
    if (!group) throw notFound(`Group ${ctx.params.groupId} not found`);
    return json(200, groupJson(group));
  });

  cluster('POST', '/api/v1.0/onpremise/groups', ['ServiceProviderAPI'], (ctx) => {
    const body = validateBody(groupBody, ctx.body());
    if (body.id) throw badRequest('The group id must not be set on creation', [violation('id', 'must be empty')]);
    if ([...state.groups.values()].some((g) => g.name === body.name)) {
      stats.duplicate('groups');
      throw new HttpError(406, `Group with name ${body.name} already exists`);
    }
    checkAccessRight(body.accessRight);
    const group: GroupRecord = {
      id: groupIdFor(body.name),
      name: body.name,
      isClusterAdminGroup: body.isClusterAdminGroup,
      isAccessAccount: body.isAccessAccount ?? false,
      isManageAccount: body.isManageAccount ?? false,
      ldapGroupNames: body.ldapGroupNames ?? [],
      ssoGroupNames: body.ssoGroupNames ?? [],
      accessRight: { ...body.accessRight },
    };
    state.groups.set(group.id, group);
    stats.create('groups');
    svc.changed();
    return json(200, groupJson(group));
  });

  cluster('PUT', '/api/v1.0/onpremise/groups', ['ServiceProviderAPI'], (ctx) => {
    const body = validateBody(groupBody, ctx.body());
    if (!body.id) throw badRequest('The group id is required', [violation('id', 'must not be empty')]);
    const group = state.groups.get(body.id);
    if (!group) throw new HttpError(406, `Group ${body.id} does not exist`);
    if ([...state.groups.values()].some((g) => g.name === body.name && g.id !== body.id)) {
      throw badRequest(`Another group is already named ${body.name}`, [violation('name', 'must be unique')]);
    }
    checkAccessRight(body.accessRight);
    Object.assign(group, {
      name: body.name,
      isClusterAdminGroup: body.isClusterAdminGroup,
      // PUT replaces the whole group. Whether an omitted write-only flag is kept or reset is [U]
      // (reference §13); the simulator takes the pessimistic reading and resets it to false, so a
      // client that only sends back what it read loses the flag here first.
      isAccessAccount: body.isAccessAccount ?? false,
      isManageAccount: body.isManageAccount ?? false,
      ldapGroupNames: body.ldapGroupNames ?? [],
      ssoGroupNames: body.ssoGroupNames ?? [],
      accessRight: { ...body.accessRight },
    });
    stats.create('groupUpdates');
    svc.changed();
    return json(200, groupJson(group));
  });

  cluster('DELETE', '/api/v1.0/onpremise/groups/{groupId}', ['ServiceProviderAPI'], (ctx) => {
    const group = state.groups.get(ctx.params.groupId!);
    if (!group) return { status: 200 };
    state.groups.delete(group.id);
    svc.changed();
    return json(200, groupJson(group));
  });
}

/** `name(x)`, `trial(true)`, `state(ENABLED)`, `tag(a,b)`: comma-joined, ANDed (reference §1.6). */
function environmentFilter(filter: string): (e: EnvironmentRecord) => boolean {
  const criteria = [...filter.matchAll(/(\w+)\(([^)]*)\)/g)];
  if (criteria.length === 0) throw badRequest('Invalid filter', [violation('filter', 'invalid syntax', 'QUERY')]);
  return (e) =>
    criteria.every(([, name, arg]) => {
      const value = arg ?? '';
      switch (name) {
        case 'name':
          return e.name.toLowerCase().includes(value.toLowerCase());
        case 'trial':
          return String(e.trial) === value;
        case 'state':
          return e.state === value;
        case 'tag':
          return value.split(',').some((t) => e.tags.includes(t.trim()));
        default:
          throw badRequest(`Unknown filter criterion ${name}`, [
            violation('filter', `unknown criterion ${name}`, 'QUERY'),
          ]);
      }
    });
}
