/**
 * Edits of a template's text by the exact source ranges the YAML library gives each node (JSON is YAML too): a scalar
 * rewritten where it is written, an item appended to a list in the list's own style. Nothing else is touched — comments,
 * short-form tags, quoting, key order, blank lines, indentation and line endings stay byte for byte. Edits are made
 * from the end of the text backwards, so each range is still where the parse found it.
 */
import { isScalar, isSeq, type Document, type Node, type Scalar } from 'yaml';
import { nodeAt } from './cloudformation-yaml.js';
import { pathText, TextEditError } from './template-values.js';

interface Splice {
  at: number;
  remove: number;
  insert: string;
}

export class TemplateSplicer {
  private readonly splices: Splice[] = [];

  /** `text` without its byte order mark, as the document was parsed from. */
  constructor(
    private readonly text: string,
    private readonly document: Document.Parsed,
  ) {}

  /**
   * Rewrites the scalar at `path` (currently `oldValue`) as `newValue`, in the quotes it is written in. Only a value
   * written literally is rewritten: an escaped spelling is refused rather than replaced by one that reads differently.
   */
  replaceScalar(path: readonly string[], oldValue: string, newValue: string): void {
    const node = this.scalarAt(path);
    const [start, end] = node.range!;
    const quote = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE' ? 1 : 0;
    if (node.type !== 'PLAIN' && !quote) throw new TextEditError(`${pathText(path)} is a block scalar`);
    if (this.text.slice(start + quote, end - quote) !== oldValue) {
      throw new TextEditError(`${pathText(path)} is not written as ${oldValue} in the template text`);
    }
    this.splices.push({ at: start + quote, remove: oldValue.length, insert: newValue });
  }

  /**
   * Appends `newValue` to the non-empty list of strings at `path`, in the list's own style: a new `- item` line for a
   * block sequence, `, item` before the `]` of a flow sequence or JSON array (with the separator the list already
   * uses), quoted like the list's last item.
   */
  appendToList(path: readonly string[], newValue: string): void {
    const list = nodeAt(this.document, path);
    if (!isSeq(list) || list.items.length === 0 || !list.items.every((i) => isScalar(i))) {
      throw new TextEditError(`${pathText(path)} is not a non-empty list of strings`);
    }
    const items = list.items;
    const last = items.at(-1)!;
    if (last.type !== 'PLAIN' && last.type !== 'QUOTE_DOUBLE' && last.type !== 'QUOTE_SINGLE') {
      throw new TextEditError(`the last item of ${pathText(path)} is a block scalar`);
    }
    const quote = last.type === 'QUOTE_DOUBLE' ? '"' : last.type === 'QUOTE_SINGLE' ? "'" : '';
    const item = `${quote}${newValue}${quote}`;
    const [lastStart, lastEnd] = last.range!;
    const text = this.text;

    if (!list.flow) {
      // A new entry on the line after the last one, written like it (`      - ` or `- ` at the key's indentation).
      const lineStart = text.lastIndexOf('\n', lastStart - 1) + 1;
      const prefix = text.slice(lineStart, lastStart);
      if (!/^[ ]*-[ ]+$/.test(prefix))
        throw new TextEditError(`${pathText(path)} is written in a layout we do not edit`);
      const lineEnd = text.indexOf('\n', lastEnd);
      const eol = text.includes('\r\n') ? '\r\n' : '\n';
      if (lineEnd < 0) this.splices.push({ at: text.length, remove: 0, insert: `${eol}${prefix}${item}` });
      else
        this.splices.push({
          at: lineEnd + 1,
          remove: 0,
          insert: `${prefix}${item}${text[lineEnd - 1] === '\r' ? '\r\n' : '\n'}`,
        });
      return;
    }

    let separator: string;
    if (items.length > 1) {
      separator = text.slice(items.at(-2)!.range![1], lastStart);
    } else {
      const open = text.lastIndexOf('[', lastStart);
      const inside = text.slice(open + 1, lastStart);
      separator = inside.includes('\n') ? `,${inside}` : inside === '' && text[open - 1] === ':' ? ',' : ', ';
    }
    this.splices.push({ at: lastEnd, remove: 0, insert: `${separator}${item}` });
  }

  /** The text with every edit made. */
  result(): string {
    let out = this.text;
    for (const s of [...this.splices].sort((a, b) => b.at - a.at)) {
      out = out.slice(0, s.at) + s.insert + out.slice(s.at + s.remove);
    }
    return out;
  }

  private scalarAt(path: readonly string[]): Scalar {
    const node: Node | undefined = nodeAt(this.document, path);
    if (!isScalar(node) || !node.range) throw new TextEditError(`${pathText(path)} is not a scalar`);
    return node;
  }
}
