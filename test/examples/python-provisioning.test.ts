import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCodecKeys, type CodecKeyring } from '../../src/codec/codec-keyring.js';
import { autopilotDataConverter } from '../../src/codec/data-converter.js';
import { EncryptionCodec, sealPayload } from '../../src/codec/encryption-codec.js';
import { projectRoot } from '../../src/config/config.js';
import type { HostEnrollmentResult } from '../../src/shared/enrollment.js';
import type { OnboardCustomerResult } from '../../src/shared/onboarding.js';
import { autopilotCli, cleanEnv, spawnEntryPoint, type SpawnedProcess } from '../helpers/processes.js';
import type { StatsSnapshot } from '../helpers/simulator.js';
import { sandboxPorts } from '../helpers/worker-process.js';

const PYTHON = path.join(projectRoot, '.tools/python-venv/bin/python');
const EXAMPLE_DIR = path.join(projectRoot, 'examples/python');
const ENVIRONMENT = 'pyc-p1';
const HOST_ARGS = ['--customer', 'pyc', '--stage', 'p1', '--host', 'vm-py-1', '--address', '127.0.0.1'];

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Provisioned {
  onboarding: { workflowId: string; runId: string; result: OnboardCustomerResult };
  enrollment: { workflowId: string; runId: string; result: HostEnrollmentResult };
}

/**
 * One Python process, killed if it outlives `timeoutMs` so a hung run fails the test instead of
 * outliving it. `input` is written to its stdin.
 */
function runPython(
  args: string[],
  options: { env: Record<string, string | undefined>; input?: string; timeoutMs?: number },
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, args, { cwd: EXAMPLE_DIR, env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 180_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Temporal's JSON form of a payload, as docs/contract/codec.md and autopilot_codec.py write it. */
const payloadJson = (p: Payload) => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});
const payloadFromJson = (j: { metadata: Record<string, string>; data: string }): Payload => ({
  metadata: Object.fromEntries(Object.entries(j.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(j.data, 'base64'),
});
const utf8 = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? new Uint8Array()).toString('utf8');

/**
 * examples/python as a CMDB job runs it: the official Temporal Python SDK and our codec in Python,
 * nothing of our TypeScript, against `npm start`'s stack. What it starts must be the same runs the
 * TypeScript client would start and read back the same results; its codec must agree with ours
 * byte for byte.
 */
describe('examples/python: provisioning from Python against npm start', () => {
  let sandbox: SpawnedProcess | undefined;
  let workDir: string;
  let sandboxEnv: Record<string, string | undefined>;
  let simulatorUrl: string;
  let keysText: string;
  let keyring: CodecKeyring;
  let connection: Connection | undefined;
  let client: Client;
  const taskQueue = `python-example-${process.pid}`;

  const autopilot = autopilotCli(() => sandboxEnv);
  const pythonEnv = () =>
    cleanEnv({
      TEMPORAL_ADDRESS: `127.0.0.1:${sandboxEnv.AUTOPILOT_DEV_SERVER_PORT}`,
      TEMPORAL_NAMESPACE: 'default',
      AUTOPILOT_CODEC_KEYS: keysText,
      AUTOPILOT_TASK_QUEUE: taskQueue,
      // examples/python is in the work tree: no __pycache__ left in it.
      PYTHONDONTWRITEBYTECODE: '1',
    });
  const provision = (...args: string[]) =>
    runPython([path.join(EXAMPLE_DIR, 'provision.py'), ...args], { env: pythonEnv() });
  const codec = (args: string[], input?: string) =>
    runPython(['-m', 'autopilot_codec', ...args], { env: pythonEnv(), ...(input !== undefined ? { input } : {}) });

  const stats = async () => (await (await fetch(`${simulatorUrl}/_sim/stats`)).json()) as StatsSnapshot;
  const knobs = (patch: object) =>
    fetch(`${simulatorUrl}/_sim/knobs`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(patch),
    });
  const costs = (s: StatsSnapshot) => {
    const e = s.byEnvironment[ENVIRONMENT] ?? {};
    return {
      environmentsCreated: e.environmentsCreated,
      installerDownloads: e.installerDownloads,
      hostsConnected: e.hostsConnected,
      agentConnects: s.agentConnects,
    };
  };
  const runsOf = async (type: string) => {
    const listed = await autopilot('runs', '--type', type, '--environment', ENVIRONMENT, '--json');
    expect(listed.code, listed.stderr).toBe(0);
    return JSON.parse(listed.stdout) as { workflowId: string; status: string }[];
  };

  beforeAll(async () => {
    if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: run scripts/setup-tools.sh (npm test does)`);
    workDir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-python-'));
    const ports = await sandboxPorts();
    const port = ports.AUTOPILOT_DEV_SERVER_PORT;
    simulatorUrl = `http://127.0.0.1:${ports.AUTOPILOT_SIMULATOR_PORT}`;
    sandboxEnv = cleanEnv({
      ...ports,
      // What the runs cost Dynatrace is counted: the fleet scan's own reads are not the example's.
      AUTOPILOT_FLEET_SCAN_INTERVAL_SECONDS: '86400',
      AUTOPILOT_DATA_DIR: path.join(workDir, 'data'),
      AUTOPILOT_TASK_QUEUE: taskQueue,
      AUTOPILOT_METRICS_ADDRESS: 'off',
    });
    sandbox = spawnEntryPoint('sandbox/start.ts', sandboxEnv);
    // Starting takes 20-40 s on an idle machine; CI shares two cores with the rest of the suite.
    await sandbox.waitForOutput(/Press Ctrl-C to stop\./, 200_000);

    keysText = readFileSync(path.join(workDir, 'data', 'codec-keys'), 'utf8').trim();
    keyring = parseCodecKeys(keysText, 'AUTOPILOT_CODEC_KEYS');
    connection = await Connection.connect({ address: `127.0.0.1:${port}` });
    client = new Client({ connection, namespace: 'default', dataConverter: autopilotDataConverter(keyring) });
  }, 240_000);

  afterAll(async () => {
    await connection?.close();
    if (sandbox) {
      sandbox.child.kill('SIGINT');
      await sandbox.exit;
    }
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  }, 120_000);

  let first: Provisioned;
  let costsAfterFirst: ReturnType<typeof costs>;

  it(
    'two jobs provisioning the same host at once share one onboarding and one enrollment; the host reports',
    { timeout: 300_000 },
    async () => {
      const before = await stats();
      expect(before.byEnvironment[ENVIRONMENT]).toBeUndefined();
      // A slower cluster keeps the runs open while both jobs start: the second must attach to them.
      await knobs({ latencyMs: 400 });
      let jobs: Ran[];
      try {
        jobs = await Promise.all([
          provision(...HOST_ARGS, '--executor', 'local'),
          provision(...HOST_ARGS, '--executor', 'local'),
        ]);
      } finally {
        await knobs({ latencyMs: 0 });
      }
      for (const job of jobs) expect(job.code, job.stderr).toBe(0);
      const [a, b] = jobs.map((job) => JSON.parse(job.stdout) as Provisioned);
      first = a!;
      expect(b).toEqual(first);

      expect(first.onboarding).toMatchObject({
        workflowId: `onboard:${ENVIRONMENT}`,
        result: { environmentId: ENVIRONMENT, createdEnvironment: true, installer: { version: expect.any(String) } },
      });
      expect(first.enrollment).toMatchObject({
        workflowId: `enroll:${ENVIRONMENT}:vm-py-1`,
        result: {
          hostname: 'vm-py-1',
          environmentId: ENVIRONMENT,
          outcome: 'installed',
          version: first.onboarding.result.installer!.version,
          // An entity id, not 'unverified': the host was seen reporting into the environment.
          entityId: expect.stringMatching(/^HOST-[0-9A-F]{16}$/),
        },
      });

      const shown = await autopilot('environments', 'show', ENVIRONMENT, '--json');
      expect(shown.code, shown.stderr).toBe(0);
      expect(JSON.parse(shown.stdout)).toMatchObject({
        environment: { id: ENVIRONMENT, customer: 'pyc', stage: 'p1', state: 'active' },
      });
      expect(await runsOf('OnboardCustomer')).toEqual([expect.objectContaining({ status: 'COMPLETED' })]);
      expect(await runsOf('HostEnrollment')).toEqual([expect.objectContaining({ status: 'COMPLETED' })]);

      const after = await stats();
      costsAfterFirst = costs(after);
      expect(after.created.environments! - (before.created.environments ?? 0)).toBe(1);
      expect(costsAfterFirst).toMatchObject({ environmentsCreated: 1, installerDownloads: 1, hostsConnected: 1 });
      expect(after.agentConnects - before.agentConnects).toBe(1);
    },
  );

  it('the TypeScript client reads the same runs and the same results', async () => {
    for (const run of [first.onboarding, first.enrollment]) {
      const handle = client.workflow.getHandle(run.workflowId, run.runId);
      expect((await handle.describe()).status.name).toBe('COMPLETED');
      expect(await handle.result()).toEqual(run.result);
    }
    const status = await autopilot('status', first.enrollment.workflowId, '--json');
    expect(JSON.parse(status.stdout)).toMatchObject({
      runId: first.enrollment.runId,
      searchAttributes: { DtEnvironmentId: ENVIRONMENT, DtCustomer: 'pyc', DtHost: 'vm-py-1' },
      result: first.enrollment.result,
    });
  });

  it('a later run starts fresh runs under the same ids and creates nothing twice', { timeout: 240_000 }, async () => {
    const again = await provision(...HOST_ARGS, '--executor', 'local');
    expect(again.code, again.stderr).toBe(0);
    const second = JSON.parse(again.stdout) as Provisioned;
    // A completed run is not attached to (the reuse policy allows a new one): the new run finds
    // everything in place.
    expect(second.onboarding.workflowId).toBe(first.onboarding.workflowId);
    expect(second.enrollment.workflowId).toBe(first.enrollment.workflowId);
    expect(second.onboarding.runId).not.toBe(first.onboarding.runId);
    expect(second.onboarding.result).toMatchObject({ createdEnvironment: false });
    expect(second.enrollment.result).toMatchObject({
      outcome: 'already-enrolled',
      entityId: first.enrollment.result.entityId,
    });
    expect(costs(await stats())).toEqual(costsAfterFirst);
    expect(await runsOf('OnboardCustomer')).toHaveLength(2);
  });

  it('a bad input is one stderr line naming the field and exit 2, as the CLI answers it', async () => {
    const createdBefore = (await stats()).created.environments;
    const bad = await provision('--customer', 'pyc', '--stage', 'P_1', '--host', 'vm-py-1', '--address', '127.0.0.1');
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    const lines = bad.stderr.trim().split('\n');
    expect(lines).toEqual([expect.stringMatching(/^provision: Invalid OnboardCustomer input: stage must be /)]);

    const cli = await autopilot('onboard', '--customer', 'pyc', '--stage', 'P_1');
    expect(cli.code).toBe(2);
    const reason = (line: string) => line.replace(/^.*?(request|input): /, '');
    expect(reason(lines[0]!)).toBe(reason(cli.stderr.trim()));
    expect((await stats()).created.environments).toBe(createdBefore);
  });

  it('the Python codec passes the published test vectors', async () => {
    const checked = await codec(['check-vectors', path.join(projectRoot, 'docs/contract/codec-test-vectors.json')]);
    expect(checked.stderr).toBe('');
    expect(checked.code).toBe(0);
  });

  it('TypeScript seals and Python opens; Python seals and TypeScript opens', async () => {
    const value = { customer: 'pyc', note: 'Zürich ✓', hosts: [1, 2, 3], nested: { ok: true, nothing: null } };

    const sealedByTs = sealPayload(defaultPayloadConverter.toPayload(value), keyring.primary);
    const opened = await codec(['decode'], JSON.stringify(payloadJson(sealedByTs)));
    expect(opened.code, opened.stderr).toBe(0);
    expect(JSON.parse(opened.stdout)).toEqual(value);

    const sealed = await codec(['encode-json', JSON.stringify(value)]);
    expect(sealed.code, sealed.stderr).toBe(0);
    const sealedByPython = payloadFromJson(JSON.parse(sealed.stdout) as Parameters<typeof payloadFromJson>[0]);
    expect(utf8(sealedByPython.metadata?.encoding)).toBe('binary/encrypted');
    expect(utf8(sealedByPython.metadata?.['encryption-key-id'])).toBe(keyring.primary.id);
    const [plain] = await new EncryptionCodec(keyring).decode([sealedByPython]);
    expect(defaultPayloadConverter.fromPayload(plain!)).toEqual(value);
  });
});
