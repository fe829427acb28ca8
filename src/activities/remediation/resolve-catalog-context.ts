import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeProvisionedProductCommand } from '@aws-sdk/client-service-catalog';
import { asAwsFailure } from '../../aws/aws-failure.js';
import { requireAws, type RemediationDeps } from './deps.js';

export type CatalogContext =
  | {
      ok: true;
      hostName: string;
      instanceId: string;
      instanceType: string;
      productId: string;
      provisionedProductId: string;
      provisioningArtifactId: string;
    }
  | { ok: false; hostName?: string; reason: string };

const lastSegment = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);

export function createResolveCatalogContext(deps: RemediationDeps) {
  /**
   * Host → EC2 instance (entities v2 `awsInstanceId`, hosts v1 as the documented fallback) →
   * instance tags (Service Catalog AutoTags, or the CloudFormation stack name `SC-<account>-pp-<id>`)
   * → provisioned product and the version it currently runs (the artifact tag names the original
   * one only, reference §1.2). A host that is not such an instance is an answer, not an error.
   */
  return async function resolveCatalogContext(input: {
    environmentId: string;
    hostEntityId: string;
  }): Promise<CatalogContext> {
    const { hostName, instanceId } = await deps.dynatrace.environments.withApi(
      input.environmentId,
      'automation',
      async ({ entities }) => {
        const entity = await entities.get(input.hostEntityId);
        const fromV2 =
          typeof entity?.properties?.awsInstanceId === 'string' ? entity.properties.awsInstanceId : undefined;
        return {
          hostName: entity?.displayName ?? input.hostEntityId,
          instanceId: fromV2 ?? (await entities.hostV1(input.hostEntityId))?.awsInstanceId,
        };
      },
    );
    if (!instanceId) {
      return {
        ok: false,
        hostName,
        reason: `${hostName} has no EC2 instance id in Dynatrace (not an EC2 host, or its AWS metadata is missing)`,
      };
    }

    const aws = requireAws(deps);
    let instance;
    try {
      const described = await aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
      instance = described.Reservations?.[0]?.Instances?.[0];
    } catch (err) {
      if ((err as { name?: string }).name === 'InvalidInstanceID.NotFound') {
        return {
          ok: false,
          hostName,
          reason: `EC2 instance ${instanceId} of ${hostName} does not exist (terminated?)`,
        };
      }
      throw asAwsFailure(err, `DescribeInstances ${instanceId}`);
    }
    if (!instance?.InstanceType)
      return { ok: false, hostName, reason: `EC2 instance ${instanceId} of ${hostName} was not found` };
    const tags = new Map((instance.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
    const provisionedArn = tags.get('aws:servicecatalog:provisionedProductArn');
    const stack = tags.get('aws:cloudformation:stack-name');
    const provisionedProductId = provisionedArn
      ? lastSegment(provisionedArn)
      : /^SC-\d+-(pp-[a-z0-9]+)$/.exec(stack ?? '')?.[1];
    if (!provisionedProductId) {
      return {
        ok: false,
        hostName,
        reason: `EC2 instance ${instanceId} of ${hostName} was not launched from Service Catalog (no aws:servicecatalog tags)`,
      };
    }
    let detail;
    try {
      detail = (await aws.serviceCatalog.send(new DescribeProvisionedProductCommand({ Id: provisionedProductId })))
        .ProvisionedProductDetail;
    } catch (err) {
      if ((err as { name?: string }).name === 'ResourceNotFoundException') {
        return {
          ok: false,
          hostName,
          reason: `provisioned product ${provisionedProductId} of ${instanceId} no longer exists`,
        };
      }
      throw asAwsFailure(err, `DescribeProvisionedProduct ${provisionedProductId}`);
    }
    if (!detail?.ProductId || !detail.ProvisioningArtifactId) {
      return { ok: false, hostName, reason: `provisioned product ${provisionedProductId} names no product version` };
    }
    return {
      ok: true,
      hostName,
      instanceId,
      instanceType: instance.InstanceType,
      productId: detail.ProductId,
      provisionedProductId,
      provisioningArtifactId: detail.ProvisioningArtifactId,
    };
  };
}
