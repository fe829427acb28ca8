import { randomUUID } from 'node:crypto';
import { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { Worker } from '@temporalio/worker';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createActivities } from '../../src/activities/index.js';
import { autopilotDataConverter } from '../../src/codec/data-converter.js';
import { secretRefs } from '../../src/secrets/secret-store.js';
import { REGISTRY_REQUEST } from '../../src/shared/environments.js';
import { FailureType } from '../../src/shared/failure-types.js';
import { WORKER_SELF_CHECK } from '../../src/shared/worker-self-check.js';
import { startTestbed, type Testbed } from '../helpers/autopilot.js';
import { startCaptureServer, type CaptureServer } from '../helpers/capture-server.js';
import {
  createTestWorker,
  runFailure,
  TEST_CODEC_KEYS_TEXT,
  testCodecKeys,
  testDataConverter,
  uniqueTaskQueue,
} from '../helpers/temporal.js';
import { cleanEnv, spawnEntryPoint } from '../helpers/processes.js';

const VICTIM = 'seal-p1';
const { EventType } = proto.temporal.api.enums.v1;

const activitiesScheduled = async (tb: Testbed, workflowId: string) =>
  ((await tb.env.client.workflow.getHandle(workflowId).fetchHistory()).events ?? []).filter(
    (e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
  ).length;

/**
 * Holding a codec key is what it means to be a client: a worker does nothing for a start, signal or
 * update whose payloads are not sealed with one, or that carries none (anyone could send it).
 */
describe('only sealed calls steer the workers', () => {
  let tb: Testbed;
  let worker: Worker;
  let running: Promise<void>;
  let capture: CaptureServer;
  let victimToken: string;
  const victimRef = secretRefs.environmentToken(VICTIM, 'automation');

  beforeAll(async () => {
    tb = await startTestbed();
    worker = await tb.worker();
    running = worker.run();
    capture = await startCaptureServer();
    // Another environment's automation token, where onboarding leaves it.
    victimToken = (await tb.dt.environment(VICTIM)).token;
    await tb.deps.secrets.put(victimRef, victimToken, { tokenId: 'victim' });
  }, 120_000);
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await capture?.close();
    await tb?.teardown();
  });

  it("a plain-JSON RegistryRequest that names another environment's token and a capture server fails before any activity", async () => {
    // What anyone on the network can send with `temporal workflow start --input '{…}'`.
    const plain = new Client({ connection: tb.env.connection, namespace: tb.env.namespace ?? 'default' });
    const workflowId = `registry-add:stolen-${randomUUID()}`;
    await plain.workflow.start(REGISTRY_REQUEST, {
      taskQueue: tb.taskQueue,
      workflowId,
      args: [
        {
          op: 'add',
          environment: { id: 'stolen', apiUrl: capture.url, kind: 'saas', stagedSecretRef: victimRef },
        },
      ],
    });
    const failure = await runFailure(tb.env.client, workflowId);
    expect(failure.type).toBe(FailureType.UnsealedPayload);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(/not sealed with a codec key of this deployment \(json\/plain\)/);
    expect(await activitiesScheduled(tb, workflowId)).toBe(0);
    expect(capture.requests).toEqual([]);
    expect((await tb.deps.secrets.get(victimRef))?.value).toBe(victimToken);
  });

  it('a call that carries no payload at all is refused too, even from a client that seals', async () => {
    const sealedButEmpty = new Client({
      connection: tb.env.connection,
      namespace: tb.env.namespace ?? 'default',
      dataConverter: testDataConverter,
    });
    const workflowId = `self-check-empty-${randomUUID()}`;
    await sealedButEmpty.workflow.start(WORKER_SELF_CHECK, { taskQueue: tb.taskQueue, workflowId });
    const failure = await runFailure(tb.env.client, workflowId);
    expect(failure.type).toBe(FailureType.UnsealedPayload);
    expect(failure.message).toMatch(/carries no payload/);
    expect(await activitiesScheduled(tb, workflowId)).toBe(0);
  });

  it('our clients seal a payload into every call, even one that takes no argument, and the worker runs it', async () => {
    const result = await tb.env.client.workflow.execute(WORKER_SELF_CHECK, {
      taskQueue: tb.taskQueue,
      workflowId: `self-check-sealed-${randomUUID()}`,
    });
    expect(result).toMatchObject({ identity: 'test-worker', taskQueue: tb.taskQueue });
  });

  it('only the sandbox may be told to accept plain payloads; there, a plain start with an argument runs', async () => {
    const taskQueue = uniqueTaskQueue('plain-accepted');
    const lenient = await createTestWorker(tb.env, {
      taskQueue,
      activities: createActivities(tb.deps),
      dataConverter: autopilotDataConverter(testCodecKeys, 'accept'),
    });
    const plain = new Client({ connection: tb.env.connection, namespace: tb.env.namespace ?? 'default' });
    await lenient.runUntil(async () => {
      const started = await plain.workflow.start(WORKER_SELF_CHECK, {
        taskQueue,
        workflowId: `self-check-plain-${randomUUID()}`,
        args: [null],
      });
      await expect(tb.env.client.workflow.getHandle(started.workflowId).result()).resolves.toMatchObject({
        taskQueue,
      });
    });

    // Anywhere else the setting stops start-up, naming itself.
    const refusals = [
      spawnEntryPoint(
        'src/workers/main.ts',
        cleanEnv({
          AUTOPILOT_ACCEPT_UNSEALED_PAYLOADS: 'true',
          TEMPORAL_ADDRESS: inject('temporalAddress'),
          AUTOPILOT_CODEC_KEYS: TEST_CODEC_KEYS_TEXT,
          DT_CLUSTER_URL: 'https://managed.example.com',
          DT_CLUSTER_TOKEN: 'dt0c01.NOTUSED',
        }),
      ),
      spawnEntryPoint(
        'sandbox/start.ts',
        cleanEnv({
          AUTOPILOT_ACCEPT_UNSEALED_PAYLOADS: 'true',
          AUTOPILOT_DATA_DIR: path.join(tb.dir, 'start'),
          TEMPORAL_ADDRESS: inject('temporalAddress'),
          AUTOPILOT_CODEC_KEYS: TEST_CODEC_KEYS_TEXT,
          DT_CLUSTER_URL: 'https://managed.example.com',
          DT_CLUSTER_TOKEN: 'dt0c01.NOTUSED',
        }),
      ),
    ];
    for (const proc of refusals) {
      expect((await proc.exit).code).toBe(2);
      expect(proc.stderr().trim().split('\n').at(-1)).toMatch(
        /AUTOPILOT_ACCEPT_UNSEALED_PAYLOADS is honoured only by the sandbox/,
      );
    }
  });
});
