import type { EmulatorContext } from './context.js';
import { invalidParameters, resourceInUse } from './errors.js';
import { fingerprint } from './idempotency.js';
import { InputReader, type JsonObject } from './input.js';
import { observeStatus, pendingLifecycle, settledLifecycle } from './lifecycle.js';
import { addArtifact, addProduct } from './records.js';
import {
  productViewDetail,
  provisionedProductDetail,
  provisioningArtifactDetail,
  provisioningArtifactOutput,
  provisioningArtifactSummary,
} from './shapes.js';
import { artifactName, assertRoomForVersion, loadTemplate, readArtifactProperties } from './versions.js';

export type OperationHandler = (input: JsonObject, context: EmulatorContext) => Promise<unknown>;

const PRODUCT_TYPES = [
  'CLOUD_FORMATION_TEMPLATE',
  'MARKETPLACE',
  'TERRAFORM_OPEN_SOURCE',
  'TERRAFORM_CLOUD',
  'EXTERNAL',
] as const;
const GUIDANCE = ['DEFAULT', 'DEPRECATED'] as const;

/** CreateProduct, kept minimal: a CloudFormation product with its first version, which is available at once. */
async function createProduct(input: JsonObject, context: EmulatorContext) {
  const reader = new InputReader(input);
  const fields = {
    name: reader.requiredString('Name', { maxLength: 8191 }),
    owner: reader.requiredString('Owner', { maxLength: 8191 }),
    description: reader.optionalString('Description', { maxLength: 8191 }),
    distributor: reader.optionalString('Distributor', { maxLength: 8191 }),
    supportDescription: reader.optionalString('SupportDescription', { maxLength: 8191 }),
    supportEmail: reader.optionalString('SupportEmail', { maxLength: 254 }),
    supportUrl: reader.optionalString('SupportUrl', { maxLength: 2083 }),
    tags: reader.optionalTags('Tags'),
  };
  const productType = reader.optionalEnum('ProductType', PRODUCT_TYPES);
  if (productType === undefined) throw invalidParameters('ProductType is required');
  if (productType !== 'CLOUD_FORMATION_TEMPLATE') {
    throw invalidParameters(`Product type ${productType} is not supported by this emulator`);
  }
  if (reader.has('SourceConnection')) throw invalidParameters('SourceConnection is not supported by this emulator');
  const token = reader.idempotencyToken();
  const properties = readArtifactProperties(reader.requiredObject('ProvisioningArtifactParameters'));

  return context.idempotency.run('CreateProduct', token, fingerprint({ fields, properties }), async () => {
    const template = await loadTemplate(context, properties.source, properties.disableTemplateValidation);
    const product = addProduct(context, { ...fields, type: productType });
    const artifact = addArtifact(context, {
      productId: product.id,
      name: properties.name,
      description: properties.description,
      type: properties.type,
      source: properties.source,
      template,
      lifecycle: settledLifecycle('AVAILABLE', product.createdAtMs),
      origin: 'CreateProduct',
    });
    return {
      ProductViewDetail: productViewDetail(product),
      ProvisioningArtifactDetail: provisioningArtifactDetail(artifact),
      Tags: product.tags,
    };
  });
}

/** `SourcePortfolioId` only matters for imported products, which the emulator does not have. */
async function describeProductAsAdmin(input: JsonObject, context: EmulatorContext) {
  const reader = new InputReader(input);
  const id = reader.optionalId('Id');
  const name = reader.optionalString('Name', { maxLength: 8191 });
  reader.optionalId('SourcePortfolioId');
  if (id === undefined && (name === undefined || name === '')) throw invalidParameters('Either Id or Name is required');
  const product = id !== undefined ? context.store.getProduct(id) : context.store.getProductByName(name!);
  return {
    ProductViewDetail: productViewDetail(product),
    ProvisioningArtifactSummaries: context.store.artifactsOf(product.id).map(provisioningArtifactSummary),
    Tags: product.tags,
    TagOptions: [],
    Budgets: [],
  };
}

/** The API has no paging input; every version comes back in one answer, without NextPageToken. */
async function listProvisioningArtifacts(input: JsonObject, context: EmulatorContext) {
  const product = context.store.getProduct(new InputReader(input).requiredId('ProductId'));
  return { ProvisioningArtifactDetails: context.store.artifactsOf(product.id).map(provisioningArtifactDetail) };
}

/**
 * Identifies the version by id or name and its product by id or name (an id wins when both are given). A product
 * is required: the reference documents the calls only with one. `Verbose` is accepted but changes nothing, since
 * what it adds on AWS is not documented; `TemplateUrl` is returned without it.
 */
async function describeProvisioningArtifact(input: JsonObject, context: EmulatorContext) {
  const reader = new InputReader(input);
  const productId = reader.optionalId('ProductId');
  const productName = reader.optionalString('ProductName', { maxLength: 8191 });
  const artifactId = reader.optionalId('ProvisioningArtifactId');
  const artifactName = reader.optionalString('ProvisioningArtifactName', { maxLength: 8192 });
  reader.optionalBoolean('Verbose');
  const includeParameters = reader.optionalBoolean('IncludeProvisioningArtifactParameters') ?? false;
  if (productId === undefined && !productName) throw invalidParameters('ProductId or ProductName is required');
  if (artifactId === undefined && !artifactName) {
    throw invalidParameters('ProvisioningArtifactId or ProvisioningArtifactName is required');
  }
  const { store } = context;
  const product = productId !== undefined ? store.getProduct(productId) : store.getProductByName(productName!);
  const artifact =
    artifactId !== undefined
      ? store.getArtifact(product.id, artifactId)
      : store.getArtifactByName(product.id, artifactName!);
  const output = provisioningArtifactOutput(artifact, observeStatus(artifact.lifecycle, context.now(), true));
  if (!includeParameters) return output;
  return { ...output, ProvisioningArtifactParameters: structuredClone(artifact.parameters) };
}

/**
 * Asynchronous like on AWS: the answer always says CREATING, and the version settles later (see lifecycle.ts).
 * Idempotency semantics are documented on IdempotencyLedger. Defaults are applied before comparing parameters, so
 * leaving out `Type` or `DisableTemplateValidation` equals sending their defaults.
 */
async function createProvisioningArtifact(input: JsonObject, context: EmulatorContext) {
  const reader = new InputReader(input);
  const productId = reader.requiredId('ProductId');
  const properties = readArtifactProperties(reader.requiredObject('Parameters'));
  const token = reader.idempotencyToken();
  const request = fingerprint({ productId, properties });

  return context.idempotency.run('CreateProvisioningArtifact', token, request, async () => {
    assertRoomForVersion(context, context.store.getProduct(productId));
    const template = await loadTemplate(context, properties.source, properties.disableTemplateValidation);
    // Checked again: the state may have changed while the template was being fetched.
    assertRoomForVersion(context, context.store.getProduct(productId));
    const fails = context.pendingCreationFailures > 0;
    if (fails) context.pendingCreationFailures--;
    const createdAtMs = context.now();
    const artifact = addArtifact(context, {
      productId,
      name: properties.name,
      description: properties.description,
      type: properties.type,
      source: properties.source,
      template,
      lifecycle: pendingLifecycle({
        outcome: fails ? 'FAILED' : 'AVAILABLE',
        createdAtMs,
        readyAfterMs: context.settings.artifactReadyAfterMs,
        readyAfterDescribes: context.settings.artifactReadyAfterDescribes,
      }),
      origin: 'CreateProvisioningArtifact',
      idempotencyToken: token,
    });
    context.artifactsCreatedByApi++;
    return provisioningArtifactOutput(artifact, 'CREATING');
  });
}

async function updateProvisioningArtifact(input: JsonObject, context: EmulatorContext) {
  const reader = new InputReader(input);
  const productId = reader.requiredId('ProductId');
  const artifactId = reader.requiredId('ProvisioningArtifactId');
  const name = artifactName(reader);
  const description = reader.optionalString('Description', { maxLength: 8192 });
  const active = reader.optionalBoolean('Active');
  const guidance = reader.optionalEnum('Guidance', GUIDANCE);
  const artifact = context.store.getArtifact(context.store.getProduct(productId).id, artifactId);
  if (name !== undefined) artifact.name = name;
  if (description !== undefined) artifact.description = description;
  if (active !== undefined) artifact.active = active;
  if (guidance !== undefined) artifact.guidance = guidance;
  return provisioningArtifactOutput(artifact, observeStatus(artifact.lifecycle, context.now()));
}

/**
 * The last version cannot go (model doc). AWS's exact code for that is not verified; InvalidParametersException is
 * what the model doc's wording ("you cannot delete the last provisioning artifact") suggests.
 */
async function deleteProvisioningArtifact(input: JsonObject, context: EmulatorContext) {
  const reader = new InputReader(input);
  const product = context.store.getProduct(reader.requiredId('ProductId'));
  const artifact = context.store.getArtifact(product.id, reader.requiredId('ProvisioningArtifactId'));
  if (context.store.artifactsOf(product.id).length <= 1) {
    throw invalidParameters(
      `Provisioning artifact ${artifact.id} is the last one of product ${product.id}; a product must keep at least one`,
    );
  }
  const users = context.store.provisionedProductsUsing(artifact.id);
  if (context.settings.refuseDeletingArtifactInUse && users.length > 0) {
    throw resourceInUse(
      `Provisioning artifact ${artifact.id} is used by provisioned product(s) ${users.map((p) => p.id).join(', ')}`,
    );
  }
  context.store.artifacts.delete(artifact.id);
  return {};
}

async function describeProvisionedProduct(input: JsonObject, context: EmulatorContext) {
  const reader = new InputReader(input);
  const id = reader.optionalId('Id');
  const name = reader.optionalString('Name', { maxLength: 128 });
  if (id !== undefined && name !== undefined) throw invalidParameters('Specify either Id or Name, not both');
  if (id === undefined && !name) throw invalidParameters('Either Id or Name is required');
  const provisioned =
    id !== undefined ? context.store.getProvisionedProduct(id) : context.store.getProvisionedProductByName(name!);
  return { ProvisionedProductDetail: provisionedProductDetail(provisioned), CloudWatchDashboards: [] };
}

/** The operations the emulator implements, by `X-Amz-Target` operation name. */
export const OPERATIONS: ReadonlyMap<string, OperationHandler> = new Map<string, OperationHandler>([
  ['CreateProduct', createProduct],
  ['DescribeProductAsAdmin', describeProductAsAdmin],
  ['ListProvisioningArtifacts', listProvisioningArtifacts],
  ['DescribeProvisioningArtifact', describeProvisioningArtifact],
  ['CreateProvisioningArtifact', createProvisioningArtifact],
  ['UpdateProvisioningArtifact', updateProvisioningArtifact],
  ['DeleteProvisioningArtifact', deleteProvisioningArtifact],
  ['DescribeProvisionedProduct', describeProvisionedProduct],
]);
