/**
 * Properties whose schema type is `set` (paths, `*` = every element), from the TF copies of the
 * schemas (reference §8.1, §13): the server keeps no order for them and may return another one.
 * Alerting profile: `severityRules`, `eventFilters` and a rule's `tagFilter` are all sets in
 * `builtin:alerting.profile`. Notification: the webhook's `headers`. Management zones and
 * auto-tagging keep their `rules` and each rule's conditions as sets in the TF provider [U]; a
 * standard can name more set-typed paths (`unordered`) for schemas this table does not know.
 */
export const SET_TYPED_PROPERTIES: Readonly<Record<string, readonly string[]>> = {
  'builtin:alerting.profile': ['severityRules', 'eventFilters', 'severityRules.*.tagFilter'],
  'builtin:problem.notifications': ['webHookNotification.headers'],
  'builtin:management-zones': ['rules', 'rules.*.attributeRule.conditions'],
  'builtin:tags.auto-tagging': ['rules', 'rules.*.attributeRule.conditions'],
};

/** Write-only values (secret headers) never come back, so they cannot be compared. */
const WRITE_ONLY_KEYS = new Set(['secretValue']);

/** A desired leaf that is not compared: a secret by reference (written, never read back or shown). */
export type Uncompared = (desired: unknown) => boolean;

export interface ValueDifference {
  /** `severityRules`, `webHookNotification.url`, `rules[2].enabled`. */
  field: string;
  old: unknown;
  new: unknown;
}

interface Comparison {
  sets: readonly string[];
  uncompared: Uncompared;
}

/**
 * True when the stored value already says everything `desired` says: extra keys are defaults the
 * server filled in, `null` and empty lists match an absent property, set-typed lists match in any
 * order, text matches whatever the line endings and trailing whitespace, and write-only keys are
 * not compared.
 */
export function settingsValueMatches(schemaId: string, actual: unknown, desired: unknown): boolean {
  return settingsValueDifferences(schemaId, actual, desired).length === 0;
}

/**
 * Where the stored value does not say what `desired` says, field by field, by the same rules as
 * `settingsValueMatches`. A set that does not match is one difference (the whole set), since its
 * elements have no position to name.
 */
export function settingsValueDifferences(
  schemaId: string,
  actual: unknown,
  desired: unknown,
  options: { unordered?: readonly string[]; uncompared?: Uncompared } = {},
): ValueDifference[] {
  const comparison: Comparison = {
    sets: [...(SET_TYPED_PROPERTIES[schemaId] ?? []), ...(options.unordered ?? [])],
    uncompared: options.uncompared ?? (() => false),
  };
  const found: ValueDifference[] = [];
  collect(actual, desired, [], '', comparison, found);
  return found;
}

const normalisedText = (s: string) =>
  s
    .replace(/\r\n?/g, '\n')
    .replace(/[ \t]+\n/g, '\n')
    .trimEnd();

const isEmpty = (v: unknown) =>
  v === null ||
  v === undefined ||
  (Array.isArray(v) && v.length === 0) ||
  (typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0);

function contains(actual: unknown, desired: unknown, path: string[], c: Comparison): boolean {
  const found: ValueDifference[] = [];
  collect(actual, desired, path, '', c, found, true);
  return found.length === 0;
}

/** Adds the differences below `path` to `found`; with `first`, stops at the first one. */
function collect(
  actual: unknown,
  desired: unknown,
  path: string[],
  field: string,
  c: Comparison,
  found: ValueDifference[],
  first = false,
): void {
  if (c.uncompared(desired)) return;
  const differ = () => found.push({ field: field || '(value)', old: actual, new: desired });
  if (isEmpty(desired)) {
    if (!isEmpty(actual)) differ();
    return;
  }
  if (Array.isArray(desired)) {
    if (!Array.isArray(actual) || actual.length !== desired.length) return void differ();
    const elementPath = [...path, '*'];
    if (c.sets.includes(path.join('.'))) {
      if (!matchesAsSet(actual, desired, (a, d) => contains(a, d, elementPath, c))) differ();
      return;
    }
    for (let i = 0; i < desired.length; i++) {
      collect(actual[i], desired[i], elementPath, `${field}[${i}]`, c, found, first);
      if (first && found.length > 0) return;
    }
    return;
  }
  if (typeof desired === 'object' && desired !== null) {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return void differ();
    for (const [k, v] of Object.entries(desired)) {
      if (WRITE_ONLY_KEYS.has(k)) continue;
      collect((actual as Record<string, unknown>)[k], v, [...path, k], field ? `${field}.${k}` : k, c, found, first);
      if (first && found.length > 0) return;
    }
    return;
  }
  if (typeof desired === 'string' && typeof actual === 'string') {
    if (normalisedText(actual) !== normalisedText(desired)) differ();
    return;
  }
  if (actual !== desired) differ();
}

/**
 * Every desired element pairs with its own actual element (same length on both sides): a maximum
 * bipartite matching (Kuhn's augmenting paths), since with "contains" one actual element may
 * satisfy several desired ones and a greedy pairing could miss the complete one.
 */
function matchesAsSet(actual: unknown[], desired: unknown[], fits: (a: unknown, d: unknown) => boolean): boolean {
  const candidates = desired.map((d) => actual.flatMap((a, i) => (fits(a, d) ? [i] : [])));
  const ownerOf = new Array<number>(actual.length).fill(-1);
  const assign = (d: number, seen: boolean[]): boolean => {
    for (const a of candidates[d]!) {
      if (seen[a]) continue;
      seen[a] = true;
      if (ownerOf[a] === -1 || assign(ownerOf[a]!, seen)) {
        ownerOf[a] = d;
        return true;
      }
    }
    return false;
  };
  return desired.every((_, d) => assign(d, new Array<boolean>(actual.length).fill(false)));
}
