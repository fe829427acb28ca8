/**
 * A parser for the YAML subset that AWS CloudFormation templates are written in, producing the same JSON value
 * CloudFormation itself works with.
 *
 * Generic YAML libraries reject CloudFormation's short-form intrinsic tags (`!Ref`, `!Sub`, …) or hand them back as
 * opaque objects, and JSON.parse rejects YAML altogether; this module turns a YAML template into the JSON form
 * (`{"Ref": ...}`, `{"Fn::Sub": ...}`, `{"Fn::GetAtt": ["A", "B"]}`) so code can inspect and edit one representation.
 *
 * Supported:
 * - block mappings and block sequences (including the "compact" sequence written at its key's indentation),
 * - flow sequences `[a, b]` and flow mappings `{a: b}`, which may span lines (so JSON documents parse too),
 * - plain scalars (also multi-line), single-quoted and double-quoted scalars with YAML escapes and line folding,
 * - literal `|` and folded `>` block scalars with chomping (`-`, `+`) and indentation indicators,
 * - comments, a leading `---` and a trailing `...`,
 * - the CloudFormation short-form tags listed in {@link CFN_SHORT_FORM_TAGS}.
 *
 * Deliberately rejected with a {@link CfnYamlError} (CloudFormation templates do not need them, and guessing would
 * silently change a template): anchors and aliases, explicit `?` keys, collections as keys, directives, several
 * documents in one stream, any other tag, two tags on one node (`!Base64 !Sub x` — CloudFormation rejects that too and
 * wants the outer function in long form), duplicate mapping keys, tabs used for indentation.
 *
 * Plain scalars resolve by the YAML 1.2 core schema (`true`/`false`, `null`/`~`/empty, integers incl. `0o`/`0x`,
 * floats). YAML 1.1 leftovers stay strings (`yes`, `on`, `2010-09-09`). Tagged scalars are never resolved (`!Ref 123`
 * references the string "123"), as YAML prescribes for explicitly tagged nodes. Where a number could not carry the
 * written value exactly, the text is kept as a string instead: integers with leading zeros (account ids such as
 * `012345678901`), integers beyond 2^53, and `.inf`/`.nan`, which JSON cannot represent.
 */

/** The JSON value a template parses to. */
export type CfnValue = string | number | boolean | null | CfnValue[] | { [key: string]: CfnValue };

/** A syntax error, with the 1-based line and column of the offending character. */
export class CfnYamlError extends Error {
  override name = 'CfnYamlError';

  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`${reason} (line ${line}, column ${column})`);
  }
}

/**
 * The short-form tags and the long form each becomes: `!Ref x` → `{"Ref": "x"}`, `!Condition c` → `{"Condition": "c"}`,
 * and every other `!Name v` → `{"Fn::Name": v}` (with `!GetAtt A.B` additionally split into `["A", "B"]`).
 */
export const CFN_SHORT_FORM_TAGS = [
  '!And',
  '!Base64',
  '!Cidr',
  '!Condition',
  '!Equals',
  '!FindInMap',
  '!GetAtt',
  '!GetAZs',
  '!If',
  '!ImportValue',
  '!Join',
  '!Not',
  '!Or',
  '!Ref',
  '!Select',
  '!Split',
  '!Sub',
  '!Transform',
] as const;

const SHORT_FORM_TAGS: ReadonlySet<string> = new Set(CFN_SHORT_FORM_TAGS);

/**
 * Parses one YAML document (a CloudFormation template, or any YAML within the subset above) into a JSON value.
 * An empty document gives `null`.
 *
 * @throws CfnYamlError on any syntax error or unsupported construct.
 */
export function parseCfnYaml(text: string): CfnValue {
  return new Parser(text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n')).parseDocument();
}

const FLOW_INDICATORS = ',[]{}';
const CANNOT_START_PLAIN = ',[]{}#&*!|>\'"%@`';

const isBlank = (ch: string) => ch === ' ' || ch === '\t';
const isBreakOrEnd = (ch: string) => ch === '\n' || ch === '';
const isBlankOrBreakOrEnd = (ch: string) => isBlank(ch) || isBreakOrEnd(ch);

type Chomping = 'clip' | 'strip' | 'keep';

/** Where a node sits: the indentation its content must exceed, and what may follow the indicator that opened it. */
interface NodeContext {
  /** Column of the key or `-` that owns the node (-1 for the document root). */
  parentIndent: number;
  /** A mapping value may be a block sequence at the key's own indentation (`key:\n- a`). */
  isMappingValue: boolean;
  /** An explicitly tagged node: its scalar is not type-resolved, and it cannot carry a second tag. */
  tagged: boolean;
}

class Parser {
  private pos = 0;
  private rootStarted = false;

  constructor(private readonly src: string) {}

  parseDocument(): CfnValue {
    const column = this.skipToNextContent();
    if (column < 0) return null;
    this.rootStarted = true;
    const value = this.parseBlockNode(column, { parentIndent: -1, isMappingValue: false, tagged: false });
    if (!this.atEnd()) this.fail('unexpected content after the end of the document (check the indentation)');
    return value;
  }

  // --- block structure -------------------------------------------------------------------------------------------

  /** Parses the node whose first character is at the current position, in column `column`. */
  private parseBlockNode(column: number, context: NodeContext): CfnValue {
    const ch = this.peek();
    if (context.tagged && ch === '!') this.failDoubleTag();
    if (ch === '-' && isBlankOrBreakOrEnd(this.peek(1))) return this.parseBlockSequence(column);
    if (ch === '?' && isBlankOrBreakOrEnd(this.peek(1))) this.fail('explicit mapping keys ("? ") are not supported');
    if (ch === '!') return this.parseTaggedNode({ ...context, isMappingValue: false });
    const keyPos = this.pos;
    const key = this.tryReadMappingKey();
    if (key !== undefined) return this.parseBlockMapping(column, key, keyPos);
    return this.parseInlineValue(context);
  }

  private parseBlockMapping(column: number, firstKey: string, firstKeyPos: number): CfnValue {
    const mapping: { [key: string]: CfnValue } = {};
    let key = firstKey;
    let keyPos = firstKeyPos;
    for (;;) {
      if (Object.hasOwn(mapping, key)) this.fail(`duplicate mapping key "${key}"`, keyPos);
      const value = this.parseValueAfterIndicator({ parentIndent: column, isMappingValue: true, tagged: false });
      defineProperty(mapping, key, value);
      if (this.atEnd()) return mapping;
      const next = this.column();
      if (next < column) return mapping;
      if (next > column) this.fail('bad indentation of a mapping entry');
      if (this.peek() === '-' && isBlankOrBreakOrEnd(this.peek(1))) {
        this.fail('expected a mapping key but found a sequence entry (check the indentation)');
      }
      keyPos = this.pos;
      const nextKey = this.tryReadMappingKey();
      if (nextKey === undefined) this.fail('expected a mapping key ("key: value")');
      key = nextKey;
    }
  }

  private parseBlockSequence(column: number): CfnValue {
    const sequence: CfnValue[] = [];
    for (;;) {
      this.pos++; // the '-'
      this.skipInlineSpace();
      const ch = this.peek();
      const itemContext: NodeContext = { parentIndent: column, isMappingValue: false, tagged: false };
      sequence.push(
        ch === '#' || isBreakOrEnd(ch)
          ? this.parseValueAfterIndicator(itemContext)
          : this.parseBlockNode(this.column(), itemContext),
      );
      if (this.atEnd()) return sequence;
      const next = this.column();
      if (next < column) return sequence;
      if (next > column) this.fail('bad indentation of a sequence entry');
      // Same column but no '-': the sequence was the compact value of a mapping key, whose mapping continues here.
      if (!(this.peek() === '-' && isBlankOrBreakOrEnd(this.peek(1)))) return sequence;
    }
  }

  /**
   * Parses what follows `key:`, `- ` or a tag: a value on the same line, or a node on the following, more indented
   * lines, or nothing (null).
   */
  private parseValueAfterIndicator(context: NodeContext): CfnValue {
    this.skipInlineSpace();
    const ch = this.peek();
    if (ch === '#' || isBreakOrEnd(ch)) {
      this.skipComment();
      const column = this.skipToNextContent();
      if (column < 0) return null;
      if (column > context.parentIndent) return this.parseBlockNode(column, context);
      const compactSequence = this.peek() === '-' && isBlankOrBreakOrEnd(this.peek(1));
      if (column === context.parentIndent && context.isMappingValue && compactSequence) {
        return this.parseBlockSequence(column);
      }
      return null;
    }
    if (context.tagged && ch === '!') this.failDoubleTag();
    if (ch === '!') return this.parseTaggedNode(context);
    if (ch === '-' && isBlankOrBreakOrEnd(this.peek(1))) {
      this.fail('a block sequence cannot start on the same line as its mapping key');
    }
    if (ch === '?' && isBlankOrBreakOrEnd(this.peek(1))) this.fail('explicit mapping keys ("? ") are not supported');
    return this.parseInlineValue(context);
  }

  private parseTaggedNode(context: NodeContext): CfnValue {
    const tagPos = this.pos;
    const tag = this.readTag();
    if (!isBlankOrBreakOrEnd(this.peek())) this.fail(`expected a space after the tag ${tag}`);
    const value = this.parseValueAfterIndicator({ ...context, tagged: true });
    return applyTag(tag, value, (message) => this.fail(message, tagPos));
  }

  /** A scalar, flow collection or block scalar that starts at the current position; consumes the rest of its line. */
  private parseInlineValue(context: NodeContext): CfnValue {
    const ch = this.peek();
    let value: CfnValue;
    if (ch === '|' || ch === '>') {
      value = this.parseBlockScalar(context.parentIndent);
      this.skipToNextContent();
      return value;
    }
    if (ch === '[' || ch === '{') {
      value = this.parseFlowCollection();
      this.expectLineEnd('a flow collection');
    } else if (ch === '"' || ch === "'") {
      value = this.parseQuotedScalar();
      let after = this.pos;
      while (isBlank(this.src[after] ?? '')) after++;
      if (this.src[after] === ':') {
        this.fail('mapping values are not allowed here (a key cannot span several lines)', after);
      }
      this.expectLineEnd('a quoted scalar');
    } else {
      this.assertPlainStart(false);
      const text = this.readPlainBlockScalar(context.parentIndent);
      value = context.tagged ? text : resolvePlainScalar(text);
      this.expectLineEnd('a plain scalar');
    }
    this.skipToNextContent();
    return value;
  }

  /**
   * If the current line starts with `key:` (followed by a space or the end of the line), consumes the key and the
   * colon and returns the key; otherwise leaves the position alone and returns undefined.
   */
  private tryReadMappingKey(): string | undefined {
    const start = this.pos;
    const ch = this.peek();
    if (ch === '"' || ch === "'") {
      const lineEnd = this.lineEnd(start);
      const key = this.parseQuotedScalar();
      if (this.pos <= lineEnd) {
        this.skipInlineSpace();
        if (this.peek() === ':' && isBlankOrBreakOrEnd(this.peek(1))) {
          this.pos++;
          return key;
        }
      }
      this.pos = start;
      return undefined;
    }
    if (CANNOT_START_PLAIN.includes(ch)) return undefined;
    if ('-?:'.includes(ch) && isBlankOrBreakOrEnd(this.peek(1))) return undefined;
    const lineEnd = this.lineEnd(start);
    for (let i = start; i < lineEnd; i++) {
      const c = this.src[i];
      if (c === '#' && isBlank(this.src[i - 1] ?? '')) return undefined;
      if (c === ':' && isBlankOrBreakOrEnd(this.src[i + 1] ?? '')) {
        this.pos = i + 1;
        return this.src.slice(start, i).trimEnd();
      }
    }
    return undefined;
  }

  // --- scalars ---------------------------------------------------------------------------------------------------

  /** A plain scalar in block context; continuation lines must be indented more than `parentIndent`. */
  private readPlainBlockScalar(parentIndent: number): string {
    let { text, endedByComment } = this.readPlainBlockLine();
    while (!endedByComment) {
      const continuation = this.findPlainContinuation(parentIndent);
      if (continuation === undefined) break;
      this.pos = continuation.contentPos;
      const line = this.readPlainBlockLine();
      text += continuation.blankLines > 0 ? '\n'.repeat(continuation.blankLines) : ' ';
      text += line.text;
      endedByComment = line.endedByComment;
    }
    return text;
  }

  private readPlainBlockLine(): { text: string; endedByComment: boolean } {
    const start = this.pos;
    const lineEnd = this.lineEnd(start);
    let i = start;
    let endedByComment = false;
    for (; i < lineEnd; i++) {
      const c = this.src[i];
      if (c === '#' && i > start && isBlank(this.src[i - 1] ?? '')) {
        endedByComment = true;
        break;
      }
      if (c === ':' && isBlankOrBreakOrEnd(this.src[i + 1] ?? '')) {
        this.fail('mapping values are not allowed here (quote the value if it contains ": ")', i);
      }
    }
    const text = this.src.slice(start, i).trimEnd();
    this.pos = start + text.length;
    return { text, endedByComment };
  }

  /** Looks past the current line for a line that continues a multi-line plain scalar. */
  private findPlainContinuation(parentIndent: number): { contentPos: number; blankLines: number } | undefined {
    let lineStart = this.lineEnd(this.pos) + 1;
    let blankLines = 0;
    while (lineStart <= this.src.length) {
      const lineEnd = this.lineEnd(lineStart);
      let i = lineStart;
      while (i < lineEnd && isBlank(this.src[i] ?? '')) i++;
      if (i === lineEnd) {
        if (lineEnd >= this.src.length) return undefined;
        blankLines++;
        lineStart = lineEnd + 1;
        continue;
      }
      let indent = 0;
      while (this.src[lineStart + indent] === ' ') indent++;
      if (this.src[i] === '#' || indent <= parentIndent || this.isDocumentMarker(lineStart)) return undefined;
      return { contentPos: i, blankLines };
    }
    return undefined;
  }

  private parseQuotedScalar(): string {
    const quote = this.peek();
    const openPos = this.pos;
    this.pos++;
    let out = '';
    let pendingSpace = '';
    for (;;) {
      const ch = this.peek();
      if (ch === '') this.fail('unterminated quoted scalar', openPos);
      if (ch === quote) {
        if (quote === "'" && this.peek(1) === "'") {
          out += pendingSpace + "'";
          pendingSpace = '';
          this.pos += 2;
          continue;
        }
        this.pos++;
        return out + pendingSpace;
      }
      if (ch === '\n') {
        // Line folding: trailing spaces go, one break becomes a space, each further break a newline.
        pendingSpace = '';
        const breaks = this.skipFoldedBreaks();
        out += breaks === 1 ? ' ' : '\n'.repeat(breaks - 1);
        continue;
      }
      if (isBlank(ch)) {
        pendingSpace += ch;
        this.pos++;
        continue;
      }
      out += pendingSpace;
      pendingSpace = '';
      if (ch === '\\' && quote === '"') {
        if (this.peek(1) === '\n') {
          this.pos++;
          this.skipFoldedBreaks();
          continue;
        }
        out += this.readEscape();
        continue;
      }
      out += ch;
      this.pos++;
    }
  }

  /** At a line break inside a quoted scalar: skips it, further empty lines and the next line's indentation. */
  private skipFoldedBreaks(): number {
    let breaks = 0;
    while (this.peek() === '\n') {
      breaks++;
      this.pos++;
      while (isBlank(this.peek())) this.pos++;
    }
    return breaks;
  }

  private readEscape(): string {
    const escapePos = this.pos;
    const code = this.peek(1);
    this.pos += 2;
    const simple = SIMPLE_ESCAPES[code];
    if (simple !== undefined) return simple;
    const hexLength = code === 'x' ? 2 : code === 'u' ? 4 : code === 'U' ? 8 : 0;
    if (hexLength === 0) this.fail(`unknown escape sequence "\\${code}"`, escapePos);
    const hex = this.src.slice(this.pos, this.pos + hexLength);
    if (!new RegExp(`^[0-9a-fA-F]{${hexLength}}$`).test(hex)) {
      this.fail(`escape "\\${code}" needs ${hexLength} hexadecimal digits`, escapePos);
    }
    const codePoint = Number.parseInt(hex, 16);
    if (codePoint > 0x10ffff) this.fail(`escape "\\${code}${hex}" is not a Unicode code point`, escapePos);
    this.pos += hexLength;
    return String.fromCodePoint(codePoint);
  }

  private parseBlockScalar(parentIndent: number): string {
    const folded = this.peek() === '>';
    this.pos++;
    let chomping: Chomping | undefined;
    let explicitIndent: number | undefined;
    for (let i = 0; i < 2; i++) {
      const ch = this.peek();
      if ((ch === '-' || ch === '+') && chomping === undefined) chomping = ch === '-' ? 'strip' : 'keep';
      else if (/^[1-9]$/.test(ch) && explicitIndent === undefined) explicitIndent = Number(ch);
      else break;
      this.pos++;
    }
    this.expectLineEnd('a block scalar header');
    if (this.atEnd()) return '';
    this.pos++; // the line break ending the header

    const lines = this.collectBlockScalarLines(
      explicitIndent === undefined ? undefined : Math.max(parentIndent, 0) + explicitIndent,
      parentIndent,
    );
    return foldBlockScalar(lines, folded, chomping ?? 'clip');
  }

  /**
   * Consumes the lines of a block scalar and returns them without their indentation (`null` for empty lines).
   * Leaves the position at the start of the first line that is not part of the scalar.
   */
  private collectBlockScalarLines(explicitIndent: number | undefined, parentIndent: number): (string | null)[] {
    let contentIndent = explicitIndent;
    if (contentIndent === undefined) {
      // Auto-detect: the indentation of the first non-empty line, which must exceed the parent's.
      let lineStart = this.pos;
      contentIndent = parentIndent + 1;
      while (lineStart < this.src.length) {
        const lineEnd = this.lineEnd(lineStart);
        let indent = 0;
        while (this.src[lineStart + indent] === ' ') indent++;
        if (lineStart + indent < lineEnd) {
          contentIndent = Math.max(indent, parentIndent + 1);
          break;
        }
        lineStart = lineEnd + 1;
      }
    }
    const lines: (string | null)[] = [];
    while (this.pos < this.src.length) {
      const lineStart = this.pos;
      const lineEnd = this.lineEnd(lineStart);
      let indent = 0;
      while (this.src[lineStart + indent] === ' ' && indent < contentIndent) indent++;
      const rest = this.src.slice(lineStart + indent, lineEnd);
      if (indent < contentIndent) {
        if (/^[ \t]*$/.test(rest)) lines.push(null);
        else break;
      } else if (contentIndent === 0 && this.isDocumentMarker(lineStart)) {
        break;
      } else {
        lines.push(rest === '' ? null : rest);
      }
      this.pos = Math.min(lineEnd + 1, this.src.length);
    }
    return lines;
  }

  // --- flow collections ------------------------------------------------------------------------------------------

  private parseFlowCollection(): CfnValue {
    return this.peek() === '[' ? this.parseFlowSequence() : this.parseFlowMapping();
  }

  private parseFlowSequence(): CfnValue {
    const openPos = this.pos;
    this.pos++;
    const sequence: CfnValue[] = [];
    for (;;) {
      this.skipFlowSpace();
      const ch = this.peek();
      if (ch === '') this.fail('unterminated flow sequence', openPos);
      if (ch === ']') {
        this.pos++;
        return sequence;
      }
      sequence.push(this.parseFlowNode(false));
      this.skipFlowSpace();
      if (this.peek() === ':') this.fail('single-pair mappings inside a flow sequence are not supported');
      if (this.peek() === '') this.fail('unterminated flow sequence', openPos);
      if (this.peek() === ',') this.pos++;
      else if (this.peek() !== ']') this.fail("expected ',' or ']' in a flow sequence");
    }
  }

  private parseFlowMapping(): CfnValue {
    const openPos = this.pos;
    this.pos++;
    const mapping: { [key: string]: CfnValue } = {};
    for (;;) {
      this.skipFlowSpace();
      const ch = this.peek();
      if (ch === '') this.fail('unterminated flow mapping', openPos);
      if (ch === '}') {
        this.pos++;
        return mapping;
      }
      const keyPos = this.pos;
      let key: string;
      if (ch === '"' || ch === "'") key = this.parseQuotedScalar();
      else if (ch === '[' || ch === '{') this.fail('collections as mapping keys are not supported');
      else {
        this.assertPlainStart(true);
        key = this.readPlainFlowScalar();
      }
      if (Object.hasOwn(mapping, key)) this.fail(`duplicate mapping key "${key}"`, keyPos);
      this.skipFlowSpace();
      let value: CfnValue = null;
      if (this.peek() === ':') {
        this.pos++;
        this.skipFlowSpace();
        if (this.peek() !== ',' && this.peek() !== '}') value = this.parseFlowNode(false);
        this.skipFlowSpace();
      }
      defineProperty(mapping, key, value);
      if (this.peek() === '') this.fail('unterminated flow mapping', openPos);
      if (this.peek() === ',') this.pos++;
      else if (this.peek() !== '}') this.fail("expected ',' or '}' in a flow mapping");
    }
  }

  private parseFlowNode(tagged: boolean): CfnValue {
    const ch = this.peek();
    if (ch === '[' || ch === '{') return this.parseFlowCollection();
    if (ch === '"' || ch === "'") return this.parseQuotedScalar();
    if (ch === '!') {
      if (tagged) this.failDoubleTag();
      const tagPos = this.pos;
      const tag = this.readTag();
      this.skipFlowSpace();
      const next = this.peek();
      const value = next === ',' || next === ']' || next === '}' || next === '' ? null : this.parseFlowNode(true);
      return applyTag(tag, value, (message) => this.fail(message, tagPos));
    }
    if (ch === '|' || ch === '>') this.fail('block scalars are not allowed inside flow collections');
    this.assertPlainStart(true);
    const text = this.readPlainFlowScalar();
    return tagged ? text : resolvePlainScalar(text);
  }

  /** A plain scalar inside `[...]` or `{...}`; may continue over several lines. */
  private readPlainFlowScalar(): string {
    let text = '';
    for (;;) {
      const start = this.pos;
      while (this.pos < this.src.length) {
        const c = this.src[this.pos] ?? '';
        const next = this.src[this.pos + 1] ?? '';
        if (c === '\n' || FLOW_INDICATORS.includes(c)) break;
        if (c === ':' && (isBlankOrBreakOrEnd(next) || FLOW_INDICATORS.includes(next))) break;
        if (c === '#' && this.pos > start && isBlank(this.src[this.pos - 1] ?? '')) break;
        this.pos++;
      }
      text += this.src.slice(start, this.pos).trimEnd();
      if (this.peek() !== '\n') return text;
      // Continue on the next line unless it starts with something that ends the scalar.
      let probe = this.pos;
      let breaks = 0;
      while (probe < this.src.length && (this.src[probe] === '\n' || isBlank(this.src[probe] ?? ''))) {
        if (this.src[probe] === '\n') breaks++;
        probe++;
      }
      const c = this.src[probe] ?? '';
      const next = this.src[probe + 1] ?? '';
      if (c === '' || c === '#' || FLOW_INDICATORS.includes(c) || (c === ':' && isBlankOrBreakOrEnd(next))) {
        return text;
      }
      text += breaks === 1 ? ' ' : '\n'.repeat(breaks - 1);
      this.pos = probe;
    }
  }

  // --- low-level helpers -----------------------------------------------------------------------------------------

  private readTag(): string {
    const start = this.pos;
    if (this.peek(1) === '<') this.fail('verbatim tags are not supported');
    this.pos++;
    while (!isBlankOrBreakOrEnd(this.peek()) && !FLOW_INDICATORS.includes(this.peek())) this.pos++;
    const tag = this.src.slice(start, this.pos);
    if (!SHORT_FORM_TAGS.has(tag)) {
      this.fail(`unsupported tag ${tag}; only CloudFormation short-form functions are supported`, start);
    }
    return tag;
  }

  private assertPlainStart(inFlow: boolean): void {
    const ch = this.peek();
    const next = this.peek(1);
    if (ch === '&') this.fail('anchors (&name) are not supported');
    if (ch === '*') this.fail('aliases (*name) are not supported');
    const endsIndicator = isBlankOrBreakOrEnd(next) || (inFlow && FLOW_INDICATORS.includes(next));
    if (CANNOT_START_PLAIN.includes(ch) || ('-?:'.includes(ch) && endsIndicator)) {
      this.fail(`unexpected character "${ch}"`);
    }
  }

  /** After a complete value on a line: only spaces and a comment may follow. */
  private expectLineEnd(what: string): void {
    const start = this.pos;
    this.skipInlineSpace();
    if (this.peek() === '#' && this.pos > start) this.skipComment();
    if (!isBreakOrEnd(this.peek())) this.fail(`unexpected content after ${what}`);
  }

  /**
   * Moves to the next meaningful character, skipping blank lines and comments, and returns its column (-1 at the
   * end of the document). Must be called where the rest of the current line holds nothing but spaces or a comment.
   */
  private skipToNextContent(): number {
    for (;;) {
      if (this.atEnd()) return -1;
      const ch = this.peek();
      if (ch === '\n' || isBlank(ch)) {
        this.pos++;
        continue;
      }
      if (ch === '#') {
        this.skipComment();
        continue;
      }
      const lineStart = this.lineStart(this.pos);
      if (this.pos === lineStart) {
        if (ch === '%' && !this.rootStarted) this.fail('YAML directives are not supported');
        if (this.isDocumentMarker(lineStart)) {
          if (this.src.startsWith('---', lineStart) && !this.rootStarted) {
            this.pos += 3;
            this.rootStarted = true;
            continue;
          }
          if (this.src.startsWith('...', lineStart)) {
            this.pos += 3;
            this.skipInlineSpace();
            this.skipComment();
            if (this.skipToNextContent() >= 0) this.fail('only one YAML document is supported');
            return -1;
          }
          this.fail('only one YAML document is supported');
        }
      }
      const indentation = this.src.slice(lineStart, this.pos);
      if (indentation.includes('\t') && /^[ \t]*$/.test(indentation)) {
        this.fail('tab characters must not be used for indentation');
      }
      return this.column();
    }
  }

  /** Whitespace, line breaks and comments between the items of a flow collection. */
  private skipFlowSpace(): void {
    for (;;) {
      const ch = this.peek();
      if (ch === '\n' || isBlank(ch)) this.pos++;
      else if (ch === '#' && (this.pos === 0 || isBlankOrBreakOrEnd(this.src[this.pos - 1] ?? ''))) this.skipComment();
      else return;
    }
  }

  private skipInlineSpace(): void {
    while (isBlank(this.peek())) this.pos++;
  }

  private skipComment(): void {
    if (this.peek() === '#') this.pos = this.lineEnd(this.pos);
  }

  private isDocumentMarker(lineStart: number): boolean {
    const marker = this.src.slice(lineStart, lineStart + 3);
    return (marker === '---' || marker === '...') && isBlankOrBreakOrEnd(this.src[lineStart + 3] ?? '');
  }

  private peek(offset = 0): string {
    return this.src[this.pos + offset] ?? '';
  }

  private atEnd(): boolean {
    return this.pos >= this.src.length;
  }

  private lineStart(pos: number): number {
    return this.src.lastIndexOf('\n', pos - 1) + 1;
  }

  private lineEnd(pos: number): number {
    const end = this.src.indexOf('\n', pos);
    return end < 0 ? this.src.length : end;
  }

  private column(pos = this.pos): number {
    return pos - this.lineStart(pos);
  }

  private failDoubleTag(): never {
    this.fail(
      'a node cannot have two tags (e.g. "!Base64 !Sub ..."); write the outer function in long form, ' +
        'e.g. "Fn::Base64: !Sub ..."',
    );
  }

  private fail(message: string, pos = this.pos): never {
    let line = 1;
    for (let i = 0; i < pos && i < this.src.length; i++) if (this.src[i] === '\n') line++;
    throw new CfnYamlError(message, line, this.column(Math.min(pos, this.src.length)) + 1);
  }
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '0': '\0',
  a: '\x07',
  b: '\b',
  t: '\t',
  '\t': '\t',
  n: '\n',
  v: '\v',
  f: '\f',
  r: '\r',
  e: '\x1b',
  ' ': ' ',
  '"': '"',
  '/': '/',
  '\\': '\\',
  N: '\x85',
  _: '\xa0',
  L: '\u2028',
  P: '\u2029',
};

/** Joins block scalar lines: literal keeps every break; folded turns single breaks between plain lines into spaces. */
function foldBlockScalar(lines: (string | null)[], folded: boolean, chomping: Chomping): string {
  let out = '';
  let emptyLines = 0;
  let hasContent = false;
  let previousMoreIndented = false;
  for (const line of lines) {
    if (line === null) {
      emptyLines++;
      continue;
    }
    const moreIndented = line.startsWith(' ') || line.startsWith('\t');
    if (!folded || !hasContent) {
      out += '\n'.repeat(hasContent ? emptyLines + 1 : emptyLines);
    } else if (moreIndented || previousMoreIndented) {
      // Lines indented beyond the block keep their breaks even when folding.
      out += '\n'.repeat(emptyLines + 1);
    } else {
      out += emptyLines === 0 ? ' ' : '\n'.repeat(emptyLines);
    }
    out += line;
    hasContent = true;
    emptyLines = 0;
    previousMoreIndented = moreIndented;
  }
  if (chomping === 'clip') return hasContent ? `${out}\n` : out;
  if (chomping === 'keep') return out + '\n'.repeat(hasContent ? emptyLines + 1 : emptyLines);
  return out;
}

function applyTag(tag: string, value: CfnValue, fail: (message: string) => never): CfnValue {
  const name = tag.slice(1);
  // A tag on an empty node tags the empty string (YAML's rule for explicitly tagged empty scalars).
  const argument = value ?? '';
  if (name === 'Ref' || name === 'Condition') return { [name]: argument };
  if (name === 'GetAtt' && typeof argument === 'string') {
    const dot = argument.indexOf('.');
    if (dot <= 0 || dot === argument.length - 1) fail('!GetAtt needs "LogicalName.AttributeName"');
    // Logical names cannot contain dots, but attribute names can (e.g. "Outputs.Name" of a nested stack).
    return { 'Fn::GetAtt': [argument.slice(0, dot), argument.slice(dot + 1)] };
  }
  return { [`Fn::${name}`]: argument };
}

/** Core-schema resolution of an untagged plain scalar (see the module comment for the lossless exceptions). */
function resolvePlainScalar(text: string): CfnValue {
  if (text === '' || text === '~' || text === 'null' || text === 'Null' || text === 'NULL') return null;
  if (text === 'true' || text === 'True' || text === 'TRUE') return true;
  if (text === 'false' || text === 'False' || text === 'FALSE') return false;
  if (/^[-+]?(?:0|[1-9][0-9]*)$/.test(text)) return safeInteger(Number(text), text);
  if (/^0o[0-7]+$/.test(text)) return safeInteger(Number.parseInt(text.slice(2), 8), text);
  if (/^0x[0-9a-fA-F]+$/.test(text)) return safeInteger(Number.parseInt(text.slice(2), 16), text);
  if (/^[-+]?(?:\.[0-9]+|(?:0|[1-9][0-9]*)(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/.test(text)) {
    const number = Number(text);
    return Number.isFinite(number) ? number : text;
  }
  return text;
}

function safeInteger(value: number, text: string): CfnValue {
  return Number.isSafeInteger(value) ? value : text;
}

/** Plain assignment would treat a "__proto__" key as the prototype instead of a property. */
function defineProperty(target: { [key: string]: CfnValue }, key: string, value: CfnValue): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
