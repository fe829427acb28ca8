import type { ArtifactStatus } from './lifecycle.js';
import type { ArtifactRecord, ProductRecord, ProvisionedProductRecord } from './store.js';

/**
 * Builders of the response shapes of section 2.5 of the reference. Timestamps are epoch seconds as JSON numbers:
 * the SDK turns numbers into Date and throws on ISO strings. Undefined members disappear in JSON.stringify, which
 * is how optional members the resource lacks are left out.
 */

export const epochSeconds = (ms: number) => ms / 1000;

export function provisioningArtifactDetail(artifact: ArtifactRecord) {
  return {
    Id: artifact.id,
    Name: artifact.name,
    Description: artifact.description,
    Type: artifact.type,
    CreatedTime: epochSeconds(artifact.createdAtMs),
    Active: artifact.active,
    Guidance: artifact.guidance,
  };
}

/** Create/Describe/UpdateProvisioningArtifact answer with the detail, the `Info` map and the status. */
export function provisioningArtifactOutput(artifact: ArtifactRecord, status: ArtifactStatus) {
  return {
    ProvisioningArtifactDetail: provisioningArtifactDetail(artifact),
    Info: { ...artifact.info },
    Status: status,
  };
}

export function provisioningArtifactSummary(artifact: ArtifactRecord) {
  return {
    Id: artifact.id,
    Name: artifact.name,
    Description: artifact.description,
    CreatedTime: epochSeconds(artifact.createdAtMs),
    ProvisioningArtifactMetadata: {},
  };
}

export function productViewDetail(product: ProductRecord) {
  return {
    ProductViewSummary: {
      Id: product.viewId,
      ProductId: product.id,
      Name: product.name,
      Owner: product.owner,
      Type: product.type,
      Distributor: product.distributor ?? '',
      ShortDescription: product.description,
      HasDefaultPath: false,
      SupportEmail: product.supportEmail,
      SupportDescription: product.supportDescription,
      SupportUrl: product.supportUrl,
    },
    Status: 'AVAILABLE',
    ProductARN: product.arn,
    CreatedTime: epochSeconds(product.createdAtMs),
  };
}

export function provisionedProductDetail(provisioned: ProvisionedProductRecord) {
  return {
    Name: provisioned.name,
    Arn: provisioned.arn,
    Type: provisioned.type,
    Id: provisioned.id,
    Status: provisioned.status,
    CreatedTime: epochSeconds(provisioned.createdAtMs),
    IdempotencyToken: provisioned.idempotencyToken,
    LastRecordId: provisioned.lastRecordId,
    ProductId: provisioned.productId,
    ProvisioningArtifactId: provisioned.provisioningArtifactId,
    LaunchRoleArn: provisioned.launchRoleArn,
  };
}
