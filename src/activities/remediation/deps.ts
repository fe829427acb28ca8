import { ApplicationFailure } from '@temporalio/common';
import type { AwsClients } from '../../aws/aws-clients.js';
import type { DynatraceAccess } from '../dynatrace-access.js';
import { FailureType } from '../../shared/failure-types.js';

export interface RemediationDeps {
  dynatrace: DynatraceAccess;
  /** Absent when the worker has no AWS configuration: remediations then wait for an operator. */
  aws: AwsClients | undefined;
  catalog: {
    /** SSM StringList of approved instance types, smallest first. */
    approvedTypesParameter: string;
    /** Where edited templates are uploaded (Service Catalog takes a URL, never a body). */
    templateBucket: string | undefined;
  };
}

export function requireAws(deps: RemediationDeps): AwsClients {
  if (!deps.aws) {
    throw ApplicationFailure.nonRetryable(
      'this worker has no AWS configuration (AWS_REGION)',
      FailureType.AwsNotConfigured,
    );
  }
  return deps.aws;
}
