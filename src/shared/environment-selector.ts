/**
 * Which environments of the registry a command means: `*-p*` (every production stage), `abc-*`,
 * `cluster:eu1 kind:managed`, `customer:abc stage:p?`, `tag:tier:gold`. Terms are separated by spaces or commas; a
 * bare term is a glob over the environment id. Terms of the same key are alternatives (any may
 * match), terms of different keys must all match. Globs take `*` (any run) and `?` (one character).
 */
export interface EnvironmentSelector {
  text: string;
  ids: string[];
  customers: string[];
  stages: string[];
  clusters: string[];
  kinds: ('managed' | 'saas')[];
  /** Globs of which an environment must carry at least one matching tag. */
  tags: string[];
}

/** What a selector is matched against. */
export interface SelectableEnvironment {
  id: string;
  customer: string | null;
  stage: string | null;
  cluster: string | null;
  kind: 'managed' | 'saas';
  tags?: readonly string[];
}

export class SelectorError extends Error {
  override name = 'SelectorError';
}

/** Longer selectors and more terms than anyone types are refused before any environment is matched. */
export const MAX_SELECTOR_LENGTH = 1_000;
export const MAX_SELECTOR_TERMS = 50;

const GLOB = /^[A-Za-z0-9_.*?-]{1,70}$/;
/** Dynatrace tags are `key` or `key:value`. */
const TAG_GLOB = /^[A-Za-z0-9_.*?:=/-]{1,100}$/;
const KEYS = ['id', 'customer', 'stage', 'cluster', 'kind', 'tag'] as const;

/** Parses a selector, or throws SelectorError naming the term that is wrong. */
export function parseEnvironmentSelector(text: string): EnvironmentSelector {
  const selector: EnvironmentSelector = { text, ids: [], customers: [], stages: [], clusters: [], kinds: [], tags: [] };
  if (text.length > MAX_SELECTOR_LENGTH) {
    throw new SelectorError(
      `the selector is ${text.length} characters long; at most ${MAX_SELECTOR_LENGTH} are allowed (use tags or cluster:, customer: terms)`,
    );
  }
  const terms = text.split(/[\s,]+/).filter(Boolean);
  if (terms.length === 0)
    throw new SelectorError('the selector is empty: give a glob like *-p* or a term like cluster:eu1');
  if (terms.length > MAX_SELECTOR_TERMS) {
    throw new SelectorError(
      `the selector has ${terms.length} terms; at most ${MAX_SELECTOR_TERMS} are allowed (use tags or cluster:, customer: terms)`,
    );
  }
  for (const term of terms) {
    const colon = term.indexOf(':');
    const key = colon < 0 ? 'id' : term.slice(0, colon);
    const value = colon < 0 ? term : term.slice(colon + 1);
    if (!(KEYS as readonly string[]).includes(key)) {
      throw new SelectorError(
        `unknown selector key in ${JSON.stringify(term)}: use ${KEYS.join(', ')} (or a bare glob)`,
      );
    }
    if (key === 'kind') {
      if (value !== 'managed' && value !== 'saas')
        throw new SelectorError(`kind must be managed or saas, not ${JSON.stringify(value)}`);
      selector.kinds.push(value);
      continue;
    }
    if (key === 'tag') {
      if (!TAG_GLOB.test(value)) {
        throw new SelectorError(`${JSON.stringify(term)} is not a tag glob like tag:tier:gold or tag:eu*`);
      }
      selector.tags.push(value);
      continue;
    }
    if (!GLOB.test(value)) {
      throw new SelectorError(`${JSON.stringify(term)} is not a glob of letters, digits, ".", "_", "-", "*" and "?"`);
    }
    ({ id: selector.ids, customer: selector.customers, stage: selector.stages, cluster: selector.clusters })[
      key as 'id' | 'customer' | 'stage' | 'cluster'
    ].push(value);
  }
  return selector;
}

/** Whether `segment` (letters and `?`, no `*`) matches `value` at `at`. */
function segmentAt(segment: string, value: string, at: number): boolean {
  if (at < 0 || at + segment.length > value.length) return false;
  for (let i = 0; i < segment.length; i++) {
    if (segment[i] !== '?' && segment[i] !== value[at + i]) return false;
  }
  return true;
}

/**
 * Whether `value` matches `glob` (`*` any run, `?` one character). The glob is cut at its stars
 * into segments of fixed length: the first must match at the start, the last at the end, and the
 * ones between, in order, each at the leftmost place after the one before (leftmost is never
 * worse, since whatever a later segment needs is still there). Every segment is looked for once,
 * so the work grows with the value's length times a segment's, never exponentially the way a
 * backtracking regular expression does for globs like `*?*?*?x`.
 */
export function globMatches(glob: string, value: string | null): boolean {
  if (value === null) return false;
  const segments = segmentsOf(glob);
  const first = segments[0]!;
  if (segments.length === 1) return value.length === first.length && segmentAt(first, value, 0);
  const last = segments[segments.length - 1]!;
  const end = value.length - last.length;
  if (end < first.length || !segmentAt(first, value, 0) || !segmentAt(last, value, end)) return false;
  let from = first.length;
  for (let i = 1; i < segments.length - 1; i++) {
    const segment = segments[i]!;
    let at = from;
    while (at + segment.length <= end && !segmentAt(segment, value, at)) at++;
    if (at + segment.length > end) return false;
    from = at + segment.length;
  }
  return true;
}

/** Globs cut at their stars, kept for the next environment: one selector is matched against thousands. */
const SEGMENTS = new Map<string, readonly string[]>();
const MAX_REMEMBERED_GLOBS = 1_000;

function segmentsOf(glob: string): readonly string[] {
  let segments = SEGMENTS.get(glob);
  if (!segments) {
    if (SEGMENTS.size >= MAX_REMEMBERED_GLOBS) SEGMENTS.clear();
    segments = glob.split('*');
    SEGMENTS.set(glob, segments);
  }
  return segments;
}

const anyOf = (globs: string[], value: string | null) => globs.length === 0 || globs.some((g) => globMatches(g, value));

export function selects(selector: EnvironmentSelector, environment: SelectableEnvironment): boolean {
  return (
    anyOf(selector.ids, environment.id) &&
    anyOf(selector.customers, environment.customer) &&
    anyOf(selector.stages, environment.stage) &&
    anyOf(selector.clusters, environment.cluster) &&
    (selector.kinds.length === 0 || selector.kinds.includes(environment.kind)) &&
    (selector.tags.length === 0 || selector.tags.some((g) => (environment.tags ?? []).some((t) => globMatches(g, t))))
  );
}
