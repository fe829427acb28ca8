import { describe, expect, inject, it } from 'vitest';
import { runWebhookStorm } from '../../bench/storm/webhook-storm.js';

describe('webhook storm benchmark', () => {
  it(
    'fires a small storm and finds every valid notification in its workflow exactly once',
    { timeout: 120_000 },
    async () => {
      const result = await runWebhookStorm({
        notifications: 300,
        environments: 3,
        hostsPerEnvironment: 10,
        environmentPrefix: 'stm',
        load: { kind: 'closed', connections: 8 },
        temporal: { address: inject('temporalAddress'), namespace: inject('temporalNamespace') },
      });

      const { valid, duplicate, test } = result.totals.byCategory;
      expect({ valid, duplicate, test }).toEqual({ valid: 180, duplicate: 75, test: 45 });
      expect(result.totals.retries).toBe(0);
      expect(result.statuses).toEqual({ '200': test, '202': valid + duplicate });

      const once = result.exactlyOnce;
      expect(once.problems).toEqual([]);
      expect(once).toMatchObject({ ok: true, lost: 0, duplicated: 0, unexpectedSignals: 0, extraWorkflows: 0 });
      expect(once).toMatchObject({ neverAccepted: 0, acceptedMoreThanOnce: 0 });
      expect(once.signalsCounted).toBe(valid);
      expect(once.workflowsFound).toBe(once.workflowsExpected);
      // Repeats and tests were answered 2xx, and added no signal: the count above is the valid ones alone.
      expect(once.duplicatesAnsweredDuplicate + once.originalsOvertaken).toBe(duplicate);
      expect(once.testsAnsweredTest).toBe(test);

      expect(result.latencyMs.count).toBe(300);
      expect(result.histogram.reduce((sum, bucket) => sum + bucket.count, 0)).toBe(300);
      expect(JSON.parse(JSON.stringify(result))).toEqual(result);
    },
  );
});
