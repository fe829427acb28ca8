import { badRequest, json, notFound, violation } from '../http.js';
import { hostDisplayName, hostProperties, matchesHost, parseEntitySelector } from '../entity-selector.js';
import {
  encodePageKey,
  pageSize as pageSizeParam,
  parseTimestamp,
  resolveV1Page,
  resolveV2Page,
  slicePage,
} from '../pagination.js';
import { environmentOf, type Handler, type Router } from '../router.js';
import type { EnvironmentRecord, HostEntity } from '../state.js';

const THREE_DAYS = 3 * 86_400_000;

/** Running agents report continuously, so their hosts count as seen right now. */
function refreshed(host: HostEntity, now: number): HostEntity {
  if (host.state === 'RUNNING') host.lastSeenTms = now;
  return host;
}

function tagsJson(host: HostEntity) {
  return host.tags.map((t) => ({
    context: t.context,
    key: t.key,
    ...(t.value !== undefined ? { value: t.value } : {}),
    stringRepresentation: `${t.context === 'CONTEXTLESS' ? '' : `[${t.context}]`}${t.key}${t.value !== undefined ? `:${t.value}` : ''}`,
  }));
}

function entityJson(host: HostEntity, fields: string[] | 'all') {
  const all = fields === 'all';
  const wants = (f: string) => all || fields.includes(f);
  const properties = hostProperties(host);
  const requestedProperties = all ? [] : fields.filter((f) => f.startsWith('properties.')).map((f) => f.slice(11));
  return {
    entityId: host.entityId,
    type: 'HOST',
    displayName: hostDisplayName(host),
    ...(wants('firstSeenTms') ? { firstSeenTms: host.firstSeenTms } : {}),
    ...(wants('lastSeenTms') ? { lastSeenTms: host.lastSeenTms } : {}),
    ...(wants('properties')
      ? { properties }
      : requestedProperties.length > 0
        ? {
            properties: Object.fromEntries(
              requestedProperties.filter((p) => p in properties).map((p) => [p, properties[p]]),
            ),
          }
        : {}),
    ...(wants('tags') ? { tags: tagsJson(host) } : {}),
    ...(wants('managementZones') ? { managementZones: [] } : {}),
    ...(wants('icon') ? { icon: { primaryIconType: 'linux' } } : {}),
    ...(wants('fromRelationships') ? { fromRelationships: {} } : {}),
    ...(wants('toRelationships') ? { toRelationships: {} } : {}),
  };
}

function hostV1(host: HostEntity) {
  const [major, minor, revision, timestamp] = host.installerVersion.split('.');
  return {
    entityId: host.entityId,
    displayName: hostDisplayName(host),
    discoveredName: host.detectedName,
    firstSeenTimestamp: host.firstSeenTms,
    lastSeenTimestamp: host.lastSeenTms,
    tags: host.tags.map((t) => ({
      context: t.context,
      key: t.key,
      ...(t.value !== undefined ? { value: t.value } : {}),
    })),
    osType: host.osType,
    osArchitecture: 'X86',
    bitness: 64,
    monitoringMode: host.monitoringMode,
    ipAddresses: host.ipAddresses,
    agentVersion: {
      major: Number(major),
      minor: Number(minor),
      revision: Number(revision),
      timestamp: timestamp ?? '',
      sourceRevision: '',
    },
    ...(host.hostGroup ? { hostGroup: { meId: `HOST_GROUP-${host.entityId.slice(5)}`, name: host.hostGroup } } : {}),
    ...(host.awsInstanceId
      ? {
          cloudType: 'EC2',
          awsInstanceId: host.awsInstanceId,
          awsInstanceType: host.awsInstanceType,
          awsNameTag: host.hostName,
        }
      : {}),
    consumedHostUnits: 0.5,
    managementZones: [],
    fromRelationships: {},
    toRelationships: {},
  };
}

function sortedHosts(environment: EnvironmentRecord): HostEntity[] {
  const now = Date.now();
  return [...environment.hosts.values()]
    .map((h) => refreshed(h, now))
    .sort((a, b) => a.entityId.localeCompare(b.entityId));
}

export function registerEntityRoutes(router: Router): void {
  const env = (method: string, pattern: string, scopes: string[], handler: Handler) =>
    router.add({ method, pattern, area: 'environment', scopes, handler });

  const findHost = (environment: EnvironmentRecord, id: string) => {
    const host = environment.hosts.get(id);
    if (!host) throw notFound(`Requested entity ${id} not found`);
    return refreshed(host, Date.now());
  };

  env('GET', '/api/v2/entities', ['entities.read'], (ctx) => {
    const environment = environmentOf(ctx);
    const { params, offset } = resolveV2Page(ctx.query);
    if (!params.entitySelector) {
      throw badRequest('entitySelector is required', [violation('entitySelector', 'must not be null', 'QUERY')]);
    }
    const criteria = parseEntitySelector(params.entitySelector);
    const size = pageSizeParam(params.pageSize, 50, 1, 4000);
    const now = Date.now();
    const from = parseTimestamp(params.from, now - THREE_DAYS, 'from');
    const to = parseTimestamp(params.to, now, 'to');
    const fields = (params.fields ?? '')
      .split(',')
      .map((f) => f.trim().replace(/^\+/, ''))
      .filter(Boolean);
    const hosts = sortedHosts(environment).filter(
      (h) => h.lastSeenTms >= from && h.firstSeenTms <= to && matchesHost(h, criteria),
    );
    const page = slicePage(hosts, params, offset, size);
    return json(200, {
      totalCount: hosts.length,
      pageSize: size,
      nextPageKey: page.nextPageKey,
      entities: page.items.map((h) => entityJson(h, fields)),
    });
  });

  env('GET', '/api/v2/entities/{entityId}', ['entities.read'], (ctx) =>
    json(200, entityJson(findHost(environmentOf(ctx), ctx.params.entityId!), 'all')),
  );

  env('GET', '/api/v1/entity/infrastructure/hosts/{hostId}', ['DataExport'], (ctx) =>
    json(200, hostV1(findHost(environmentOf(ctx), ctx.params.hostId!))),
  );

  // Hosts v1 pages through response headers and keeps every other parameter (reference §5.2, §9.2).
  env('GET', '/api/v1/entity/infrastructure/hosts', ['DataExport'], (ctx) => {
    const environment = environmentOf(ctx);
    const { params, offset } = resolveV1Page(ctx.query);
    let hosts = sortedHosts(environment);
    if (params.hostGroupName) hosts = hosts.filter((h) => h.hostGroup === params.hostGroupName);
    const entities = ctx.query.getAll('entity');
    if (entities.length > 0) hosts = hosts.filter((h) => entities.includes(h.entityId));
    if (params.pageSize === undefined) return json(200, hosts.map(hostV1));
    const size = pageSizeParam(params.pageSize, 50, 1, 1000);
    const page = hosts.slice(offset, offset + size);
    const headers: Record<string, string> = { 'Total-Count': String(hosts.length), 'Page-Size': String(size) };
    if (offset + size < hosts.length) headers['Next-Page-Key'] = encodePageKey(params, offset + size);
    return json(200, page.map(hostV1), headers);
  });

  // OneAgents v1: body nextPageKey, other parameters kept; a key may lead to an empty last page.
  env('GET', '/api/v1/oneagents', ['oneAgents.read', 'DataExport'], (ctx) => {
    const environment = environmentOf(ctx);
    const { params, offset } = resolveV1Page(ctx.query);
    let hosts = sortedHosts(environment);
    if (params.hostGroupName) hosts = hosts.filter((h) => h.hostGroup === params.hostGroupName);
    const size = pageSizeParam(params.pageSize, 500, 1, 4000);
    const page = hosts.slice(offset, offset + size);
    const next = offset + size <= hosts.length && page.length === size ? encodePageKey(params, offset + size) : null;
    return json(200, {
      hosts: page.map((h) => ({
        hostInfo: hostV1(h),
        availabilityState: h.state === 'RUNNING' ? 'MONITORED' : 'SHUTDOWN',
        detailedAvailabilityState: h.state === 'RUNNING' ? 'MONITORED_ENABLED' : 'SHUTDOWN_GRACEFUL',
        monitoringType: h.monitoringMode,
        active: h.state === 'RUNNING',
        agentVersion: hostV1(h).agentVersion,
        configuredMonitoringMode: h.monitoringMode,
      })),
      ...(next ? { nextPageKey: next } : {}),
      totalCount: hosts.length,
    });
  });
}
