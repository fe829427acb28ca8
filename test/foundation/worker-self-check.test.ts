import proto from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkerInfoActivities } from '../../src/activities/worker-info.js';
import { AUTOPILOT_SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes.js';
import { WorkerSelfCheck } from '../../src/workflows/index.js';
import { connectToTestServer, createTestWorker, recordHistory, uniqueTaskQueue } from '../helpers/temporal.js';

const EventType = proto.temporal.api.enums.v1.EventType;

describe('WorkerSelfCheck on the real Temporal dev server', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await connectToTestServer();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it('runs the activity on a real worker and leaves a complete history on the server', async () => {
    const taskQueue = uniqueTaskQueue('self-check');
    const worker = await createTestWorker(env, {
      taskQueue,
      activities: createWorkerInfoActivities({ identity: 'test-worker', version: '9.9.9', startedAt: new Date(0) }),
    });
    const workflowId = `self-check:${taskQueue}`;
    const result = await worker.runUntil(
      env.client.workflow.execute(WorkerSelfCheck, {
        taskQueue,
        workflowId,
        staticSummary: 'Self-check from the test suite',
      }),
    );
    expect(result).toMatchObject({ identity: 'test-worker', taskQueue, version: '9.9.9' });

    // The server, not the worker, is the source of truth: read the history back through the client.
    const handle = env.client.workflow.getHandle(workflowId);
    const history = await handle.fetchHistory();
    const types = (history.events ?? []).map((e) => e.eventType);
    expect(types[0]).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED);
    expect(types).toContain(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED);
    expect(types).toContain(EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED);
    expect(types.at(-1)).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED);
    const scheduled = history.events!.find((e) => e.activityTaskScheduledEventAttributes)!;
    expect(scheduled.activityTaskScheduledEventAttributes!.activityType!.name).toBe('describeWorker');

    const description = await handle.describe();
    expect(description.status.name).toBe('COMPLETED');
    expect(await description.staticSummary()).toBe('Self-check from the test suite');
    await recordHistory(handle, 'worker-self-check');
  });

  it('has the custom search attributes registered on the server', async () => {
    const { customAttributes } = await env.connection.operatorService.listSearchAttributes({
      namespace: env.namespace ?? 'default',
    });
    for (const key of AUTOPILOT_SEARCH_ATTRIBUTES) {
      expect(customAttributes?.[key.name], key.name).toBe(
        proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
      );
    }
  });
});
