import type { createRegistryActivities } from '../activities/registry/index.js';
import type { RegistryRequestInput, RegistryRequestResult } from '../shared/environments.js';
import { autopilotActivities } from './shared/activity-proxies.js';

type Activities = ReturnType<typeof createRegistryActivities>;

// An operator waits at the terminal: a few quick attempts, then the reason.
const act = autopilotActivities<Activities>({ apiCall: '1 minute', retryWindow: '3 minutes' }, { maximumAttempts: 3 });

/**
 * One request of `autopilot environments` and `autopilot tokens` to the registry. The registry lives
 * with the worker (an embedded database has one owning process), so the CLI asks through Temporal.
 */
export async function RegistryRequest(input: RegistryRequestInput): Promise<RegistryRequestResult> {
  switch (input.op) {
    case 'list':
      return {
        op: 'list',
        environments: await act.listEnvironments.executeWithOptions({ summary: 'List registered environments' }, [
          input.selector ? { selector: input.selector } : {},
        ]),
      };
    case 'show': {
      const environment = await act.showEnvironment.executeWithOptions({ summary: `Show ${input.id}` }, [
        { id: input.id },
      ]);
      return { op: 'show', ...(environment ? { environment } : {}) };
    }
    case 'tokens':
      return {
        op: 'tokens',
        tokens: await act.listTokens.executeWithOptions({ summary: 'List the tokens Autopilot holds' }, [
          {
            ...(input.expiringWithinDays !== undefined ? { expiringWithinDays: input.expiringWithinDays } : {}),
            asOf: new Date().toISOString(),
          },
        ]),
      };
    case 'discover':
      return {
        op: 'discover',
        ...(await act.discoverEnvironments.executeWithOptions({ summary: "List the cluster's environments" }, [
          input.cluster ? { cluster: input.cluster } : {},
        ])),
      };
    case 'add':
      return {
        op: 'add',
        environment: await act.registerEnvironment.executeWithOptions(
          {
            summary: `Register ${input.environment.id}${input.environment.apiUrl ? ` (${input.environment.apiUrl})` : ''}`,
          },
          [input.environment],
        ),
      };
    case 'remove':
      return {
        op: 'remove',
        ...(await act.forgetEnvironment.executeWithOptions({ summary: `Forget ${input.id}, revoke our tokens` }, [
          { id: input.id },
        ])),
      };
    case 'tag': {
      const environment = await act.tagEnvironment.executeWithOptions({ summary: `Tag ${input.id}` }, [
        { id: input.id, add: input.add, remove: input.remove },
      ]);
      return { op: 'tag', ...(environment ? { environment } : {}) };
    }
  }
}
