import { ApplicationFailure, setCurrentDetails } from '@temporalio/workflow';
import { FailureType } from '../shared/failure-types.js';
import type { StandardsPlanInput, StandardsPlanSummary } from '../shared/standards.js';
import { DEFAULT_PLAN_CONCURRENCY, plan, recordSet } from './standards/standards-steps.js';

/**
 * `autopilot standards plan`: records the set under its hash and plans it over the selected
 * environments. Writes nothing to Dynatrace; the plan's rows stay in the fleet database for the CLI
 * to page through.
 */
export async function StandardsPlan(input: StandardsPlanInput): Promise<StandardsPlanSummary> {
  if (!input?.set?.hash || typeof input.selector !== 'string') {
    throw ApplicationFailure.nonRetryable(
      'Invalid StandardsPlan input: set (with its hash) and selector are required',
      FailureType.InvalidWorkflowInput,
    );
  }
  setCurrentDetails(`Recording standards ${input.set.hash.slice(0, 12)} from ${input.set.origin.path}`);
  await recordSet(input.set);
  setCurrentDetails(`Planning standards ${input.set.hash.slice(0, 12)} over ${input.selector}`);
  const summary = await plan({
    setHash: input.set.hash,
    selector: input.selector,
    purpose: 'plan',
    concurrency: input.concurrency ?? DEFAULT_PLAN_CONCURRENCY,
  });
  const c = summary.counts;
  setCurrentDetails(
    `Planned ${c.environments} environment(s): ${c.create} to create, ${c.update} to update, ${c.delete} to delete, ` +
      `${c.unchanged} unchanged, ${c.orphan} orphan(s), ${c.refused} refused, ${c.unreadable} unreadable`,
  );
  return summary;
}
