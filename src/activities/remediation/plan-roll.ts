import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { DescribeProvisioningArtifactCommand, ListProvisioningArtifactsCommand } from '@aws-sdk/client-service-catalog';
import { ApplicationFailure } from '@temporalio/common';
import { asAwsFailure } from '../../aws/aws-failure.js';
import { analyzeInstanceType, TemplateEditError } from '../../aws/instance-type-template.js';
import { rolledArtifactName } from '../../shared/remediation.js';
import { requireAws, type RemediationDeps } from './deps.js';
import { fetchTemplate } from '../../aws/fetch-template.js';
import { FailureType } from '../../shared/failure-types.js';

export interface RollPlan {
  sourceArtifactId: string;
  templateUrl: string;
  /** The instance type the template sets now (what gets replaced). */
  templateType: string;
  runningType: string;
  targetType: string;
  approvedTypes: string[];
  /** A version made by us for this source and target already exists (an earlier run, another host). */
  existingArtifactId?: string;
  existingArtifactName?: string;
}

/** Marks the versions we create, so a later episode finds them instead of climbing again. */
export const rollMarker = (sourceArtifactId: string, targetType: string) =>
  `[dynatrace-autopilot:${sourceArtifactId}:${targetType}]`;

export function createPlanRoll(deps: RemediationDeps) {
  /**
   * Next larger approved type after the one the instance actually runs (the SSM list is ordered by
   * the platform team, not by us), and where the current version's template sets the type. At the
   * top of the list, or with a type the list does not know, a person decides: nothing is changed.
   */
  return async function planInstanceTypeRoll(input: {
    productId: string;
    provisioningArtifactId: string;
    instanceType: string;
  }): Promise<RollPlan> {
    const aws = requireAws(deps);
    const name = deps.catalog.approvedTypesParameter;
    let approvedTypes: string[];
    try {
      const { Parameter } = await aws.ssm.send(new GetParameterCommand({ Name: name }));
      approvedTypes = (Parameter?.Value ?? '')
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean);
    } catch (err) {
      if ((err as { name?: string }).name === 'ParameterNotFound') {
        throw ApplicationFailure.nonRetryable(
          `the approved instance types parameter ${name} does not exist in SSM`,
          FailureType.ApprovedTypesMissing,
        );
      }
      throw asAwsFailure(err, `reading ${name}`);
    }
    const index = approvedTypes.indexOf(input.instanceType);
    if (index < 0) {
      throw ApplicationFailure.nonRetryable(
        `${input.instanceType} is not in the approved instance types (${approvedTypes.join(', ')}) of ${name}: no change made`,
        FailureType.InstanceTypeNotApproved,
      );
    }
    if (index === approvedTypes.length - 1) {
      throw ApplicationFailure.nonRetryable(
        `${input.instanceType} is already the largest approved instance type (${approvedTypes.join(', ')}): no change made`,
        FailureType.AtTopOfApprovedTypes,
      );
    }
    const targetType = approvedTypes[index + 1]!;

    let described;
    let versions;
    try {
      described = await aws.serviceCatalog.send(
        new DescribeProvisioningArtifactCommand({
          ProductId: input.productId,
          ProvisioningArtifactId: input.provisioningArtifactId,
        }),
      );
      versions = await aws.serviceCatalog.send(new ListProvisioningArtifactsCommand({ ProductId: input.productId }));
    } catch (err) {
      throw asAwsFailure(err, `describing ${input.productId} ${input.provisioningArtifactId}`);
    }
    const templateUrl = described.Info?.TemplateUrl;
    if (!templateUrl) {
      throw ApplicationFailure.nonRetryable(
        `version ${input.provisioningArtifactId} of ${input.productId} has no template URL`,
        FailureType.TemplateNotEditable,
      );
    }
    const marker = rollMarker(input.provisioningArtifactId, targetType);
    const existing = (versions.ProvisioningArtifactDetails ?? []).find((v) => v.Description?.includes(marker));

    let templateType: string | undefined;
    try {
      templateType = analyzeInstanceType(await fetchTemplate(aws, templateUrl)).currentType;
    } catch (err) {
      if (err instanceof TemplateEditError) {
        throw ApplicationFailure.nonRetryable(
          `the template of ${input.provisioningArtifactId} cannot be edited: ${err.message}`,
          FailureType.TemplateNotEditable,
        );
      }
      throw err;
    }
    if (!templateType) {
      throw ApplicationFailure.nonRetryable(
        `the template of ${input.provisioningArtifactId} sets no instance type`,
        FailureType.TemplateNotEditable,
      );
    }
    return {
      sourceArtifactId: input.provisioningArtifactId,
      templateUrl,
      templateType,
      runningType: input.instanceType,
      targetType,
      approvedTypes,
      ...(existing?.Id
        ? { existingArtifactId: existing.Id, existingArtifactName: existing.Name ?? rolledArtifactName(targetType) }
        : {}),
    };
  };
}
