/**
 * Reads and changes the EC2 instance type a CloudFormation template launches, for the new product version that
 * self-healing creates (reference §2.6 and §6 item 10).
 *
 * The type can be set in three kinds of resource — `AWS::EC2::Instance` and `AWS::AutoScaling::LaunchConfiguration`
 * (`Properties.InstanceType`) and `AWS::EC2::LaunchTemplate` (`Properties.LaunchTemplateData.InstanceType`) — either
 * as a literal or as a `Ref` to a template parameter, whose `Default` is then what launches. Every such place is a
 * site; all of them must agree on one type, and a change rewrites all of them (plus the parameter's `AllowedValues`,
 * which must admit the new type). Anything that cannot be changed by rewriting a value — a mapping lookup, a
 * condition, a pseudo parameter, a parameter without a default, an SSM-backed parameter — is refused, naming the
 * resource, so that a person decides.
 *
 * Both formats are edited in place at the exact source ranges the YAML library reports (see template-splice.ts):
 * only the changed scalars differ, so comments, short-form tags, quoting, key order, blank lines and the JSON layout
 * survive byte for byte. The edited text is parsed again and must give exactly the original document with the
 * intended changes, or nothing is returned.
 */
import type { Document } from 'yaml';
import {
  CloudFormationYamlError,
  parseCloudFormationYaml,
  type CfnMapping,
  type CfnValue,
} from './cloudformation-yaml.js';
import { TemplateSplicer } from './template-splice.js';
import {
  deepEqual,
  getAt,
  isMapping,
  pathText,
  serializeJsonLike,
  TextEditError,
  withValue,
} from './template-values.js';

export type TemplateFormat = 'json' | 'yaml';

/** One place in the template that decides an instance type. */
export interface InstanceTypeSite {
  /** Path of the scalar to rewrite, e.g. `['Parameters', 'InstanceType', 'Default']`. */
  path: string[];
  /** `parameter-default`: the resource `Ref`s a parameter and its `Default` applies; `literal`: written on the resource. */
  kind: 'parameter-default' | 'literal';
  /** The type written there (in `setInstanceType`'s `changed`: the new type). */
  value: string;
  /** Logical id of the resource that launches with this type. */
  resource?: string;
  /** The parameter, for `parameter-default` sites. */
  parameter?: string;
}

export interface TemplateAnalysis {
  format: TemplateFormat;
  /** Every site, in resource order; a parameter referenced by several resources appears once per resource. */
  sites: InstanceTypeSite[];
  /** The type all sites agree on. Always set when `analyzeInstanceType` returns (it throws otherwise). */
  currentType: string | undefined;
}

export type TemplateEditReason = 'unparseable' | 'no-instance-type' | 'ambiguous' | 'mismatch' | 'unsupported';

export class TemplateEditError extends Error {
  override name = 'TemplateEditError';

  constructor(
    readonly reason: TemplateEditReason,
    message: string,
    /** The sites found, when they are part of the problem (`ambiguous`, `mismatch`). */
    readonly sites: InstanceTypeSite[] = [],
  ) {
    super(message);
  }
}

/** Resource types that set an instance type, and where. */
const INSTANCE_TYPE_PROPERTY: Readonly<Record<string, readonly string[]>> = {
  'AWS::EC2::Instance': ['Properties', 'InstanceType'],
  'AWS::EC2::LaunchTemplate': ['Properties', 'LaunchTemplateData', 'InstanceType'],
  'AWS::AutoScaling::LaunchConfiguration': ['Properties', 'InstanceType'],
};

/** What a new instance type must look like (`t3.micro`, `m7i.48xlarge`, `u-6tb1.metal`, `c7i.metal-24xl`). */
const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9][a-z0-9-]*$/;

/**
 * Finds where the template sets the instance type and which type that is.
 *
 * @throws TemplateEditError `unparseable` (neither JSON nor CloudFormation YAML, or not a mapping), `no-instance-type`
 *   (no resource sets one), `unsupported` (a site that cannot be rewritten; the message names the resource) or
 *   `ambiguous` (sites disagree; `sites` lists them).
 */
export function analyzeInstanceType(templateText: string): TemplateAnalysis {
  const { format, doc } = parseTemplate(templateText);
  const sites = findSites(doc);
  return { format, sites, currentType: agreedType(sites) };
}

/**
 * Changes the instance type the template launches from `from` to `to`: every site is rewritten, and `to` is appended
 * to the `AllowedValues` of each parameter involved that does not list it yet. Returns the template unchanged (and
 * `changed: []`) when `from` and `to` are the same.
 *
 * @throws TemplateEditError as {@link analyzeInstanceType}, plus `mismatch` when the template does not set `from`,
 *   and `unsupported` when the edit cannot be made exactly (a parameter's `AllowedPattern` rejects `to`, or the text
 *   cannot be located or would not re-parse to the intended document).
 * @throws TypeError when `to` is not an instance type name.
 */
export function setInstanceType(
  templateText: string,
  from: string,
  to: string,
): { text: string; format: TemplateFormat; changed: InstanceTypeSite[] } {
  if (!INSTANCE_TYPE.test(to)) throw new TypeError(`not an EC2 instance type: ${JSON.stringify(to)}`);
  const { format, doc, document, parser } = parseTemplate(templateText);
  const sites = findSites(doc);
  const current = agreedType(sites);
  if (current !== from) {
    throw new TemplateEditError(
      'mismatch',
      `the template launches ${current}, not ${from}; refusing to change it to ${to}`,
      sites,
    );
  }
  if (from === to) return { text: templateText, format, changed: [] };

  const scalarPaths = uniquePaths(sites.map((site) => site.path));
  const listPaths: string[][] = [];
  for (const parameter of new Set(sites.flatMap((site) => (site.parameter === undefined ? [] : [site.parameter])))) {
    const definition = getAt(doc, ['Parameters', parameter]) as CfnMapping;
    checkAllowedPattern(parameter, definition, to);
    const allowed = definition.AllowedValues;
    if (Array.isArray(allowed) && !allowed.includes(to)) listPaths.push(['Parameters', parameter, 'AllowedValues']);
  }

  let expected: CfnValue = doc;
  for (const path of scalarPaths) expected = withValue(expected, path, to);
  for (const path of listPaths) expected = withValue(expected, path, [...(getAt(doc, path) as string[]), to]);

  const bom = templateText.startsWith('\uFEFF') ? '\uFEFF' : '';
  let text: string;
  try {
    if (!document) throw new TextEditError('the JSON text has keys the YAML reader cannot locate');
    const splicer = new TemplateSplicer(templateText.slice(bom.length), document);
    for (const path of scalarPaths) splicer.replaceScalar(path, from, to);
    for (const path of listPaths) splicer.appendToList(path, to);
    text = bom + splicer.result();
  } catch (err) {
    if (!(err instanceof TextEditError)) throw err;
    if (format === 'yaml') throw new TemplateEditError('unsupported', `cannot edit the YAML template: ${err.message}`);
    // JSON can always be written back whole, in the original's layout, when a value cannot be edited in place
    // (e.g. it is written with escapes).
    text = reserializeJson(templateText, doc, expected);
  }

  // Whatever happened above, the result must be the original document with exactly the intended changes.
  const reparsed = parser(text);
  if (reparsed === undefined || !deepEqual(reparsed, expected)) {
    throw new TemplateEditError('unsupported', 'the edited template does not parse to the intended document');
  }
  return { text, format, changed: sites.map((site) => ({ ...site, value: to })) };
}

// --- parsing -----------------------------------------------------------------------------------------------------

/** Parses text back into its value, or undefined when it no longer parses. */
type TemplateParser = (text: string) => CfnValue | undefined;

function parseTemplate(text: string): {
  format: TemplateFormat;
  doc: CfnMapping;
  /** Where each node is written; undefined for JSON the YAML reader refuses (e.g. duplicate keys). */
  document: Document.Parsed | undefined;
  parser: TemplateParser;
} {
  let doc: CfnValue;
  let format: TemplateFormat;
  let document: Document.Parsed | undefined;
  try {
    doc = parseJson(text);
    format = 'json';
    document = yamlDocument(text);
  } catch (jsonError) {
    try {
      ({ value: doc, document } = parseCloudFormationYaml(text));
      format = 'yaml';
    } catch (yamlError) {
      if (!(yamlError instanceof CloudFormationYamlError)) throw yamlError;
      const looksLikeJson = text
        .replace(/^\uFEFF/, '')
        .trimStart()
        .startsWith('{');
      const reason = looksLikeJson ? `JSON: ${(jsonError as Error).message}` : `YAML: ${yamlError.message}`;
      throw new TemplateEditError('unparseable', `the template is neither JSON nor CloudFormation YAML (${reason})`);
    }
  }
  if (!isMapping(doc)) throw new TemplateEditError('unparseable', 'the template is not a JSON object or YAML mapping');
  const parse = format === 'json' ? parseJson : (t: string) => parseCloudFormationYaml(t).value;
  const parser = (t: string): CfnValue | undefined => {
    try {
      return parse(t);
    } catch {
      return undefined;
    }
  };
  return { format, doc, document, parser };
}

/** The YAML reader's view of a JSON text, for the source ranges of its values. */
function yamlDocument(text: string): Document.Parsed | undefined {
  try {
    return parseCloudFormationYaml(text).document;
  } catch {
    return undefined;
  }
}

function parseJson(text: string): CfnValue {
  return JSON.parse(text.replace(/^\uFEFF/, '')) as CfnValue;
}

function reserializeJson(original: string, doc: CfnMapping, expected: CfnValue): string {
  if (hasIndexLikeKey(doc)) {
    // JavaScript objects put such keys first, so writing the document back would reorder them.
    throw new TemplateEditError('unsupported', 'cannot edit the JSON template in place, nor rewrite it in key order');
  }
  return serializeJsonLike(original, expected);
}

function hasIndexLikeKey(value: CfnValue): boolean {
  if (Array.isArray(value)) return value.some(hasIndexLikeKey);
  if (!isMapping(value)) return false;
  return Object.entries(value).some(([k, v]) => /^(?:0|[1-9][0-9]*)$/.test(k) || hasIndexLikeKey(v));
}

// --- analysis ----------------------------------------------------------------------------------------------------

function findSites(doc: CfnMapping): InstanceTypeSite[] {
  const resources = doc.Resources;
  if (!isMapping(resources)) throw new TemplateEditError('no-instance-type', 'the template has no Resources');
  const sites: InstanceTypeSite[] = [];
  for (const [name, resource] of Object.entries(resources)) {
    if (!isMapping(resource) || typeof resource.Type !== 'string') continue;
    if (resource.Type === 'AWS::AutoScaling::AutoScalingGroup') checkNoTypeOverrides(name, resource);
    const propertyPath = INSTANCE_TYPE_PROPERTY[resource.Type];
    if (propertyPath === undefined) continue;
    const where = `Resources.${name} (${resource.Type})`;
    const value = valueAt(resource, propertyPath, where);
    if (value === undefined) continue; // e.g. InstanceRequirements, or an instance that uses a launch template
    if (typeof value === 'string') {
      sites.push({ path: ['Resources', name, ...propertyPath], kind: 'literal', value, resource: name });
      continue;
    }
    const ref = isMapping(value) && Object.keys(value).length === 1 ? value.Ref : undefined;
    if (typeof ref !== 'string') {
      throw unsupported(`${where}: ${pathText(propertyPath)} is ${describe(value)}`);
    }
    sites.push(parameterSite(doc, name, where, ref));
  }
  if (sites.length === 0) {
    throw new TemplateEditError(
      'no-instance-type',
      `no ${Object.keys(INSTANCE_TYPE_PROPERTY).join(', ')} resource in the template sets an InstanceType`,
    );
  }
  return sites;
}

/** The value at `path` under a resource; intrinsic functions standing in for a whole section are refused. */
function valueAt(resource: CfnMapping, path: readonly string[], where: string): CfnValue | undefined {
  let node: CfnValue | undefined = resource;
  for (const [i, key] of path.entries()) {
    if (!isMapping(node)) return undefined;
    if (i > 0 && isIntrinsic(node)) {
      throw unsupported(`${where}: ${pathText(path.slice(0, i))} is ${describe(node)}`);
    }
    if (!Object.hasOwn(node, key)) return undefined;
    node = node[key];
  }
  return node;
}

function parameterSite(doc: CfnMapping, resource: string, where: string, parameter: string): InstanceTypeSite {
  if (parameter.startsWith('AWS::')) {
    throw unsupported(`${where}: InstanceType refers to the pseudo parameter ${parameter}`);
  }
  const parameters = doc.Parameters;
  const definition = isMapping(parameters) && Object.hasOwn(parameters, parameter) ? parameters[parameter] : undefined;
  if (!isMapping(definition)) {
    throw unsupported(`${where}: InstanceType refers to ${parameter}, which is not a template parameter`);
  }
  const type = definition.Type;
  if (type !== undefined && type !== 'String') {
    throw unsupported(
      `${where}: InstanceType refers to the parameter ${parameter} of type ${typeof type === 'string' ? type : describe(type)}`,
    );
  }
  const value = definition.Default;
  if (value === undefined || value === null) {
    throw unsupported(`${where}: InstanceType refers to the parameter ${parameter}, which has no Default`);
  }
  if (typeof value !== 'string') {
    throw unsupported(`${where}: the Default of the parameter ${parameter} is ${describe(value)}`);
  }
  const allowed = definition.AllowedValues;
  if (allowed !== undefined && !(Array.isArray(allowed) && allowed.length > 0 && allowed.every(isString))) {
    throw unsupported(`${where}: the AllowedValues of the parameter ${parameter} are not a list of strings`);
  }
  return { path: ['Parameters', parameter, 'Default'], kind: 'parameter-default', value, resource, parameter };
}

/** Overrides in a mixed instances policy decide the type instead of the launch template; editing it would not help. */
function checkNoTypeOverrides(name: string, group: CfnMapping): void {
  const overrides = getAt(group, ['Properties', 'MixedInstancesPolicy', 'LaunchTemplate', 'Overrides']);
  if (Array.isArray(overrides) && overrides.some((o) => isMapping(o) && o.InstanceType !== undefined)) {
    throw unsupported(
      `Resources.${name} (AWS::AutoScaling::AutoScalingGroup): MixedInstancesPolicy overrides set the instance types`,
    );
  }
}

function checkAllowedPattern(parameter: string, definition: CfnMapping, to: string): void {
  const pattern = definition.AllowedPattern;
  if (typeof pattern !== 'string') return;
  let regex: RegExp;
  try {
    regex = new RegExp(`^(?:${pattern})$`);
  } catch {
    return; // a Java-only construct: CloudFormation will judge it
  }
  if (!regex.test(to)) {
    throw new TemplateEditError(
      'unsupported',
      `the AllowedPattern ${pattern} of the parameter ${parameter} does not admit ${to}`,
    );
  }
}

function agreedType(sites: InstanceTypeSite[]): string {
  const types = [...new Set(sites.map((site) => site.value))];
  if (types.length === 1) return types[0]!;
  const list = sites.map((site) => `${pathText(site.path)} = ${site.value}`).join(', ');
  throw new TemplateEditError('ambiguous', `the template sets different instance types: ${list}`, sites);
}

function uniquePaths(paths: string[][]): string[][] {
  const seen = new Map<string, string[]>();
  for (const path of paths) seen.set(JSON.stringify(path), path);
  return [...seen.values()];
}

const isString = (value: CfnValue) => typeof value === 'string';

function isIntrinsic(value: CfnMapping): boolean {
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::'));
}

function describe(value: CfnValue): string {
  if (isMapping(value)) {
    const keys = Object.keys(value);
    return keys.length === 1 && isIntrinsic(value) ? keys[0]! : 'a mapping';
  }
  if (Array.isArray(value)) return 'a list';
  return `${JSON.stringify(value)} (${value === null ? 'null' : typeof value})`;
}

const unsupported = (message: string) =>
  new TemplateEditError(
    'unsupported',
    `${message}; only a literal type or a Ref to a String parameter with a Default can be changed`,
  );
