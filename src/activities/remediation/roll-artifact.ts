import { createHash } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  CreateProvisioningArtifactCommand,
  DescribeProvisioningArtifactCommand,
  UpdateProvisioningArtifactCommand,
} from '@aws-sdk/client-service-catalog';
import { heartbeat, sleep } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { asAwsFailure } from '../../aws/aws-failure.js';
import { setInstanceType } from '../../aws/instance-type-template.js';
import { s3ObjectUrl } from '../../aws/s3-url.js';
import { rolledArtifactName } from '../../shared/remediation.js';
import { requireAws, type RemediationDeps } from './deps.js';
import { rollMarker, type RollPlan } from './plan-roll.js';
import { fetchTemplate } from '../../aws/fetch-template.js';
import { FailureType } from '../../shared/failure-types.js';

/**
 * The same product, source version and target type always give the same token, so a retried step,
 * a second worker, or a second host of the same product gets the one version back instead of a
 * new one (the SDK would invent a random token per call, reference §2.4).
 */
export function rollIdempotencyToken(productId: string, sourceArtifactId: string, targetType: string): string {
  return `dtap-${createHash('sha256').update(`${productId}|${sourceArtifactId}|${targetType}`).digest('hex').slice(0, 40)}`;
}

export function createRollArtifactActivities(deps: RemediationDeps) {
  return {
    /** Edits the template, uploads it, and creates the new version (deterministic token). */
    async createRolledArtifact(input: {
      productId: string;
      plan: RollPlan;
    }): Promise<{ artifactId: string; name: string; status: string }> {
      const aws = requireAws(deps);
      const bucket = deps.catalog.templateBucket;
      if (!bucket) {
        throw ApplicationFailure.nonRetryable(
          'no bucket for edited templates (REMEDIATION_TEMPLATE_BUCKET)',
          FailureType.TemplateBucketMissing,
        );
      }
      const { plan } = input;
      const edited = setInstanceType(await fetchTemplate(aws, plan.templateUrl), plan.templateType, plan.targetType);
      const key = `dynatrace-autopilot/${input.productId}/${plan.sourceArtifactId}-${plan.targetType}.${edited.format === 'yaml' ? 'yaml' : 'json'}`;
      try {
        await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: edited.text }));
      } catch (err) {
        throw asAwsFailure(err, `uploading the edited template to s3://${bucket}/${key}`);
      }
      const url = s3ObjectUrl({
        bucket,
        key,
        region: aws.region,
        ...(aws.s3Endpoint ? { endpoint: aws.s3Endpoint } : {}),
      });
      const name = rolledArtifactName(plan.targetType);
      try {
        const created = await aws.serviceCatalog.send(
          new CreateProvisioningArtifactCommand({
            ProductId: input.productId,
            IdempotencyToken: rollIdempotencyToken(input.productId, plan.sourceArtifactId, plan.targetType),
            Parameters: {
              Name: name,
              Description: `Dynatrace Autopilot: instance type ${plan.runningType} → ${plan.targetType} after repeated CPU saturation, from ${plan.sourceArtifactId}. ${rollMarker(plan.sourceArtifactId, plan.targetType)}`,
              Info: { LoadTemplateFromURL: url },
              Type: 'CLOUD_FORMATION_TEMPLATE',
              DisableTemplateValidation: false,
            },
          }),
        );
        return { artifactId: created.ProvisioningArtifactDetail!.Id!, name, status: created.Status ?? 'CREATING' };
      } catch (err) {
        throw asAwsFailure(err, `CreateProvisioningArtifact for ${input.productId}`);
      }
    },

    /** New versions start CREATING; only an AVAILABLE one may replace the old one. */
    async awaitArtifactAvailable(input: { productId: string; artifactId: string }): Promise<void> {
      const aws = requireAws(deps);
      for (;;) {
        let status: string | undefined;
        try {
          status = (
            await aws.serviceCatalog.send(
              new DescribeProvisioningArtifactCommand({
                ProductId: input.productId,
                ProvisioningArtifactId: input.artifactId,
              }),
            )
          ).Status;
        } catch (err) {
          throw asAwsFailure(err, `DescribeProvisioningArtifact ${input.artifactId}`);
        }
        if (status === 'AVAILABLE') return;
        if (status === 'FAILED') {
          throw ApplicationFailure.nonRetryable(
            `Service Catalog failed to create version ${input.artifactId} of ${input.productId} (template rejected?)`,
            FailureType.ArtifactCreationFailed,
          );
        }
        heartbeat({ status });
        await sleep(1_000);
      }
    },

    /** Users can still update existing stacks on a deprecated version but cannot launch new ones from it. */
    async deprecateArtifact(input: { productId: string; artifactId: string }): Promise<void> {
      const aws = requireAws(deps);
      try {
        await aws.serviceCatalog.send(
          new UpdateProvisioningArtifactCommand({
            ProductId: input.productId,
            ProvisioningArtifactId: input.artifactId,
            Guidance: 'DEPRECATED',
          }),
        );
      } catch (err) {
        throw asAwsFailure(err, `deprecating ${input.artifactId}`);
      }
    },
  };
}
