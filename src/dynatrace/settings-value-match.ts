/**
 * Properties whose schema type is `set` (paths, `*` = every element), from the TF copies of the
 * schemas (reference §8.1, §13): the server keeps no order for them and may return another one.
 * Alerting profile: `severityRules`, `eventFilters` and a rule's `tagFilter` are all sets in
 * `builtin:alerting.profile`. Notification: the webhook's `headers`. Every other list we write
 * (none today) would be compared in order.
 */
export const SET_TYPED_PROPERTIES: Readonly<Record<string, readonly string[]>> = {
  'builtin:alerting.profile': ['severityRules', 'eventFilters', 'severityRules.*.tagFilter'],
  'builtin:problem.notifications': ['webHookNotification.headers'],
};

/** Write-only values (secret headers) never come back, so they cannot be compared. */
const WRITE_ONLY_KEYS = new Set(['secretValue']);

/**
 * True when the stored value already says everything `desired` says: extra keys are defaults the
 * server filled in, `null` matches an absent property, set-typed lists match in any order, and
 * write-only keys are not compared.
 */
export function settingsValueMatches(schemaId: string, actual: unknown, desired: unknown): boolean {
  return contains(actual, desired, [], SET_TYPED_PROPERTIES[schemaId] ?? []);
}

function contains(actual: unknown, desired: unknown, path: string[], sets: readonly string[]): boolean {
  if (desired === null) return actual === null || actual === undefined;
  if (Array.isArray(desired)) {
    if (!Array.isArray(actual) || actual.length !== desired.length) return false;
    const elementPath = [...path, '*'];
    if (sets.includes(path.join('.'))) {
      return matchesAsSet(actual, desired, (a, d) => contains(a, d, elementPath, sets));
    }
    return desired.every((d, i) => contains(actual[i], d, elementPath, sets));
  }
  if (typeof desired === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return false;
    return Object.entries(desired).every(
      ([k, v]) => WRITE_ONLY_KEYS.has(k) || contains((actual as Record<string, unknown>)[k], v, [...path, k], sets),
    );
  }
  return actual === desired;
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
