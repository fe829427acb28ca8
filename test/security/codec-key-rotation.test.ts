import { randomBytes } from 'node:crypto';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkerInfoActivities } from '../../src/activities/worker-info.js';
import { parseCodecKeys, type CodecKeyring } from '../../src/codec/codec-keyring.js';
import { autopilotDataConverter } from '../../src/codec/data-converter.js';
import { EncryptionCodec, KEY_ID_METADATA } from '../../src/codec/encryption-codec.js';
import { sealedCallsInterceptor } from '../../src/temporal/sealed-calls.js';
import { WorkerSelfCheck } from '../../src/workflows/index.js';
import { WORKER_SELF_CHECK } from '../../src/shared/worker-self-check.js';
import { connectToTestServer, createTestWorker, uniqueTaskQueue } from '../helpers/temporal.js';

const OLD = `old-2026:${randomBytes(32).toString('base64')}`;
const NEW = `new-2027:${randomBytes(32).toString('hex')}`;

describe('rotating the payload key', () => {
  let env: TestWorkflowEnvironment;
  const taskQueue = uniqueTaskQueue('key-rotation');
  const keys = (text: string) => parseCodecKeys(text, 'AUTOPILOT_CODEC_KEYS');
  const clientWith = (keyring: CodecKeyring) =>
    new Client({
      connection: env.connection,
      namespace: env.namespace ?? 'default',
      dataConverter: autopilotDataConverter(keyring),
      interceptors: { workflow: [sealedCallsInterceptor] },
    });
  const workerWith = (keyring: CodecKeyring) =>
    createTestWorker(env, {
      taskQueue,
      activities: createWorkerInfoActivities({ identity: 'rotation-worker', version: '1', startedAt: new Date(0) }),
      dataConverter: autopilotDataConverter(keyring, 'mark'),
    });
  const run = async (keyring: CodecKeyring, workflowId: string) => {
    const worker = await workerWith(keyring);
    return worker.runUntil(
      clientWith(keyring).workflow.execute(WorkerSelfCheck, {
        taskQueue,
        workflowId,
        staticSummary: `Self-check ${workflowId}`,
      }),
    );
  };
  /** The key ids on the payloads the server holds for a run (no decryption needed to read them). */
  const keyIdsOf = async (workflowId: string) => {
    const history = await clientWith(keys(NEW)).workflow.getHandle(workflowId).fetchHistory();
    const ids = new Set<string>();
    const walk = (n: unknown): void => {
      if (Array.isArray(n)) return n.forEach(walk);
      if (n === null || typeof n !== 'object') return;
      const metadata = (n as { metadata?: Record<string, Uint8Array> }).metadata;
      const id = metadata?.[KEY_ID_METADATA];
      if (id instanceof Uint8Array) ids.add(Buffer.from(id).toString());
      Object.values(n).forEach(walk);
    };
    walk(history);
    return ids;
  };

  beforeAll(async () => {
    env = await connectToTestServer();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it('keeps old histories readable after a new key becomes primary, and only the retired key fails', async () => {
    const before = await run(keys(OLD), `rotation-old:${taskQueue}`);
    expect(before.identity).toBe('rotation-worker');
    expect(await keyIdsOf(`rotation-old:${taskQueue}`)).toEqual(new Set(['old-2026']));

    // Step 1 of a rotation: the new key first, the old one still listed.
    const rotated = keys(`${NEW}\n${OLD}`);
    const oldHandle = clientWith(rotated).workflow.getHandle(`rotation-old:${taskQueue}`);
    expect(await oldHandle.result()).toEqual(before);
    expect(await (await oldHandle.describe()).staticSummary()).toBe(`Self-check rotation-old:${taskQueue}`);
    const history = await oldHandle.fetchHistory();
    const payloads = history.events!.flatMap(
      (e) => e.workflowExecutionCompletedEventAttributes?.result?.payloads ?? [],
    );
    expect(payloads.length).toBeGreaterThan(0);
    await expect(new EncryptionCodec(rotated).decode(payloads)).resolves.toHaveLength(payloads.length);

    // A worker with the rotated keys replays the old history (a query on the closed run) and
    // writes new runs under the new key only.
    const worker = await workerWith(rotated);
    await worker.runUntil(async () => {
      expect(await oldHandle.query<{ definition?: { type?: string } }>('__temporal_workflow_metadata')).toMatchObject({
        definition: { type: WORKER_SELF_CHECK },
      });
    });
    const after = await run(rotated, `rotation-new:${taskQueue}`);
    expect(after.identity).toBe('rotation-worker');
    expect(await keyIdsOf(`rotation-new:${taskQueue}`)).toEqual(new Set(['new-2027']));

    // Step 2, too early: the old key removed while its histories remain. Decoding fails and names
    // the missing key, instead of showing garbage.
    const newOnly = clientWith(keys(NEW));
    await expect(newOnly.workflow.getHandle(`rotation-old:${taskQueue}`).result()).rejects.toThrow(
      /encrypted with key "old-2026", which is not in AUTOPILOT_CODEC_KEYS \(known: new-2027\)/,
    );
    expect(await newOnly.workflow.getHandle(`rotation-new:${taskQueue}`).result()).toEqual(after);
  });
});
