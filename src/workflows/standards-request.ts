import type { StandardsRequestInput, StandardsRequestResult } from '../shared/standards.js';
import { standardsActivities as act } from './standards/standards-steps.js';

/**
 * One read of `autopilot standards` from the fleet database (a plan's rows, the drift found): the
 * database lives with the worker, so the CLI asks through Temporal, as for the registry.
 */
export async function StandardsRequest(input: StandardsRequestInput): Promise<StandardsRequestResult> {
  switch (input.op) {
    case 'plan-items': {
      const items = await act.standardsPlanItems.executeWithOptions(
        { summary: `Read plan ${input.planId}${input.after ? ` after ${input.after.environmentId}` : ''}` },
        [
          {
            planId: input.planId,
            limit: input.limit,
            changesOnly: input.changesOnly,
            ...(input.after ? { after: input.after } : {}),
          },
        ],
      );
      const last = items.at(-1);
      return {
        op: 'plan-items',
        items,
        ...(last && items.length === input.limit ? { next: { environmentId: last.environmentId, seq: last.seq } } : {}),
      };
    }
    case 'drift':
      return {
        op: 'drift',
        records: await act.standardsDrift.executeWithOptions({ summary: 'Read the drift found' }, [
          {
            openOnly: input.openOnly,
            limit: input.limit,
            ...(input.selector ? { selector: input.selector } : {}),
            ...(input.since ? { since: input.since } : {}),
          },
        ]),
      };
  }
}
