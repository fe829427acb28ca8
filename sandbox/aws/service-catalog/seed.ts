import { randomUUID } from 'node:crypto';
import type { EmulatorContext } from './context.js';
import { duplicateResource, invalidParameters } from './errors.js';
import { newResourceId } from './ids.js';
import { pendingLifecycle, settledLifecycle, type ArtifactLifecycle, type ArtifactStatus } from './lifecycle.js';
import { addArtifact, addProduct } from './records.js';
import type { Guidance, ProvisionedProductStatus, Tag, TemplateSource } from './store.js';
import { analyseTemplate, loadTemplate, type LoadedTemplate } from './versions.js';

/**
 * Test and sandbox set-up that bypasses the HTTP API: seeded versions skip the FAILED knob and the version limit,
 * and are AVAILABLE unless asked otherwise. Seeding throws the same ServiceCatalogError the API would answer with
 * (e.g. InvalidParametersException for a broken template).
 */

export interface SeedArtifactInput {
  name?: string;
  description?: string;
  /** Where the template lives. Fetched unless `templateBody` is given too; then it is only reported as TemplateUrl. */
  templateUrl?: string;
  /** The template itself. Without `templateUrl`, TemplateUrl points at the emulator's own copy. */
  templateBody?: string;
  active?: boolean;
  guidance?: Guidance;
  /** Default AVAILABLE; CREATING follows the configured delays like a version made by the API. */
  status?: ArtifactStatus;
  createdAt?: Date;
}

export interface SeedProductInput {
  name: string;
  owner?: string;
  description?: string;
  distributor?: string;
  tags?: Tag[];
  createdAt?: Date;
  /** The product's first version. */
  artifact: SeedArtifactInput;
}

export interface SeededArtifact {
  productId: string;
  provisioningArtifactId: string;
  templateUrl: string;
}

export interface SeededProduct extends SeededArtifact {
  productArn: string;
}

export interface SeedProvisionedProductInput {
  name: string;
  productId: string;
  /** Default: the product's newest version. */
  provisioningArtifactId?: string;
  status?: ProvisionedProductStatus;
  launchRoleArn?: string;
  /** Portfolio the launch went through, for the portfolioArn AutoTag; default: a new `port-` id. */
  portfolioId?: string;
  /** Who launched it, for the provisioningPrincipalArn AutoTag. */
  provisioningPrincipalArn?: string;
  idempotencyToken?: string;
  createdAt?: Date;
}

export interface SeededProvisionedProduct {
  id: string;
  name: string;
  arn: string;
  productId: string;
  provisioningArtifactId: string;
  /** The CloudFormation stack Service Catalog would have launched: `SC-<account>-pp-<id>`. */
  stackName: string;
  /** The AutoTags Service Catalog puts on provisioned resources, ready for EC2 TagSpecifications or CFN stack tags. */
  autoTags: Tag[];
}

const PROVISIONED_PRODUCT_NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,127}$/;

export async function seedProduct(context: EmulatorContext, input: SeedProductInput): Promise<SeededProduct> {
  const { source, template } = await seedTemplate(context, input.artifact);
  const product = addProduct(context, {
    name: input.name,
    owner: input.owner ?? 'sandbox',
    description: input.description,
    distributor: input.distributor,
    type: 'CLOUD_FORMATION_TEMPLATE',
    tags: input.tags ?? [],
    createdAtMs: input.createdAt?.getTime(),
  });
  const seeded = addSeededArtifact(context, product.id, input.artifact, source, template);
  return { ...seeded, productArn: product.arn };
}

export async function seedProvisioningArtifact(
  context: EmulatorContext,
  productId: string,
  input: SeedArtifactInput,
): Promise<SeededArtifact> {
  context.store.getProduct(productId);
  const { source, template } = await seedTemplate(context, input);
  return addSeededArtifact(context, productId, input, source, template);
}

async function seedTemplate(
  context: EmulatorContext,
  input: SeedArtifactInput,
): Promise<{ source: TemplateSource; template: LoadedTemplate }> {
  if (input.templateBody !== undefined) {
    return { source: { kind: 'text', url: input.templateUrl }, template: analyseTemplate(input.templateBody, false) };
  }
  if (input.templateUrl === undefined) throw new TypeError('a seeded version needs templateUrl or templateBody');
  const source = { kind: 'url', url: input.templateUrl } as const;
  return { source, template: await loadTemplate(context, source, false) };
}

function addSeededArtifact(
  context: EmulatorContext,
  productId: string,
  input: SeedArtifactInput,
  source: TemplateSource,
  template: LoadedTemplate,
): SeededArtifact {
  const createdAtMs = input.createdAt?.getTime() ?? context.now();
  const status = input.status ?? 'AVAILABLE';
  const lifecycle: ArtifactLifecycle =
    status === 'CREATING'
      ? pendingLifecycle({
          outcome: 'AVAILABLE',
          createdAtMs,
          readyAfterMs: context.settings.artifactReadyAfterMs,
          readyAfterDescribes: context.settings.artifactReadyAfterDescribes,
        })
      : settledLifecycle(status, createdAtMs);
  const artifact = addArtifact(context, {
    productId,
    name: input.name,
    description: input.description,
    type: 'CLOUD_FORMATION_TEMPLATE',
    active: input.active,
    guidance: input.guidance,
    source,
    template,
    lifecycle,
    origin: 'seed',
  });
  return { productId, provisioningArtifactId: artifact.id, templateUrl: artifact.info.TemplateUrl ?? '' };
}

/** A provisioned product as if launched from the product (the launch itself is not emulated). */
export function seedProvisionedProduct(
  context: EmulatorContext,
  input: SeedProvisionedProductInput,
): SeededProvisionedProduct {
  const { store, settings } = context;
  if (!PROVISIONED_PRODUCT_NAME.test(input.name)) {
    throw invalidParameters(`Provisioned product name ${input.name} must match ${String(PROVISIONED_PRODUCT_NAME)}`);
  }
  if ([...store.provisionedProducts.values()].some((p) => p.name === input.name)) {
    throw duplicateResource(`A provisioned product named ${input.name} already exists`);
  }
  const product = store.getProduct(input.productId);
  const artifactId = input.provisioningArtifactId ?? store.artifactsOf(product.id).at(-1)?.id;
  if (artifactId === undefined) throw invalidParameters(`Product ${product.id} has no provisioning artifact`);
  store.getArtifact(product.id, artifactId);

  const id = newResourceId('pp');
  // Provisioned-product ARNs use the service segment "servicecatalog", product ARNs "catalog".
  const arn = `arn:aws:servicecatalog:${settings.region}:${settings.accountId}:stack/${input.name}/${id}`;
  store.provisionedProducts.set(id, {
    id,
    name: input.name,
    arn,
    type: 'CFN_STACK',
    status: input.status ?? 'AVAILABLE',
    productId: product.id,
    provisioningArtifactId: artifactId,
    createdAtMs: input.createdAt?.getTime() ?? context.now(),
    idempotencyToken: input.idempotencyToken ?? randomUUID(),
    lastRecordId: newResourceId('rec'),
    launchRoleArn: input.launchRoleArn,
  });
  const portfolioId = input.portfolioId ?? newResourceId('port');
  return {
    id,
    name: input.name,
    arn,
    productId: product.id,
    provisioningArtifactId: artifactId,
    stackName: `SC-${settings.accountId}-${id}`,
    autoTags: [
      {
        Key: 'aws:servicecatalog:portfolioArn',
        Value: `arn:aws:catalog:${settings.region}:${settings.accountId}:portfolio/${portfolioId}`,
      },
      { Key: 'aws:servicecatalog:productArn', Value: product.arn },
      {
        Key: 'aws:servicecatalog:provisioningPrincipalArn',
        Value: input.provisioningPrincipalArn ?? `arn:aws:iam::${settings.accountId}:role/SandboxEndUser`,
      },
      { Key: 'aws:servicecatalog:provisionedProductArn', Value: arn },
      // The tag names the version the product was launched with; later updates change only the record.
      { Key: 'aws:servicecatalog:provisioningArtifactIdentifier', Value: artifactId },
    ],
  };
}

/**
 * Moves a provisioned product to another version (what UpdateProvisionedProduct would do), e.g. to make the
 * instance's provisioningArtifactIdentifier tag stale.
 */
export function updateProvisionedProduct(
  context: EmulatorContext,
  id: string,
  changes: { provisioningArtifactId?: string; status?: ProvisionedProductStatus },
): void {
  const provisioned = context.store.getProvisionedProduct(id);
  if (changes.provisioningArtifactId !== undefined) {
    context.store.getArtifact(provisioned.productId, changes.provisioningArtifactId);
    provisioned.provisioningArtifactId = changes.provisioningArtifactId;
  }
  if (changes.status !== undefined) provisioned.status = changes.status;
  provisioned.lastRecordId = newResourceId('rec');
}
