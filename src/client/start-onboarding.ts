import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import {
  ONBOARD_CUSTOMER,
  onboardWorkflowId,
  planOnboarding,
  type OnboardCustomerInput,
} from '../shared/onboarding.js';
import { AutopilotPhase } from '../shared/phases.js';
import { AUTOPILOT_PHASE, DT_CUSTOMER, DT_ENVIRONMENT_ID } from '../shared/search-attributes.js';
import type { OnboardCustomer } from '../workflows/onboard-customer.js';
import { FailureType } from '../shared/failure-types.js';

/**
 * Starts onboarding of one environment, or attaches to the run already in progress for it: the
 * workflow id is the environment, so a retried or concurrent start never creates a second run.
 * Input is validated here too, so a caller gets the error before anything is started.
 */
export async function startOnboarding(
  client: Client,
  input: OnboardCustomerInput,
  options: { taskQueue: string },
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof OnboardCustomer>> {
  const planned = planOnboarding(input);
  if (!planned.ok) {
    throw ApplicationFailure.nonRetryable(
      `Invalid OnboardCustomer input: ${planned.message}`,
      FailureType.InvalidWorkflowInput,
    );
  }
  const { environmentId, customer } = planned.plan;
  return client.workflow.start<typeof OnboardCustomer>(ONBOARD_CUSTOMER, {
    args: [input],
    taskQueue: options.taskQueue,
    workflowId: onboardWorkflowId(environmentId),
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    staticSummary: `Onboard customer ${customer}, stage ${planned.plan.stage} → environment ${environmentId}`,
    typedSearchAttributes: [
      { key: DT_ENVIRONMENT_ID, value: environmentId },
      { key: DT_CUSTOMER, value: customer },
      { key: AUTOPILOT_PHASE, value: AutopilotPhase.Running },
    ],
  });
}
