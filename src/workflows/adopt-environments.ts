import { ApplicationFailure, setCurrentDetails, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { createRegistryActivities } from '../activities/registry/index.js';
import type { AdoptEnvironmentsInput, AdoptionProgress } from '../shared/environments.js';
import { FailureType } from '../shared/failure-types.js';
import { AutopilotPhase } from '../shared/phases.js';
import { AUTOPILOT_PHASE } from '../shared/search-attributes.js';
import { autopilotActivities } from './shared/activity-proxies.js';
import { Adoption } from './registry/adoption.js';
import { adoptionProgressQuery } from './shared/day-two-queries.js';

type Activities = ReturnType<typeof createRegistryActivities>;

const DEFAULT_BATCH = 25;

const act = autopilotActivities<Activities>({ apiCall: '2 minutes', retryWindow: '1 hour' });
// A batch mints two tokens in each of its environments, a few at a time within the cluster's cap.
const adopt = autopilotActivities<Activities>(
  { apiCall: '10 minutes', retryWindow: '2 hours' },
  { maximumRetryInterval: '2 minutes', heartbeatTimeout: '20 seconds' },
).adoptEnvironments;

/**
 * Takes the existing environments of a cluster that a selector matches into the registry, each
 * with tokens of its own minted from the cluster token, batch by batch. Resumable: a worker killed
 * halfway hands over to the next, and what was adopted is not adopted again (nor is it on a rerun).
 */
export async function AdoptEnvironments(input: AdoptEnvironmentsInput): Promise<AdoptionProgress> {
  if (!input?.selector?.trim()) {
    throw ApplicationFailure.nonRetryable(
      'Invalid AdoptEnvironments input: selector is required',
      FailureType.InvalidWorkflowInput,
    );
  }
  upsertSearchAttributes([{ key: AUTOPILOT_PHASE, value: AutopilotPhase.Running }]);
  setCurrentDetails(`Listing the environments of ${input.cluster ?? 'the cluster'} that match ${input.selector}`);
  const found = await act.discoverEnvironments.executeWithOptions(
    { summary: `List the cluster's environments matching ${input.selector}` },
    [{ selector: input.selector, ...(input.cluster ? { cluster: input.cluster } : {}) }],
  );
  const adoption = new Adoption(found.cluster, input.selector, found.environments.length);
  setHandler(adoptionProgressQuery, () => adoption.progress);
  const batch = input.batchSize ?? DEFAULT_BATCH;
  const ids = found.environments.map((e) => e.id);
  for (let i = 0; i < ids.length; i += batch) {
    const slice = ids.slice(i, i + batch);
    adoption.add(
      await adopt.executeWithOptions(
        { summary: `Adopt ${slice.length} environment(s), ${slice[0]} … ${slice.at(-1)}` },
        [{ cluster: found.cluster, ids: slice }],
      ),
    );
    setCurrentDetails(adoption.summary());
  }
  upsertSearchAttributes([{ key: AUTOPILOT_PHASE, value: AutopilotPhase.Completed }]);
  setCurrentDetails(`Done: ${adoption.summary()}`);
  return adoption.progress;
}
