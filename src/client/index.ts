import type { Client, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { codecKeysFor } from '../codec/codec-keys.js';
import { loadConfig } from '../config/config.js';
import type { HostEnrollmentInput } from '../shared/enrollment.js';
import type { OnboardCustomerInput } from '../shared/onboarding.js';
import type { OperatorDecision, WorkflowProgress } from '../shared/progress.js';
import type { ApprovalDecision } from '../shared/remediation.js';
import { autopilotClient, connectClient, temporalAccess } from '../temporal/connect.js';
import type { HostEnrollment } from '../workflows/host-enrollment.js';
import type { OnboardCustomer } from '../workflows/onboard-customer.js';
import { decideUpdate, progressQuery } from '../workflows/shared/operator-controls.js';
import { approvalUpdate } from '../workflows/shared/remediation-signals.js';
import { startEnrollment } from './start-enrollment.js';
import { startOnboarding } from './start-onboarding.js';

export type { HostEnrollmentInput, HostEnrollmentResult } from '../shared/enrollment.js';
export type { OnboardCustomerInput, OnboardCustomerResult } from '../shared/onboarding.js';
export type { OperatorDecision, WorkflowProgress } from '../shared/progress.js';
export type { ApprovalDecision, RemediationResult, RemediationStatus } from '../shared/remediation.js';
export { FailureType } from '../shared/failure-types.js';
export { startEnrollment, startOnboarding };

/**
 * Dynatrace Autopilot for a TypeScript provisioning system (`dynatrace-autopilot/client`):
 *
 *   const autopilot = await connectAutopilot();
 *   const run = await autopilot.onboard({ customer: 'abc', stage: 'p1' });
 *   console.log(await run.result());
 *
 * Connection, payload keys and task queue come from the same variables the worker reads
 * (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS, AUTOPILOT_CODEC_KEYS, AUTOPILOT_TASK_QUEUE), or from
 * `variables`. Starts use the contract's ids and policies (docs/contract): a retried or concurrent
 * start attaches to the run already doing the work. Bad input is refused before anything starts
 * with a non-retryable `InvalidWorkflowInput` naming the field.
 */
export async function connectAutopilot(variables: Record<string, string | undefined> = process.env) {
  const config = loadConfig(variables);
  const connection = await connectClient(temporalAccess(config));
  const client = autopilotClient(connection, config.temporal.namespace, codecKeysFor(config));
  return new AutopilotClient(client, config.temporal.taskQueue, () => connection.close());
}

export class AutopilotClient {
  constructor(
    /** The Temporal client with Autopilot's data converter, for anything this class does not cover. */
    readonly temporal: Client,
    readonly taskQueue: string,
    private readonly closeConnection: () => Promise<void>,
  ) {}

  /** Starts (or attaches to) `OnboardCustomer` for `<customer>-<stage>`. */
  onboard(input: OnboardCustomerInput): Promise<WorkflowHandleWithFirstExecutionRunId<typeof OnboardCustomer>> {
    return startOnboarding(this.temporal, input, { taskQueue: this.taskQueue });
  }

  /** Starts (or attaches to) `HostEnrollment` of one host. */
  enroll(input: HostEnrollmentInput): Promise<WorkflowHandleWithFirstExecutionRunId<typeof HostEnrollment>> {
    return startEnrollment(this.temporal, input, { taskQueue: this.taskQueue });
  }

  /**
   * What a run with steps is doing, and what it needs from a person. Rejects, for a moment, while a
   * worker rebuilds a run a dead worker held (README, "Queries never move a run"): ask again.
   */
  progress(workflowId: string): Promise<WorkflowProgress> {
    return this.temporal.workflow.getHandle(workflowId).query(progressQuery);
  }

  /** Retry, skip or abort the step a run waits on; refused at once (with the reason) when it cannot be taken. */
  decide(workflowId: string, decision: OperatorDecision): Promise<{ step: string; action: string }> {
    return this.temporal.workflow.getHandle(workflowId).executeUpdate(decideUpdate, { args: [decision] });
  }

  /** Approves a remediation that awaits approval. */
  approve(workflowId: string, decision: ApprovalDecision = {}): Promise<{ decision: 'approve' | 'reject' }> {
    return this.temporal.workflow.getHandle(workflowId).executeUpdate(approvalUpdate, { args: ['approve', decision] });
  }

  /** Rejects a remediation that awaits approval. */
  reject(workflowId: string, decision: ApprovalDecision = {}): Promise<{ decision: 'approve' | 'reject' }> {
    return this.temporal.workflow.getHandle(workflowId).executeUpdate(approvalUpdate, { args: ['reject', decision] });
  }

  close(): Promise<void> {
    return this.closeConnection();
  }
}
