export const FLEET_QUERY_METHODS = ['GET', 'POST', 'PUT', 'DELETE'] as const;
export type FleetQueryMethod = (typeof FLEET_QUERY_METHODS)[number];

export class FleetQueryError extends Error {
  override name = 'FleetQueryError';
}

/** One Dynatrace environment API request, to be sent to every selected environment. */
export interface FleetQueryRequest {
  method: FleetQueryMethod;
  /** Below the environment API root: `v2/problems`, `v1/oneagents`. */
  path: string;
  query: URLSearchParams;
  body?: unknown;
  allPages?: boolean;
}

/** Decoding rounds after which a path that still changes is refused rather than decoded further. */
const MAX_DECODINGS = 4;
const ALLOWED = /^v[12]\/[A-Za-z0-9._~!$&'()*+,;=:@/-]{1,500}$/;
const refused = (raw: string, why: string) =>
  new FleetQueryError(
    `${JSON.stringify(raw)} is not an environment API path${why}: give one like /api/v2/problems?problemSelector=status("open")`,
  );

/**
 * The path as the environment will read it, or a FleetQueryError saying why it is refused: it is
 * percent-decoded until it no longer changes (so `%252e%252e` is seen as the `..` it becomes
 * further along), and dot segments, encoded slashes, backslashes and control characters are
 * refused outright, before the allow-list is consulted. Otherwise one layer of encoding could carry
 * a path past the check that another layer turns into a different API area.
 */
export function canonicalFleetPath(raw: string): string {
  let path = raw;
  for (let round = 0; ; round++) {
    if (/%(2f|5c)/i.test(path)) {
      throw refused(raw, ' (it holds an encoded slash or backslash)');
    }
    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      throw refused(raw, ' (its percent-encoding is malformed)');
    }
    if (decoded === path) break;
    if (round >= MAX_DECODINGS) {
      throw refused(raw, ' (it is percent-encoded too many times over)');
    }
    path = decoded;
  }
  // eslint-disable-next-line no-control-regex -- NUL and other control characters are what is refused
  if (/[\\\u0000-\u001f\u007f]/.test(path)) {
    throw refused(raw, ' (it holds a backslash or a control character)');
  }
  const segments = path
    .replace(/^\/?(api\/)?/, '')
    .replace(/\/+$/, '')
    .split('/');
  if (segments.some((segment) => segment === '.' || segment === '..')) {
    throw refused(raw, ' (it holds a "." or ".." segment)');
  }
  if (segments.some((segment) => segment === '')) {
    throw refused(raw, ' (it holds an empty segment)');
  }
  return segments.join('/');
}

/**
 * Parses `/api/v2/problems?problemSelector=...` (or `v2/problems?...`, still percent-encoded as it
 * came in a URL) into a request on the environment API; anything that is not a v1/v2 environment
 * API path is refused before a single environment is asked.
 */
export function parseFleetPath(method: string, pathAndQuery: string): FleetQueryRequest {
  const upper = method.toUpperCase();
  if (!(FLEET_QUERY_METHODS as readonly string[]).includes(upper)) {
    throw new FleetQueryError(`method must be one of ${FLEET_QUERY_METHODS.join(', ')}, not ${JSON.stringify(method)}`);
  }
  const question = pathAndQuery.indexOf('?');
  const path = canonicalFleetPath(question < 0 ? pathAndQuery : pathAndQuery.slice(0, question));
  if (!ALLOWED.test(path)) {
    throw refused(pathAndQuery, '');
  }
  const query = new URLSearchParams(question < 0 ? '' : pathAndQuery.slice(question + 1));
  if ([...query.keys()].some((key) => key.toLowerCase() === 'api-token')) {
    throw new FleetQueryError('the query must not carry a token: Autopilot sends each environment its own');
  }
  return { method: upper as FleetQueryMethod, path, query };
}
