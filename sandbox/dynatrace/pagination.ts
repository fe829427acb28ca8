import { badRequest, violation } from './http.js';

interface PageState {
  q: Record<string, string>;
  o: number;
}

export function encodePageKey(query: Record<string, string>, offset: number): string {
  return Buffer.from(JSON.stringify({ q: query, o: offset } satisfies PageState)).toString('base64url');
}

function decodePageKey(key: string): PageState {
  try {
    const state = JSON.parse(Buffer.from(key, 'base64url').toString('utf8')) as PageState;
    if (typeof state.o !== 'number' || typeof state.q !== 'object') throw new Error('shape');
    return state;
  } catch {
    throw badRequest('The nextPageKey is invalid', [violation('nextPageKey', 'invalid page key', 'QUERY')]);
  }
}

/**
 * v2 style (reference §9.2): the first request carries the query, later ones only `nextPageKey`;
 * sending both is an error, which keeps clients honest about the style. `perPage` names the
 * parameters that are the exception: they apply only to the page whose request carries them, are
 * not remembered in the key, and must be sent again with it (problems v2 `fields`, §13).
 * `keyParams` is what the next page key should carry.
 */
export function resolveV2Page(
  query: URLSearchParams,
  options: { perPage?: string[] } = {},
): { params: Record<string, string>; keyParams: Record<string, string>; offset: number } {
  const perPage = options.perPage ?? [];
  const sentPerPage = Object.fromEntries([...query.entries()].filter(([k]) => perPage.includes(k)));
  const withoutPerPage = (params: Record<string, string>) =>
    Object.fromEntries(Object.entries(params).filter(([k]) => !perPage.includes(k)));
  const key = query.get('nextPageKey');
  if (!key) {
    const params = Object.fromEntries(query.entries());
    return { params, keyParams: withoutPerPage(params), offset: 0 };
  }
  const others = [...query.keys()].filter((k) => k !== 'nextPageKey' && !perPage.includes(k));
  if (others.length > 0) {
    throw badRequest(`nextPageKey must be the only query parameter, but ${others.join(', ')} was given too`, [
      violation('nextPageKey', 'must not be combined with other parameters', 'QUERY'),
    ]);
  }
  const state = decodePageKey(key);
  const keyParams = withoutPerPage(state.q);
  return { params: { ...keyParams, ...sentPerPage }, keyParams, offset: state.o };
}

/** v1 style: the next request repeats every parameter and adds the key. */
export function resolveV1Page(query: URLSearchParams): { params: Record<string, string>; offset: number } {
  const params = Object.fromEntries([...query.entries()].filter(([k]) => k !== 'nextPageKey'));
  const key = query.get('nextPageKey');
  return { params, offset: key ? decodePageKey(key).o : 0 };
}

export function pageSize(value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw badRequest(`pageSize must be between ${min} and ${max}`, [
      violation('pageSize', `must be between ${min} and ${max}`, 'QUERY'),
    ]);
  }
  return n;
}

export function slicePage<T>(
  items: T[],
  params: Record<string, string>,
  offset: number,
  size: number,
): { items: T[]; nextPageKey: string | null } {
  const page = items.slice(offset, offset + size);
  const next = offset + size;
  return { items: page, nextPageKey: next < items.length ? encodePageKey(params, next) : null };
}

const UNIT_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  M: 2_592_000_000,
  y: 31_536_000_000,
};

/** `now`, `now-3d`, epoch milliseconds or ISO 8601, as the timeframe parameters accept. */
export function parseTimestamp(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const now = Date.now();
  const relative = /^now(?:([+-])(\d+)([smhdwMy]))?$/.exec(value);
  if (relative) {
    if (!relative[1]) return now;
    const delta = Number(relative[2]) * UNIT_MS[relative[3]!]!;
    return relative[1] === '-' ? now - delta : now + delta;
  }
  if (/^\d+$/.test(value)) return Number(value);
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed)) {
    throw badRequest(`${name} is not a valid timestamp`, [violation(name, 'invalid timestamp', 'QUERY')]);
  }
  return parsed;
}
