import { badRequest, violation } from './http.js';
import type { HostEntity } from './state.js';

/** One `name(arg, ...)` criterion of an entity selector; arguments are strings or nested criteria. */
export interface Criterion {
  name: string;
  args: (string | Criterion)[];
}

const invalid = (message: string) =>
  badRequest(`Invalid entity selector: ${message}`, [violation('entitySelector', message, 'QUERY')]);

/**
 * Parses the entity selector language (reference §5.1): comma-joined (AND) criteria such as
 * `type("HOST"),entityName.equals("vm-1")`. Values may be quoted; `~` escapes inside quotes.
 */
export function parseEntitySelector(selector: string): Criterion[] {
  if (selector.length > 2000) throw invalid('longer than 2000 characters');
  let pos = 0;

  const skipSpace = () => {
    while (selector[pos] === ' ') pos++;
  };

  const parseValue = (): string | Criterion => {
    skipSpace();
    if (selector[pos] === '"') {
      pos++;
      let out = '';
      while (pos < selector.length && selector[pos] !== '"') {
        if (selector[pos] === '~' && pos + 1 < selector.length) pos++;
        out += selector[pos++];
      }
      if (selector[pos] !== '"') throw invalid('unterminated quoted value');
      pos++;
      return out;
    }
    const start = pos;
    while (pos < selector.length && !',()'.includes(selector[pos]!)) pos++;
    const word = selector.slice(start, pos).trim();
    if (selector[pos] === '(') {
      pos = start;
      return parseCriterion();
    }
    return word;
  };

  const parseCriterion = (): Criterion => {
    skipSpace();
    const match = /^[A-Za-z][A-Za-z0-9_.]*/.exec(selector.slice(pos));
    if (!match) throw invalid(`expected a criterion at position ${pos}`);
    pos += match[0].length;
    if (selector[pos] !== '(') throw invalid(`expected "(" after ${match[0]}`);
    pos++;
    const args: (string | Criterion)[] = [];
    skipSpace();
    if (selector[pos] !== ')') {
      for (;;) {
        args.push(parseValue());
        skipSpace();
        if (selector[pos] === ',') {
          pos++;
          continue;
        }
        break;
      }
    }
    if (selector[pos] !== ')') throw invalid(`expected ")" to close ${match[0]}`);
    pos++;
    return { name: match[0], args };
  };

  const criteria: Criterion[] = [];
  for (;;) {
    criteria.push(parseCriterion());
    skipSpace();
    if (pos >= selector.length) break;
    if (selector[pos] !== ',') throw invalid(`unexpected "${selector[pos]}" at position ${pos}`);
    pos++;
  }
  if (!criteria.some((c) => c.name === 'type' || c.name === 'entityId')) {
    throw invalid('type(...) or entityId(...) is required');
  }
  return criteria;
}

export function hostDisplayName(host: HostEntity): string {
  return host.customHostName ?? host.detectedName;
}

export function hostProperties(host: HostEntity): Record<string, unknown> {
  return {
    detectedName: host.detectedName,
    ...(host.customHostName ? { oneAgentCustomHostName: host.customHostName } : {}),
    installerVersion: host.installerVersion,
    monitoringMode: host.monitoringMode,
    osType: host.osType,
    osArchitecture: 'X86',
    bitness: '64',
    ipAddress: host.ipAddresses,
    state: host.state,
    isMonitoringCandidate: false,
    logicalCpuCores: 4,
    cpuCores: 2,
    memoryTotal: 8_589_934_592,
    networkZone: 'default',
    ...(host.hostGroup ? { hostGroupName: host.hostGroup } : {}),
    ...(host.awsInstanceId ? { awsInstanceId: host.awsInstanceId, cloudType: 'EC2' } : {}),
    ...(host.awsInstanceType ? { awsInstanceType: host.awsInstanceType } : {}),
    ...host.properties,
  };
}

function text(arg: string | Criterion | undefined, criterion: string): string {
  if (typeof arg !== 'string') throw invalid(`${criterion} expects a value`);
  return arg;
}

function matchTag(host: HostEntity, spec: string): boolean {
  const context = /^\[([^\]]+)\]/.exec(spec);
  const rest = context ? spec.slice(context[0].length) : spec;
  const colon = rest.indexOf(':');
  const key = colon >= 0 ? rest.slice(0, colon) : rest;
  const value = colon >= 0 ? rest.slice(colon + 1) : undefined;
  return host.tags.some(
    (t) => t.key === key && (value === undefined || t.value === value) && (!context || t.context === context[1]),
  );
}

export function matchesHost(host: HostEntity, criteria: Criterion[], caseSensitive = false): boolean {
  return criteria.every((c) => matchCriterion(host, c, caseSensitive));
}

function matchCriterion(host: HostEntity, c: Criterion, caseSensitive: boolean): boolean {
  const fold = (s: string) => (caseSensitive ? s : s.toLowerCase());
  const name = fold(hostDisplayName(host));
  switch (c.name) {
    case 'type':
      return text(c.args[0], 'type') === 'HOST';
    case 'entityId':
      return c.args.some((a) => text(a, 'entityId') === host.entityId);
    case 'entityName':
      return name.includes(fold(text(c.args[0], 'entityName')));
    case 'entityName.equals':
      return name === fold(text(c.args[0], 'entityName.equals'));
    case 'entityName.startsWith':
      return name.startsWith(fold(text(c.args[0], 'entityName.startsWith')));
    case 'entityName.in':
      return c.args.some((a) => name === fold(text(a, 'entityName.in')));
    case 'caseSensitive':
      return c.args.every((a) => typeof a !== 'string' && matchCriterion(host, a, true));
    case 'not':
      return !c.args.every((a) => typeof a !== 'string' && matchCriterion(host, a, caseSensitive));
    case 'tag':
      return c.args.some((a) => matchTag(host, text(a, 'tag')));
    case 'healthState':
      return text(c.args[0], 'healthState') === (host.state === 'RUNNING' ? 'HEALTHY' : 'UNHEALTHY');
    case 'mzName':
    case 'mzId':
      return false;
    default: {
      const timestamp = /^(firstSeenTms|lastSeenTms)\.(gte|lte|gt|lt)$/.exec(c.name);
      if (timestamp) {
        const actual = timestamp[1] === 'firstSeenTms' ? host.firstSeenTms : host.lastSeenTms;
        const limit = Number(text(c.args[0], c.name));
        return { gte: actual >= limit, lte: actual <= limit, gt: actual > limit, lt: actual < limit }[
          timestamp[2] as 'gte'
        ];
      }
      const properties = hostProperties(host);
      if (c.name in properties || /^[a-z][A-Za-z]+$/.test(c.name)) {
        const value = properties[c.name];
        return c.args.some((a) => {
          const expected = text(a, c.name);
          if (Array.isArray(value)) return value.includes(expected);
          return (
            (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') &&
            String(value) === expected
          );
        });
      }
      throw invalid(`the simulator does not support the criterion ${c.name}(...)`);
    }
  }
}
