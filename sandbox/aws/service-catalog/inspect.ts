import type { EmulatorContext } from './context.js';
import type { EmulatorStats } from './journal.js';
import { observeStatus, type ArtifactStatus } from './lifecycle.js';
import type { ArtifactOrigin, ArtifactRecord, Guidance, ProvisionedProductStatus, TemplateSource } from './store.js';
import type { ProvisioningArtifactParameter, TemplateFormat } from './template.js';

/** A version as tests see it, with the stored template text. Looking does not count as a Describe call. */
export interface ArtifactView {
  id: string;
  productId: string;
  name?: string;
  description?: string;
  status: ArtifactStatus;
  active: boolean;
  guidance: Guidance;
  createdAt: Date;
  templateUrl?: string;
  source: TemplateSource;
  templateText: string;
  templateFormat?: TemplateFormat;
  parameters: ProvisioningArtifactParameter[];
  origin: ArtifactOrigin;
  idempotencyToken?: string;
  describeCalls: number;
}

export interface ProductView {
  id: string;
  arn: string;
  name: string;
  owner: string;
  description?: string;
  createdAt: Date;
  provisioningArtifactIds: string[];
}

export interface ProvisionedProductView {
  id: string;
  name: string;
  arn: string;
  status: ProvisionedProductStatus;
  productId: string;
  provisioningArtifactId: string;
  createdAt: Date;
}

/** Everything at once; also served as JSON at `GET /_emulator/state`. */
export interface EmulatorState {
  products: ProductView[];
  provisioningArtifacts: ArtifactView[];
  provisionedProducts: ProvisionedProductView[];
  stats: EmulatorStats;
  pendingFaults: number;
  pendingCreationFailures: number;
}

export function artifactView(context: EmulatorContext, artifact: ArtifactRecord): ArtifactView {
  return {
    id: artifact.id,
    productId: artifact.productId,
    name: artifact.name,
    description: artifact.description,
    status: observeStatus(artifact.lifecycle, context.now()),
    active: artifact.active,
    guidance: artifact.guidance,
    createdAt: new Date(artifact.createdAtMs),
    templateUrl: artifact.info.TemplateUrl,
    source: { ...artifact.source },
    templateText: artifact.templateText,
    templateFormat: artifact.templateFormat,
    parameters: structuredClone(artifact.parameters),
    origin: artifact.origin,
    idempotencyToken: artifact.idempotencyToken,
    describeCalls: artifact.lifecycle.describes,
  };
}

export function artifactViews(context: EmulatorContext, productId?: string): ArtifactView[] {
  return [...context.store.artifacts.values()]
    .filter((artifact) => productId === undefined || artifact.productId === productId)
    .map((artifact) => artifactView(context, artifact));
}

export function emulatorStats(context: EmulatorContext): EmulatorStats {
  return {
    requests: context.journal.count(),
    requestsByOperation: context.journal.countsByOperation(),
    faultsInjected: context.faults.injected,
    createProvisioningArtifactCalls: context.journal.count('CreateProvisioningArtifact'),
    provisioningArtifactsCreated: context.artifactsCreatedByApi,
    idempotentReplays: context.idempotency.replays,
  };
}

export function emulatorState(context: EmulatorContext): EmulatorState {
  const { store } = context;
  return {
    products: [...store.products.values()].map((product) => ({
      id: product.id,
      arn: product.arn,
      name: product.name,
      owner: product.owner,
      description: product.description,
      createdAt: new Date(product.createdAtMs),
      provisioningArtifactIds: store.artifactsOf(product.id).map((artifact) => artifact.id),
    })),
    provisioningArtifacts: artifactViews(context),
    provisionedProducts: [...store.provisionedProducts.values()].map((provisioned) => ({
      id: provisioned.id,
      name: provisioned.name,
      arn: provisioned.arn,
      status: provisioned.status,
      productId: provisioned.productId,
      provisioningArtifactId: provisioned.provisioningArtifactId,
      createdAt: new Date(provisioned.createdAtMs),
    })),
    stats: emulatorStats(context),
    pendingFaults: context.faults.pending(),
    pendingCreationFailures: context.pendingCreationFailures,
  };
}
