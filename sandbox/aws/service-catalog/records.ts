import type { EmulatorContext } from './context.js';
import { newResourceId } from './ids.js';
import type { ArtifactLifecycle } from './lifecycle.js';
import type {
  ArtifactOrigin,
  ArtifactRecord,
  ArtifactType,
  Guidance,
  ProductRecord,
  Tag,
  TemplateSource,
} from './store.js';
import type { LoadedTemplate } from './versions.js';
import { responseInfo } from './versions.js';

/** Creates products and versions the same way for API calls and for seeding. */

export function addProduct(
  context: EmulatorContext,
  fields: Omit<ProductRecord, 'id' | 'viewId' | 'arn' | 'createdAtMs'> & { createdAtMs?: number },
): ProductRecord {
  const id = newResourceId('prod');
  const { region, accountId } = context.settings;
  const product: ProductRecord = {
    ...fields,
    id,
    viewId: newResourceId('prodview'),
    // Product ARNs use the service segment "catalog", unlike provisioned-product ARNs.
    arn: `arn:aws:catalog:${region}:${accountId}:product/${id}`,
    createdAtMs: fields.createdAtMs ?? context.now(),
    tags: fields.tags.map((tag: Tag) => ({ ...tag })),
  };
  context.store.products.set(id, product);
  return product;
}

export interface NewArtifactFields {
  productId: string;
  name?: string;
  description?: string;
  type: ArtifactType;
  active?: boolean;
  guidance?: Guidance;
  source: TemplateSource;
  template: LoadedTemplate;
  lifecycle: ArtifactLifecycle;
  origin: ArtifactOrigin;
  idempotencyToken?: string;
}

/** New versions are active with DEFAULT guidance (CreateProvisioningArtifact cannot set either). */
export function addArtifact(context: EmulatorContext, fields: NewArtifactFields): ArtifactRecord {
  const id = newResourceId('pa');
  const artifact: ArtifactRecord = {
    id,
    productId: fields.productId,
    name: fields.name,
    description: fields.description,
    type: fields.type,
    createdAtMs: fields.lifecycle.createdAtMs,
    active: fields.active ?? true,
    guidance: fields.guidance ?? 'DEFAULT',
    source: fields.source,
    info: responseInfo(context, fields.source, id),
    templateText: fields.template.text,
    templateFormat: fields.template.format,
    parameters: fields.template.parameters,
    lifecycle: fields.lifecycle,
    origin: fields.origin,
    idempotencyToken: fields.idempotencyToken,
  };
  context.store.artifacts.set(id, artifact);
  return artifact;
}
