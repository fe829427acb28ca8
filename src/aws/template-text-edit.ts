/**
 * Surgical edits of a CloudFormation template's text (JSON or YAML): one scalar replaced, one item appended to a list,
 * and nothing else touched — comments, short-form tags, quoting, key order, blank lines and indentation stay as they
 * were.
 *
 * The text is never re-serialized. Instead each edit is located with the template's own parser as the judge: every
 * place where the old scalar is written is a candidate, and a candidate is taken only when the edited text parses to
 * exactly the document expected (the previous document with that one value changed). A look-alike in a description,
 * a comment, a tag or another parameter changes a different value, so it can never be taken; a template whose text
 * cannot be edited this way is refused rather than guessed at.
 *
 * `serializeJsonLike` is the one exception, a last resort for JSON only: the whole document written back in the
 * original's layout, for a value the text spells in a way that cannot be found (escapes).
 */
import type { CfnValue } from '../../sandbox/aws/cfn-yaml.js';

export type CfnMapping = { [key: string]: CfnValue };

/**
 * How many candidate places one edit may try (each costs a parse of the whole template). The right place is almost
 * always the first candidate; the bound keeps a template with thousands of look-alikes from taking minutes to refuse.
 */
const MAX_ATTEMPTS = 100;

/** Parses template text; returns undefined for text that does not parse. */
export type TemplateParser = (text: string) => CfnValue | undefined;

/** Why an edit could not be made; the caller turns it into its own error type. */
export class TextEditError extends Error {
  override name = 'TextEditError';
}

/** A template's text together with the document it parses to; edits update both. */
export class TemplateText {
  constructor(
    public text: string,
    public doc: CfnValue,
    private readonly parse: TemplateParser,
    private readonly format: 'json' | 'yaml',
  ) {}

  /** Rewrites the scalar at `path` (currently `oldValue`) as `newValue`, keeping its quoting. */
  replaceScalar(path: readonly string[], oldValue: string, newValue: string): void {
    if (getAt(this.doc, path) !== oldValue) throw new TextEditError(`${pathText(path)} is not "${oldValue}"`);
    const expected = withValue(this.doc, path, newValue);
    for (const index of occurrences(this.text, oldValue, path.at(-1)).slice(0, MAX_ATTEMPTS)) {
      const edited = this.text.slice(0, index) + newValue + this.text.slice(index + oldValue.length);
      if (this.accept(edited, expected)) return;
    }
    throw new TextEditError(`could not find where ${pathText(path)} is written in the template text`);
  }

  /**
   * Appends `newValue` to the non-empty list of strings at `path`, in the list's own style: a new `- item` line for a
   * YAML block sequence, `, item` before the `]` of a flow sequence or JSON array (with the separator the list already
   * uses), quoted like the list's last item.
   */
  appendToList(path: readonly string[], newValue: string): void {
    const list = getAt(this.doc, path);
    const last = Array.isArray(list) ? list.at(-1) : undefined;
    if (!Array.isArray(list) || typeof last !== 'string') {
      throw new TextEditError(`${pathText(path)} is not a non-empty list of strings`);
    }
    const expected = withValue(this.doc, path, [...list, newValue]);
    for (const index of occurrences(this.text, last, undefined).slice(0, MAX_ATTEMPTS)) {
      const edited = this.appendAfterItem(index, last.length, newValue);
      if (edited !== undefined && this.accept(edited, expected)) return;
    }
    throw new TextEditError(`could not find where the list ${pathText(path)} is written in the template text`);
  }

  private accept(text: string, expected: CfnValue): boolean {
    const parsed = this.parse(text);
    if (parsed === undefined || !deepEqual(parsed, expected)) return false;
    this.text = text;
    this.doc = parsed;
    return true;
  }

  /** The text with `newValue` added after the list item whose value starts at `index`, or undefined. */
  private appendAfterItem(index: number, length: number, newValue: string): string | undefined {
    const text = this.text;
    const before = text[index - 1];
    const quote = (before === '"' || before === "'") && text[index + length] === before ? before : '';
    const itemStart = index - quote.length;
    const itemEnd = index + length + quote.length;
    const item = `${quote}${newValue}${quote}`;

    const lineStart = text.lastIndexOf('\n', itemStart - 1) + 1;
    const prefix = text.slice(lineStart, itemStart);
    if (this.format === 'yaml' && /^[ \t]*-[ \t]+$/.test(prefix)) {
      // Block sequence: a new entry on the next line, written like this one.
      const lineEnd = text.indexOf('\n', itemEnd);
      if (lineEnd < 0) return `${text}${text.includes('\r\n') ? '\r\n' : '\n'}${prefix}${item}`;
      const eol = text[lineEnd - 1] === '\r' ? '\r\n' : '\n';
      return `${text.slice(0, lineEnd + 1)}${prefix}${item}${eol}${text.slice(lineEnd + 1)}`;
    }

    // Flow sequence or JSON array: the item must be the last one before `]`.
    if (text[this.skipSpace(itemEnd)] !== ']') return undefined;
    let back = itemStart - 1;
    while (back >= 0 && /\s/.test(text[back] ?? '')) back--;
    let separator: string;
    if (text[back] === ',') {
      separator = text.slice(back, itemStart);
    } else if (text[back] === '[') {
      const inside = text.slice(back + 1, itemStart);
      const compact = inside === '' && text[back - 1] === ':';
      separator = inside.includes('\n') ? `,${inside}` : compact ? ',' : ', ';
    } else {
      return undefined;
    }
    return `${text.slice(0, itemEnd)}${separator}${item}${text.slice(itemEnd)}`;
  }

  /** Skips whitespace, line breaks and (in YAML) comments. */
  private skipSpace(from: number): number {
    const text = this.text;
    let i = from;
    for (;;) {
      const ch = text[i] ?? '';
      if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n') i++;
      else if (ch === '#' && this.format === 'yaml' && /\s/.test(text[i - 1] ?? '')) {
        const end = text.indexOf('\n', i);
        i = end < 0 ? text.length : end;
      } else return i;
    }
  }
}

/**
 * Where `value` is written as a whole token, most likely first: right after `key:` (or after `- `, `[` or `,` for a
 * list item), then every other place in document order.
 */
function occurrences(text: string, value: string, key: string | undefined): number[] {
  if (value === '') return [];
  const likely: number[] = [];
  const others: number[] = [];
  const leadIn =
    key === undefined
      ? /(?:^[ \t]*-[ \t]+|[[,][ \t\r\n]*)["']?$/
      : new RegExp(`(?:^|[\\s{,])["']?${escapeRegExp(key)}["']?[ \\t]*:[ \\t]*["']?$`);
  for (let index = text.indexOf(value); index >= 0; index = text.indexOf(value, index + 1)) {
    if (isWordChar(text[index - 1]) || isWordChar(text[index + value.length])) continue;
    const lineStart = text.lastIndexOf('\n', index - 1) + 1;
    (leadIn.test(text.slice(lineStart, index)) ? likely : others).push(index);
  }
  return [...likely, ...others];
}

const isWordChar = (ch: string | undefined) => ch !== undefined && /[A-Za-z0-9]/.test(ch);

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

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
