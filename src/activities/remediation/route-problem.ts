import { activityInfo, getClient, log } from '@temporalio/activity';
import { signalHostRemediation } from '../../client/signal-remediation.js';
import type { ProblemHost, ProblemHostsLookup } from '../../shared/problem-routing.js';
import type { ProblemNotification, RemediationPolicy } from '../../shared/remediation.js';
import type { RemediationDeps } from './deps.js';
import { eventTypesOf, hostsOfProblem, readProblemEvidence } from './problem-evidence.js';

export function createRouteProblemActivities(deps: RemediationDeps) {
  return {
    /**
     * Reads a notified problem that arrived without its entities (the payload is whatever the
     * environment's admin typed): is it there, is it a CPU saturation, and which hosts does it name.
     */
    async findProblemHosts(input: {
      environmentId: string;
      problemId: string;
      cpuEventTypes: string[];
    }): Promise<ProblemHostsLookup> {
      const evidence = await readProblemEvidence(deps, input);
      if (!evidence) {
        return { found: false, reason: `problem ${input.problemId} does not exist in ${input.environmentId}` };
      }
      const { problem, saturated } = evidence;
      const events = eventTypesOf(problem, evidence.v1);
      return {
        found: true,
        displayId: problem.displayId,
        title: problem.title,
        status: problem.status,
        cpuEvents: events.filter((type) => input.cpuEventTypes.includes(type)),
        events,
        hosts: hostsOfProblem(problem, saturated),
      };
    },

    /** Each host's share of the notification goes to its remediation, as if the payload had named it. */
    async routeToRemediations(input: {
      environmentId: string;
      notification: Omit<ProblemNotification, 'hostEntityId' | 'hostName'>;
      hosts: ProblemHost[];
      policy: RemediationPolicy;
    }): Promise<string[]> {
      const client = getClient();
      const { taskQueue } = activityInfo();
      const workflowIds = await Promise.all(
        input.hosts.map((host) =>
          signalHostRemediation(client, {
            taskQueue,
            environmentId: input.environmentId,
            policy: input.policy,
            notification: {
              ...input.notification,
              hostEntityId: host.entityId,
              ...(host.name ? { hostName: host.name } : {}),
            },
          }),
        ),
      );
      log.info('Notification routed to host remediations', {
        environmentId: input.environmentId,
        problemId: input.notification.problemId,
        workflowIds,
      });
      return workflowIds;
    },
  };
}
