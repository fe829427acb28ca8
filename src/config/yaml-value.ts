import { isAlias, visit, type Document, type LineCounter, type Node } from 'yaml';

/**
 * Aliases one YAML document an operator hands us may hold, and times it may expand them (the `yaml`
 * library's `maxAliasCount`, whose default this is). Nested aliases ("billion laughs") reach the
 * expansion limit within a few lines; the count of alias nodes is checked as well because the library
 * looks each alias up among all anchors and aliases of the document, so tens of thousands of them in
 * one file would take minutes. A clusters file or a standard that repeats an anchored value now and
 * then stays far below both.
 */
export const MAX_YAML_ALIASES = 100;

/** Why a document's aliases are refused: one line, without the file (the caller names it). */
export class YamlAliasError extends Error {
  constructor(
    message: string,
    /** The 1-based line of the alias at fault, or of the document's first alias. */
    readonly line: number | undefined,
  ) {
    super(message);
    this.name = 'YamlAliasError';
  }
}

/**
 * The plain value of a parsed YAML document (`doc.toJS()`), or a YamlAliasError instead of the
 * library's ReferenceError when its aliases are too many, expand too often, or name no anchor
 * before them, and instead of a value that contains itself when an alias sits inside its own anchor.
 */
export function yamlValue(doc: Document, lines: LineCounter): unknown {
  const lineOf = (offset: number | undefined) => (offset === undefined ? undefined : lines.linePos(offset).line);
  const anchors = new Map<string, Node>();
  let aliases = 0;
  let first: number | undefined;
  let refused: YamlAliasError | undefined;
  // Document order, as the library resolves an alias to the last anchor of its name before it.
  visit(doc, {
    Node(_key, node, path) {
      if (isAlias(node)) {
        aliases++;
        first ??= node.range?.[0];
        const target = anchors.get(node.source);
        if (!target || path.includes(target)) {
          const why = target ? 'sits inside the anchor it names' : 'names no anchor before it';
          refused = new YamlAliasError(`the YAML alias *${node.source} ${why}`, lineOf(node.range?.[0]));
          return visit.BREAK;
        }
        if (aliases > MAX_YAML_ALIASES) return visit.BREAK;
      } else if (node.anchor) {
        anchors.set(node.anchor, node);
      }
      return undefined;
    },
  });
  if (refused) throw refused;
  const bomb = () =>
    new YamlAliasError(
      `uses YAML aliases beyond the limit of ${MAX_YAML_ALIASES} (an alias bomb?): write the repeated values out`,
      lineOf(first),
    );
  if (aliases > MAX_YAML_ALIASES) throw bomb();
  try {
    return doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (err) {
    // The library's only ReferenceError left here is its expansion limit.
    if (err instanceof ReferenceError) throw bomb();
    throw err;
  }
}
