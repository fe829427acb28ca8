import {
  CloudFormationYamlError,
  parseCloudFormationYaml,
  type CfnValue,
} from '../../../src/aws/cloudformation-yaml.js';

export type TemplateFormat = 'json' | 'yaml';

export interface ParsedTemplate {
  format: TemplateFormat;
  body: { [key: string]: CfnValue };
}

/** One entry of DescribeProvisioningArtifact's `ProvisioningArtifactParameters`, in wire shape. */
export interface ProvisioningArtifactParameter {
  ParameterKey: string;
  DefaultValue?: string;
  ParameterType?: string;
  IsNoEcho: boolean;
  Description?: string;
  ParameterConstraints: {
    AllowedValues: string[];
    AllowedPattern?: string;
    ConstraintDescription?: string;
    MaxLength?: string;
    MinLength?: string;
    MaxValue?: string;
    MinValue?: string;
  };
}

/** Reads a template from a URL; the emulator's default is a plain HTTP(S) GET. */
export type TemplateFetcher = (url: string) => Promise<string>;

/** A template that CloudFormation would refuse; the message follows CloudFormation's "Template format error" style. */
export class TemplateError extends Error {
  override name = 'TemplateError';
}

/** CloudFormation's limit for templates read from S3. */
export const MAX_TEMPLATE_BYTES = 1_048_576;
const FETCH_TIMEOUT_MS = 10_000;

/**
 * Parses a CloudFormation template written as JSON or YAML (with short-form tags) and checks the structure
 * CloudFormation checks before anything else: a mapping root with at least one resource, and a `Type` on every
 * resource and parameter.
 */
export function parseTemplate(text: string): ParsedTemplate {
  let body: CfnValue;
  let format: TemplateFormat;
  const looksLikeJson = text.trimStart().startsWith('{');
  try {
    body = JSON.parse(text) as CfnValue;
    format = 'json';
  } catch (jsonError) {
    try {
      body = parseCloudFormationYaml(text).value;
      format = 'yaml';
    } catch (yamlError) {
      if (!(yamlError instanceof CloudFormationYamlError)) throw yamlError;
      const reason = looksLikeJson
        ? `JSON not well-formed: ${jsonError instanceof Error ? jsonError.message : String(jsonError)}`
        : `YAML not well-formed: ${yamlError.message}`;
      throw new TemplateError(`Template format error: ${reason}`);
    }
  }
  if (!isMapping(body))
    throw new TemplateError('Template format error: the template must be a JSON object or YAML mapping');
  validateSection(body, 'Resources', true);
  validateSection(body, 'Parameters', false);
  return { format, body };
}

function validateSection(body: { [key: string]: CfnValue }, section: 'Resources' | 'Parameters', required: boolean) {
  const value = body[section];
  if (value === undefined && !required) return;
  if (!isMapping(value) || (required && Object.keys(value).length === 0)) {
    throw new TemplateError(
      required
        ? `Template format error: At least one ${section} member must be defined.`
        : `Template format error: ${section} must be a mapping.`,
    );
  }
  for (const [name, entry] of Object.entries(value)) {
    if (!isMapping(entry) || typeof entry.Type !== 'string') {
      throw new TemplateError(
        `Template format error: [/${section}/${name}] Every ${section} object must contain a Type member.`,
      );
    }
  }
}

/** The template's `Parameters` section in the shape DescribeProvisioningArtifact returns it, in template order. */
export function templateParameters(template: ParsedTemplate): ProvisioningArtifactParameter[] {
  const parameters = template.body.Parameters;
  if (!isMapping(parameters)) return [];
  return Object.entries(parameters).flatMap(([key, definition]) => {
    if (!isMapping(definition)) return [];
    const constraints: ProvisioningArtifactParameter['ParameterConstraints'] = {
      AllowedValues: Array.isArray(definition.AllowedValues) ? definition.AllowedValues.map(scalarText) : [],
    };
    for (const name of [
      'AllowedPattern',
      'ConstraintDescription',
      'MaxLength',
      'MinLength',
      'MaxValue',
      'MinValue',
    ] as const) {
      const value = definition[name];
      if (value !== undefined && value !== null) constraints[name] = scalarText(value);
    }
    const noEcho = definition.NoEcho;
    return [
      {
        ParameterKey: key,
        DefaultValue:
          definition.Default === undefined || definition.Default === null ? undefined : scalarText(definition.Default),
        ParameterType: typeof definition.Type === 'string' ? definition.Type : undefined,
        IsNoEcho: noEcho === true || (typeof noEcho === 'string' && noEcho.toLowerCase() === 'true'),
        Description: typeof definition.Description === 'string' ? definition.Description : undefined,
        ParameterConstraints: constraints,
      },
    ];
  });
}

/** Parameter values travel as strings; a list default (CommaDelimitedList written as a sequence) joins with commas. */
function scalarText(value: CfnValue): string {
  if (Array.isArray(value)) return value.map(scalarText).join(',');
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}

function isMapping(value: CfnValue | undefined): value is { [key: string]: CfnValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A plain GET, as Service Catalog does for `LoadTemplateFromURL` (moto's S3 serves objects to unsigned GETs). */
export const fetchTemplateOverHttp: TemplateFetcher = async (url) => {
  const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`.trim());
  const bytes = await response.arrayBuffer();
  if (bytes.byteLength > MAX_TEMPLATE_BYTES) throw new Error(`the template is larger than ${MAX_TEMPLATE_BYTES} bytes`);
  return new TextDecoder().decode(bytes);
};
