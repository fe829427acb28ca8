import { ApplicationFailure, upsertSearchAttributes } from '@temporalio/workflow';
import type { createRemediationActivities } from '../activities/remediation/index.js';
import { AutopilotPhase } from '../shared/phases.js';
import {
  problemRoutingInputSchema,
  type ProblemRoutingInput,
  type ProblemRoutingOutcome,
  type ProblemRoutingResult,
} from '../shared/problem-routing.js';
import { DT_ENVIRONMENT_ID, DT_PROBLEM_ID } from '../shared/search-attributes.js';
import { autopilotActivities } from './shared/activity-proxies.js';
import { registerOperatorControls } from './shared/operator-controls.js';
import { FailureType } from '../shared/failure-types.js';

type Activities = ReturnType<typeof createRemediationActivities>;

const STEPS = [
  { name: 'read', title: 'Problem and its hosts (problems API)' },
  { name: 'route', title: 'Hand over to the host remediations' },
];

const act = autopilotActivities<Activities>({ apiCall: '1 minute', retryWindow: '15 minutes' });

/**
 * A problem notification whose payload named no host (environments configured with a payload of
 * only `State` and `PID`, or a CPU saturation that impacts a service): the receiver holds no
 * Dynatrace credentials, so this short run reads the problem through the API and hands every host
 * it names to that host's remediation, exactly as a payload with entities would have been routed.
 */
export async function RouteProblemNotification(rawInput: ProblemRoutingInput): Promise<ProblemRoutingResult> {
  const parsed = problemRoutingInputSchema.safeParse(rawInput);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(
      `Invalid RouteProblemNotification input: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`,
      FailureType.InvalidWorkflowInput,
    );
  }
  const input = parsed.data;
  const { environmentId, problemId, state } = input;
  upsertSearchAttributes([
    { key: DT_ENVIRONMENT_ID, value: environmentId },
    { key: DT_PROBLEM_ID, value: problemId },
  ]);
  const controls = registerOperatorControls(STEPS, {
    subject: `Routing of problem ${input.displayId ?? problemId} (${state}) in ${environmentId}`,
  });
  controls.setPhase(AutopilotPhase.Running);

  const finish = (
    outcome: ProblemRoutingOutcome,
    reason: string,
    found: Partial<ProblemRoutingResult> = {},
  ): ProblemRoutingResult => {
    controls.setPhase(outcome === 'routed' ? AutopilotPhase.Completed : AutopilotPhase.Skipped);
    return { environmentId, problemId, state, outcome, reason, hosts: [], workflowIds: [], ...found };
  };

  const lookup = await controls.step(
    'read',
    () =>
      act.findProblemHosts.executeWithOptions({ summary: `Read problem ${input.displayId ?? problemId}` }, [
        { environmentId, problemId, cpuEventTypes: input.policy.cpuEventTypes },
      ]),
    (r) => (r.found ? `${r.displayId} "${r.title}": ${r.hosts.length} host(s)` : r.reason),
  );
  if (!lookup.found) {
    controls.skipBecause('route', lookup.reason);
    return finish('problem-not-found', lookup.reason);
  }
  const named = `${lookup.displayId} "${lookup.title}"`;
  const found = { displayId: lookup.displayId, hosts: lookup.hosts };
  if (lookup.hosts.length === 0) {
    const reason = `${named} names no host`;
    controls.skipBecause('route', reason);
    return finish('no-host', reason, found);
  }
  if (lookup.cpuEvents.length === 0) {
    const reason = `${named} is not a CPU saturation (events: ${lookup.events.join(', ') || 'none'})`;
    controls.skipBecause('route', reason);
    return finish('not-cpu-saturation', reason, found);
  }

  const workflowIds = await controls.step(
    'route',
    () =>
      act.routeToRemediations.executeWithOptions(
        { summary: `Hand ${named} to ${lookup.hosts.length} host remediation(s)` },
        [
          {
            environmentId,
            hosts: lookup.hosts,
            policy: input.policy,
            notification: {
              problemId,
              state,
              displayId: input.displayId ?? lookup.displayId,
              title: input.title ?? lookup.title,
              receivedAt: input.receivedAt,
            },
          },
        ],
      ),
    (ids) => ids.join(', '),
  );
  return finish('routed', `handed to ${workflowIds.length} host remediation(s)`, { ...found, workflowIds });
}
