/**
 * Plain-value helpers of the template editor: reading and replacing a value at a path, comparing two documents the
 * way an edit of the text must leave them (same keys in the same order), and, for JSON only, writing a document back
 * in the original's layout.
 */
import type { CfnMapping, CfnValue } from './cloudformation-yaml.js';

export type { CfnMapping, CfnValue };

/** Why an edit could not be made; the caller turns it into its own error type. */
export class TextEditError extends Error {
  override name = 'TextEditError';
}

export const pathText = (path: readonly string[]) => path.join('.');

export function isMapping(value: CfnValue | undefined): value is CfnMapping {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value at `path`, or undefined when a step is missing or not a mapping. */
export function getAt(doc: CfnValue, path: readonly string[]): CfnValue | undefined {
  let node: CfnValue | undefined = doc;
  for (const key of path) {
    if (!isMapping(node) || !Object.hasOwn(node, key)) return undefined;
    node = node[key];
  }
  return node;
}

/** A copy of `doc` with the value at `path` (which must exist) replaced. */
export function withValue(doc: CfnValue, path: readonly string[], value: CfnValue): CfnValue {
  const [key, ...rest] = path;
  if (key === undefined) return cloneValue(value);
  if (!isMapping(doc) || !Object.hasOwn(doc, key)) throw new TextEditError(`${pathText(path)} does not exist`);
  const copy: CfnMapping = {};
  for (const [k, v] of Object.entries(doc)) {
    defineProperty(copy, k, k === key ? withValue(v, rest, value) : v);
  }
  return copy;
}

export function cloneValue(value: CfnValue): CfnValue {
  if (Array.isArray(value)) return value.map(cloneValue);
  if (!isMapping(value)) return value;
  const copy: CfnMapping = {};
  for (const [k, v] of Object.entries(value)) defineProperty(copy, k, cloneValue(v));
  return copy;
}

/** Structural equality that also requires the same key order (an edit of the text never reorders keys). */
export function deepEqual(a: CfnValue, b: CfnValue): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((v, i) => deepEqual(v, b[i]!));
  if (!isMapping(a) || !isMapping(b)) return false;
  const aKeys = Object.keys(a);
  const bKeys = Object.keys(b);
  return aKeys.length === bKeys.length && aKeys.every((k, i) => k === bKeys[i] && deepEqual(a[k]!, b[k]!));
}

/** Plain assignment would treat a "__proto__" key as the prototype instead of a property. */
function defineProperty(target: CfnMapping, key: string, value: CfnValue): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * The indentation a JSON document uses: a tab, a number of spaces, or undefined when it is minified (all on one line).
 * Taken from the first indented line, which in any pretty-printed document is one level deep.
 */
export function detectJsonIndent(text: string): string | number | undefined {
  const match = /\n([ \t]+)\S/.exec(text.trim());
  if (match === null) return undefined;
  const indent = match[1] ?? '';
  return indent.startsWith('\t') ? '\t' : indent.length;
}

/**
 * `doc` written back as JSON in the original's layout: its indentation (or minified), line endings, byte order mark
 * and trailing newline.
 */
export function serializeJsonLike(original: string, doc: CfnValue): string {
  const bom = original.startsWith('\uFEFF') ? '\uFEFF' : '';
  const eol = original.includes('\r\n') ? '\r\n' : '\n';
  const trailing = /\r?\n$/.test(original) ? eol : '';
  const body = JSON.stringify(doc, null, detectJsonIndent(original));
  return bom + (eol === '\n' ? body : body.replaceAll('\n', eol)) + trailing;
}
