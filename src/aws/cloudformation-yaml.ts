/**
 * CloudFormation YAML on the maintained `yaml` library: the short-form intrinsic functions (`!Ref`, `!Sub`, `!GetAtt`,
 * …) are declared as custom tags and read as their long forms (`{ Ref: … }`, `{ 'Fn::Sub': … }`), and what
 * CloudFormation refuses is refused with the reason and its line: aliases and anchors, duplicate keys, tabs as
 * indentation, several documents, directives, tags that are not intrinsic functions, two tags on one node.
 *
 * The parsed `yaml` document is kept next to the plain value, so an editor can find the exact source range of any
 * node and rewrite that text alone.
 */
import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  parseDocument,
  type Document,
  type Node,
  type ParsedNode,
  type Scalar,
  type ScalarTag,
  type CollectionTag,
} from 'yaml';

export type CfnValue = string | number | boolean | null | CfnValue[] | { [key: string]: CfnValue };
export type CfnMapping = { [key: string]: CfnValue };

/** A template CloudFormation would refuse, with where: 1-based line and column. */
export class CloudFormationYamlError extends Error {
  override name = 'CloudFormationYamlError';

  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`${reason} (line ${line}, column ${column})`);
  }
}

/** Short form → long form. `!Ref` and `!Condition` keep their names; every other one is `Fn::<name>`. */
const INTRINSICS = [
  'Ref',
  'Condition',
  'Sub',
  'GetAtt',
  'Join',
  'Select',
  'Split',
  'FindInMap',
  'Base64',
  'Cidr',
  'GetAZs',
  'ImportValue',
  'If',
  'Equals',
  'And',
  'Or',
  'Not',
  'Transform',
  'ToJsonString',
  'Length',
] as const;

const longForm = (name: string) => (name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`);

/**
 * Every short form declared for scalars, sequences and mappings. They resolve to the node itself: the conversion to
 * the long form happens below, where the node's source is at hand.
 */
const CLOUDFORMATION_TAGS: (ScalarTag | CollectionTag)[] = INTRINSICS.flatMap((name) => [
  { tag: `!${name}`, resolve: (value: string) => value },
  { tag: `!${name}`, collection: 'seq', resolve: (seq) => seq },
  { tag: `!${name}`, collection: 'map', resolve: (map) => map },
]);

export interface ParsedTemplateYaml {
  value: CfnValue;
  document: Document.Parsed;
}

/** Parses CloudFormation YAML (JSON is YAML too) into its plain value, or throws CloudFormationYamlError. */
export function parseCloudFormationYaml(text: string): ParsedTemplateYaml {
  const source = text.replace(/^\uFEFF/, '');
  const document = parseDocument(source, {
    uniqueKeys: sameKey,
    customTags: CLOUDFORMATION_TAGS,
    keepSourceTokens: true,
  });
  const problem = document.errors[0] ?? document.warnings.find((w) => w.code === 'TAG_RESOLVE_FAILED');
  if (problem) {
    const [position] = problem.linePos ?? [{ line: 1, col: 1 }];
    throw new CloudFormationYamlError(reasonOf(problem.code, problem.message), position.line, position.col);
  }
  const { yaml, tags } = document.directives;
  if (yaml.explicit || Object.keys(tags).some((handle) => handle !== '!!')) {
    // `%YAML 1.1` would switch the schema (`yes` becomes true), `%TAG` would rename tags: the template would read
    // differently here than the short forms and scalars are declared above.
    const { line, column } = lineAndColumn(source, Math.max(source.search(/^%/m), 0));
    throw new CloudFormationYamlError('YAML directives (%YAML, %TAG) are not supported', line, column);
  }
  const at = (node: { range?: [number, number, number] | null }) => lineAndColumn(source, node.range?.[0] ?? 0);
  return { value: document.contents ? toValue(document.contents, at) : null, document };
}

function reasonOf(code: string, message: string): string {
  const first = message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  switch (code) {
    case 'DUPLICATE_KEY':
      return `duplicate mapping key: ${first}`;
    case 'TAB_AS_INDENT':
      return 'tab characters must not indent YAML';
    case 'MULTIPLE_DOCS':
      return 'a template is one YAML document';
    case 'MULTIPLE_TAGS':
      return 'two tags on one node: CloudFormation takes one short form per node (write the outer one long, e.g. `Fn::Base64: !Sub …`)';
    case 'TAG_RESOLVE_FAILED':
      return `unsupported tag ${first.replace(/^(?:Unresolved tag|Could not resolve tag): /, '')}: only CloudFormation short forms (!Ref, !Sub, …)`;
    default:
      return first;
  }
}

type Locate = (node: { range?: [number, number, number] | null }) => { line: number; column: number };

function toValue(node: ParsedNode, at: Locate): CfnValue {
  const refuse = (reason: string, where: { range?: [number, number, number] | null } = node) => {
    const { line, column } = at(where);
    return new CloudFormationYamlError(reason, line, column);
  };
  if (isAlias(node)) throw refuse('aliases are not allowed in CloudFormation templates');
  if (node.anchor) throw refuse('anchors are not allowed in CloudFormation templates');
  const tag = node.tag?.startsWith('!') && !node.tag.startsWith('!!') ? node.tag.slice(1) : undefined;
  if (node.tag !== undefined && tag === undefined) {
    throw refuse(`unsupported tag ${node.tag.replace('tag:yaml.org,2002:', '!!')}: only CloudFormation short forms`);
  }

  let value: CfnValue;
  if (isScalar(node)) {
    // A tagged scalar is not type-resolved: `!Ref 123` names the string "123".
    value = tag !== undefined ? (typeof node.value === 'string' ? node.value : (node.source ?? '')) : plainValue(node);
  } else if (isSeq(node)) {
    value = node.items.map((item) => {
      if (isPair(item)) throw refuse('single-pair mappings inside a flow sequence are not allowed', node);
      return toValue(item, at);
    });
  } else if (isMap(node)) {
    const mapping: CfnMapping = {};
    for (const pair of node.items) {
      const key = pair.key as ParsedNode | null;
      if (!key || !isScalar(key) || key.tag !== undefined)
        throw refuse('mapping keys must be plain scalars', key ?? node);
      if (key.anchor) throw refuse('anchors are not allowed in CloudFormation templates', key);
      // `__proto__` is a key like any other, never the object's prototype.
      Object.defineProperty(mapping, keyText(key), {
        value: pair.value ? toValue(pair.value, at) : null,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    value = mapping;
  } else {
    throw refuse('unsupported YAML node');
  }
  return tag === undefined ? value : intrinsic(tag, value, () => refuse(`!GetAtt needs LogicalName.AttributeName`));
}

function intrinsic(name: string, value: CfnValue, badGetAtt: () => Error): CfnValue {
  if (name === 'GetAtt' && typeof value === 'string') {
    const dot = value.indexOf('.');
    if (dot <= 0 || dot === value.length - 1) throw badGetAtt();
    return { 'Fn::GetAtt': [value.slice(0, dot), value.slice(dot + 1)] };
  }
  return { [longForm(name)]: value };
}

/**
 * A scalar's value by the YAML 1.2 core schema, except numbers a JavaScript number cannot carry exactly (account ids
 * with a leading zero, 20-digit ids, `.inf`): those stay the string that was written, as CloudFormation reads them.
 */
function plainValue(node: Scalar): CfnValue {
  const value = node.value;
  if (typeof value === 'number' && node.type === 'PLAIN') {
    const written = node.source ?? String(value);
    if (!Number.isFinite(value) || !exactNumber(written, value)) return written;
  }
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return value;
  }
  return node.source ?? '';
}

function exactNumber(written: string, value: number): boolean {
  if (/^[-+]?0[0-9]/.test(written)) return false;
  if (/^[-+]?[0-9]+$/.test(written)) return Number.isSafeInteger(value);
  return true;
}

/**
 * A mapping key as CloudFormation reads it: the text written, not a number or boolean made of it, so an account id
 * keeps its leading zero (`012345678901:` in a Mappings table) and `1.10:` stays "1.10".
 */
function keyText(key: Scalar): string {
  return key.type === 'PLAIN' && key.source !== undefined ? key.source : String(key.value);
}

/** Duplicate keys by the text CloudFormation reads: `1:` and `'1':` are one key, `012:` and `12:` two. */
function sameKey(a: unknown, b: unknown): boolean {
  const text = (key: unknown) => (isScalar(key) ? keyText(key) : key);
  return text(a) === text(b);
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

/** The node at a path of mapping keys, with its exact source range; undefined where a step is not a mapping key. */
export function nodeAt(document: Document.Parsed, path: readonly string[]): Node | undefined {
  let node: Node | null | undefined = document.contents;
  for (const key of path) {
    if (!isMap(node)) return undefined;
    const pair = node.items.find((p) => isScalar(p.key) && keyText(p.key) === key);
    node = pair?.value as Node | null | undefined;
  }
  return node ?? undefined;
}
