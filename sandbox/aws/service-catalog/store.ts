import { resourceNotFound, invalidParameters } from './errors.js';
import type { ArtifactLifecycle } from './lifecycle.js';
import type { ProvisioningArtifactParameter, TemplateFormat } from './template.js';

export type ArtifactType = 'CLOUD_FORMATION_TEMPLATE';
export type Guidance = 'DEFAULT' | 'DEPRECATED';
export type ProvisionedProductStatus = 'AVAILABLE' | 'UNDER_CHANGE' | 'TAINTED' | 'ERROR' | 'PLAN_IN_PROGRESS';

export interface Tag {
  Key: string;
  Value: string;
}

export interface ProductRecord {
  id: string;
  viewId: string;
  arn: string;
  name: string;
  owner: string;
  description?: string;
  distributor?: string;
  supportDescription?: string;
  supportEmail?: string;
  supportUrl?: string;
  type: ArtifactType;
  tags: Tag[];
  createdAtMs: number;
}

/** Where a version's template came from. */
export type TemplateSource =
  { kind: 'url'; url: string } | { kind: 'physicalId'; stackArn: string } | { kind: 'text'; url?: string };

/** How a version came to exist, for inspection. */
export type ArtifactOrigin = 'CreateProduct' | 'CreateProvisioningArtifact' | 'seed';

export interface ArtifactRecord {
  id: string;
  productId: string;
  name?: string;
  description?: string;
  type: ArtifactType;
  createdAtMs: number;
  active: boolean;
  guidance: Guidance;
  source: TemplateSource;
  /** What the `Info` member of responses carries. */
  info: Record<string, string>;
  templateText: string;
  /** Undefined when validation was disabled and the text did not parse. */
  templateFormat?: TemplateFormat;
  parameters: ProvisioningArtifactParameter[];
  lifecycle: ArtifactLifecycle;
  origin: ArtifactOrigin;
  idempotencyToken?: string;
}

export interface ProvisionedProductRecord {
  id: string;
  name: string;
  arn: string;
  type: 'CFN_STACK';
  status: ProvisionedProductStatus;
  productId: string;
  provisioningArtifactId: string;
  createdAtMs: number;
  idempotencyToken: string;
  lastRecordId: string;
  launchRoleArn?: string;
}

/** The emulator's in-memory state; lookups throw the errors the API reports for missing resources. */
export class ServiceCatalogStore {
  readonly products = new Map<string, ProductRecord>();
  /** Keyed by artifact id; Map order is creation order, which is the order AWS lists versions in. */
  readonly artifacts = new Map<string, ArtifactRecord>();
  readonly provisionedProducts = new Map<string, ProvisionedProductRecord>();

  clear(): void {
    this.products.clear();
    this.artifacts.clear();
    this.provisionedProducts.clear();
  }

  getProduct(id: string): ProductRecord {
    const product = this.products.get(id);
    if (product === undefined) throw resourceNotFound(`Product ${id} not found`);
    return product;
  }

  /**
   * Product names are not unique in Service Catalog; rather than pick one of several silently, a name that matches
   * more than one product is refused.
   */
  getProductByName(name: string): ProductRecord {
    const matches = [...this.products.values()].filter((product) => product.name === name);
    if (matches.length === 0) throw resourceNotFound(`Product with name ${name} not found`);
    if (matches.length > 1) throw invalidParameters(`More than one product is named ${name}; use the product id`);
    return matches[0]!;
  }

  artifactsOf(productId: string): ArtifactRecord[] {
    return [...this.artifacts.values()].filter((artifact) => artifact.productId === productId);
  }

  getArtifact(productId: string, artifactId: string): ArtifactRecord {
    const artifact = this.artifacts.get(artifactId);
    if (artifact === undefined || artifact.productId !== productId) {
      throw resourceNotFound(`Provisioning artifact ${artifactId} not found for product ${productId}`);
    }
    return artifact;
  }

  getArtifactByName(productId: string, name: string): ArtifactRecord {
    const matches = this.artifactsOf(productId).filter((artifact) => artifact.name === name);
    if (matches.length === 0)
      throw resourceNotFound(`Provisioning artifact ${name} not found for product ${productId}`);
    if (matches.length > 1) {
      throw invalidParameters(`More than one provisioning artifact of ${productId} is named ${name}; use the id`);
    }
    return matches[0]!;
  }

  getProvisionedProduct(id: string): ProvisionedProductRecord {
    const provisioned = this.provisionedProducts.get(id);
    if (provisioned === undefined) throw resourceNotFound(`Provisioned product ${id} not found`);
    return provisioned;
  }

  getProvisionedProductByName(name: string): ProvisionedProductRecord {
    const found = [...this.provisionedProducts.values()].find((provisioned) => provisioned.name === name);
    if (found === undefined) throw resourceNotFound(`Provisioned product ${name} not found`);
    return found;
  }

  provisionedProductsUsing(artifactId: string): ProvisionedProductRecord[] {
    return [...this.provisionedProducts.values()].filter((p) => p.provisioningArtifactId === artifactId);
  }
}
