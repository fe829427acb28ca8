import type { Client } from '@temporalio/client';
import { AutopilotPhase } from '../shared/phases.js';
import {
  REMEDIATE_CPU_SATURATION,
  remediationWorkflowId,
  type ProblemNotification,
  type RemediationPolicy,
} from '../shared/remediation.js';
import { AUTOPILOT_PHASE, DT_ENVIRONMENT_ID, DT_HOST, DT_PROBLEM_ID } from '../shared/search-attributes.js';
import type { RemediateCpuSaturation } from '../workflows/remediate-cpu-saturation.js';
import { problemNotificationSignal } from '../workflows/shared/remediation-signals.js';

/**
 * Hands one host's notification to that host's remediation with signal-with-start: the run is
 * started when there is none, and every later notification about the host joins it.
 */
export async function signalHostRemediation(
  client: Client,
  options: {
    taskQueue: string;
    environmentId: string;
    notification: ProblemNotification;
    policy: RemediationPolicy;
  },
): Promise<string> {
  const { environmentId, notification } = options;
  const workflowId = remediationWorkflowId(environmentId, notification.hostEntityId);
  const host = notification.hostName ?? notification.hostEntityId;
  await client.workflow.signalWithStart<typeof RemediateCpuSaturation, [ProblemNotification]>(
    REMEDIATE_CPU_SATURATION,
    {
      workflowId,
      taskQueue: options.taskQueue,
      args: [{ environmentId, hostEntityId: notification.hostEntityId, policy: options.policy }],
      signal: problemNotificationSignal,
      signalArgs: [notification],
      staticSummary: `Self-healing of ${host} in ${environmentId} (CPU saturation)`,
      typedSearchAttributes: [
        { key: DT_ENVIRONMENT_ID, value: environmentId },
        { key: DT_HOST, value: host },
        { key: DT_PROBLEM_ID, value: notification.problemId },
        { key: AUTOPILOT_PHASE, value: AutopilotPhase.Waiting },
      ],
    },
  );
  return workflowId;
}
