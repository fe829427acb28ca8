import { isMap, isSeq, type LineCounter, type Node } from 'yaml';

/** The YAML node at a path of keys and indexes, or the deepest one that exists. */
export function nodeAt(root: unknown, keys: readonly PropertyKey[]): Node | undefined {
  let node = root as Node | undefined;
  for (const key of keys) {
    const next: unknown = isMap(node) ? node.get(key, true) : isSeq(node) ? node.get(key, true) : undefined;
    if (!next) return node;
    node = next as Node;
  }
  return node;
}

/** The 1-based line of the node at `keys` (or of its deepest existing parent). */
export function lineAt(root: unknown, keys: readonly PropertyKey[], lines: LineCounter): number | undefined {
  const offset = nodeAt(root, keys)?.range?.[0];
  return offset === undefined ? undefined : lines.linePos(offset).line;
}

/** `rules[0].conditions` from a path of keys and indexes. */
export function fieldPath(keys: readonly PropertyKey[]): string {
  return keys
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
    .join('')
    .replace(/^\./, '');
}
