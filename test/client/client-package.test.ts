import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { projectRoot } from '../../src/config/config.js';
import type { OnboardCustomerResult } from '../../src/shared/onboarding.js';
import { startTestbed, type Testbed } from '../helpers/autopilot.js';
import { cleanEnv } from '../helpers/processes.js';
import { TEST_CODEC_KEYS_TEXT } from '../helpers/temporal.js';

/** What a TypeScript provisioning system writes: the package's client entry point and three lines. */
const PROVISIONING_SCRIPT = `
import { connectAutopilot, FailureType } from 'dynatrace-autopilot/client';
const autopilot = await connectAutopilot();
const run = await autopilot.onboard({ customer: 'pkg', stage: 'p1' });
const result = await run.result();
let refused;
try {
  await autopilot.onboard({ customer: 'pkg', stage: 'P_1' });
} catch (err) {
  refused = { type: err.type, nonRetryable: err.nonRetryable, message: err.message, expected: FailureType.InvalidWorkflowInput };
}
console.log(JSON.stringify({ workflowId: run.workflowId, runId: run.firstExecutionRunId, result, refused }));
await autopilot.close();
`;

/** Runs the script as its own process, resolving `dynatrace-autopilot/client` through the package's exports. */
function provision(
  env: Record<string, string | undefined>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // The `source` condition maps the entry point to its TypeScript source, as the built one maps to dist/.
    const child = spawn(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', PROVISIONING_SCRIPT],
      { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the dynatrace-autopilot/client entry point', () => {
  let tb: Testbed;
  beforeAll(async () => {
    tb = await startTestbed();
  }, 120_000);
  afterAll(async () => {
    await tb.teardown();
  });

  it('onboards in three lines, attaches on a second run, and refuses bad input with InvalidWorkflowInput', async () => {
    const env = cleanEnv({
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_NAMESPACE: inject('temporalNamespace'),
      AUTOPILOT_CODEC_KEYS: TEST_CODEC_KEYS_TEXT,
      AUTOPILOT_TASK_QUEUE: tb.taskQueue,
    });
    const worker = await tb.worker();
    const [first, second] = await worker.runUntil(async () => [await provision(env), await provision(env)]);
    expect(first.code, first.stderr).toBe(0);
    const one = JSON.parse(first.stdout) as {
      workflowId: string;
      runId: string;
      result: OnboardCustomerResult;
      refused: { type: string; nonRetryable: boolean; message: string; expected: string };
    };
    expect(one).toMatchObject({
      workflowId: 'onboard:pkg-p1',
      result: { environmentId: 'pkg-p1', createdEnvironment: true },
    });
    expect(one.refused).toMatchObject({
      type: 'InvalidWorkflowInput',
      nonRetryable: true,
      expected: 'InvalidWorkflowInput',
    });
    expect(one.refused.message).toMatch(/stage must be/);
    const two = JSON.parse(second.stdout) as typeof one;
    // The first run was done: the second start ran it again (ALLOW_DUPLICATE), and it changed nothing.
    expect(two.result).toMatchObject({ environmentId: 'pkg-p1', createdEnvironment: false });
    expect((await tb.dt.stats()).created.environments).toBe(1);
  });
});
