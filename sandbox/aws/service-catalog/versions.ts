import { emulatorTemplateUrl, type EmulatorContext } from './context.js';
import { invalidParameters, limitExceeded } from './errors.js';
import type { InputReader } from './input.js';
import type { ArtifactType, ProductRecord, TemplateSource } from './store.js';
import {
  MAX_TEMPLATE_BYTES,
  TemplateError,
  parseTemplate,
  templateParameters,
  type ProvisioningArtifactParameter,
  type TemplateFormat,
} from './template.js';

/** `ProvisioningArtifactProperties` of CreateProduct and CreateProvisioningArtifact, validated. */
export interface ArtifactProperties {
  name?: string;
  description?: string;
  type: ArtifactType;
  disableTemplateValidation: boolean;
  source: Extract<TemplateSource, { kind: 'url' | 'physicalId' }>;
}

export interface LoadedTemplate {
  text: string;
  format?: TemplateFormat;
  parameters: ProvisioningArtifactParameter[];
}

const ARTIFACT_TYPES = [
  'CLOUD_FORMATION_TEMPLATE',
  'MARKETPLACE_AMI',
  'MARKETPLACE_CAR',
  'TERRAFORM_OPEN_SOURCE',
  'TERRAFORM_CLOUD',
  'EXTERNAL',
] as const;
const STACK_ARN = /^arn:aws[a-z-]*:cloudformation:[a-z0-9-]+:\d{12}:stack\/[^/]+\/.+$/;

export function readArtifactProperties(reader: InputReader): ArtifactProperties {
  const type = reader.optionalEnum('Type', ARTIFACT_TYPES) ?? 'CLOUD_FORMATION_TEMPLATE';
  if (type !== 'CLOUD_FORMATION_TEMPLATE') {
    throw invalidParameters(`Provisioning artifact type ${type} is not supported by this emulator`);
  }
  return {
    name: artifactName(reader),
    description: reader.optionalString('Description', { maxLength: 8192 }),
    type,
    disableTemplateValidation: reader.optionalBoolean('DisableTemplateValidation') ?? false,
    source: readTemplateSource(reader.requiredStringMap('Info')),
  };
}

/** "The name of the provisioning artifact (for example, v1 v2beta). No spaces are allowed." (the API model). */
export function artifactName(reader: InputReader): string | undefined {
  const name = reader.optionalString('Name', { maxLength: 8192 });
  if (name !== undefined && /\s/.test(name)) {
    throw invalidParameters('Provisioning artifact Name must not contain spaces (for example, v1 v2beta)');
  }
  return name;
}

/**
 * `Info` names the template by exactly one of `LoadTemplateFromURL` or `ImportFromPhysicalId`; there is no key for
 * a template body. Anything else is refused, including the `TemplateUrl` key that responses carry, so code that
 * copies `Info` from a describe response into a create request fails here rather than in production.
 */
function readTemplateSource(info: Record<string, string>): ArtifactProperties['source'] {
  const keys = Object.keys(info);
  const unknown = keys.filter((key) => key !== 'LoadTemplateFromURL' && key !== 'ImportFromPhysicalId');
  if (unknown.length > 0) {
    throw invalidParameters(
      `Unsupported Info key(s) ${unknown.join(', ')}: use exactly one of LoadTemplateFromURL or ImportFromPhysicalId`,
    );
  }
  if (keys.length !== 1) {
    throw invalidParameters('Info must contain exactly one of LoadTemplateFromURL or ImportFromPhysicalId');
  }
  const url = info.LoadTemplateFromURL;
  if (url !== undefined) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw invalidParameters(`LoadTemplateFromURL is not a valid URL: ${url}`);
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
      throw invalidParameters(`LoadTemplateFromURL must be an HTTP(S) URL: ${url}`);
    }
    return { kind: 'url', url };
  }
  const stackArn = info.ImportFromPhysicalId ?? '';
  if (!STACK_ARN.test(stackArn)) {
    throw invalidParameters(`ImportFromPhysicalId must be a CloudFormation stack ARN: ${stackArn}`);
  }
  return { kind: 'physicalId', stackArn };
}

/** Reads the template the source names and, unless validation is disabled, refuses one CloudFormation would. */
export async function loadTemplate(
  context: EmulatorContext,
  source: ArtifactProperties['source'],
  disableValidation: boolean,
): Promise<LoadedTemplate> {
  const text = source.kind === 'url' ? await fetchFromUrl(context, source.url) : await stackTemplate(context, source);
  if (Buffer.byteLength(text) > MAX_TEMPLATE_BYTES) {
    throw invalidParameters(`The template is larger than ${MAX_TEMPLATE_BYTES} bytes`);
  }
  return analyseTemplate(text, disableValidation);
}

/**
 * With validation disabled the text is stored as is; its parameters are still reported when it happens to parse
 * (what AWS reports for an unparseable template is not known; an empty list is the least surprising).
 */
export function analyseTemplate(text: string, disableValidation: boolean): LoadedTemplate {
  try {
    const template = parseTemplate(text);
    return { text, format: template.format, parameters: templateParameters(template) };
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    if (!disableValidation) throw invalidParameters(error.message);
    return { text, parameters: [] };
  }
}

async function fetchFromUrl(context: EmulatorContext, url: string): Promise<string> {
  try {
    return await context.settings.fetchTemplate(url);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw invalidParameters(`Unable to retrieve the template from ${url}: ${reason}`);
  }
}

async function stackTemplate(context: EmulatorContext, source: { stackArn: string }): Promise<string> {
  const registered = context.stackTemplates.get(source.stackArn);
  if (registered !== undefined) return registered;
  const resolver = context.settings.resolveStackTemplate;
  let text: string | undefined;
  if (resolver !== undefined) {
    try {
      text = await resolver(source.stackArn);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw invalidParameters(`Unable to read the template of stack ${source.stackArn}: ${reason}`);
    }
  }
  if (text === undefined) throw invalidParameters(`Stack ${source.stackArn} does not exist`);
  return text;
}

/**
 * The `Info` responses carry. For a URL source it is the URL the caller gave (the CLI examples echo it back). For an
 * imported stack AWS keeps its own copy at a location that is not documented; the emulator points at its own copy.
 */
export function responseInfo(
  context: EmulatorContext,
  source: TemplateSource,
  artifactId: string,
): Record<string, string> {
  if (source.kind === 'url') return { TemplateUrl: source.url };
  if (source.kind === 'text' && source.url !== undefined) return { TemplateUrl: source.url };
  return { TemplateUrl: emulatorTemplateUrl(context, artifactId) };
}

export function assertRoomForVersion(context: EmulatorContext, product: ProductRecord): void {
  const count = context.store.artifactsOf(product.id).length;
  if (count >= context.settings.maxArtifactsPerProduct) {
    throw limitExceeded(
      `Product ${product.id} already has ${count} provisioning artifacts; ` +
        `the limit is ${context.settings.maxArtifactsPerProduct}`,
    );
  }
}
