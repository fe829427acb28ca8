import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ONBOARD_CUSTOMER } from '../../src/shared/onboarding.js';
import { WORKER_SELF_CHECK } from '../../src/shared/worker-self-check.js';
import { temporalCliPath } from '../../src/temporal/temporal-cli-path.js';
import {
  cleanEnv,
  freePort,
  isAlive,
  spawnEntryPoint,
  waitUntilGone,
  type SpawnedProcess,
} from '../helpers/processes.js';

const READY = /Press Ctrl-C to stop\./;

describe('npm start (sandbox/start.ts): embedded dev server + worker', () => {
  const started: SpawnedProcess[] = [];
  let simulatorPort = 0;
  let motoPort = 0;
  let webhookPort = 0;
  let codecPort = 0;
  beforeAll(async () => {
    [simulatorPort, motoPort, webhookPort, codecPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
  });
  // A test that failed or timed out leaves its `npm start` running: stop it the way Ctrl-C does, so it
  // stops its dev server too (a SIGKILL would orphan it), and SIGKILL only what does not stop.
  afterEach(async () => {
    for (const p of started.splice(0)) {
      if (p.child.exitCode !== null || p.child.signalCode !== null) continue;
      p.child.kill('SIGINT');
      const stopped = await Promise.race([p.exit.then(() => true), sleep(30_000).then(() => false)]);
      if (!stopped) p.child.kill('SIGKILL');
    }
  }, 60_000);

  async function start(dataDir: string, port: number, uiPort: number): Promise<SpawnedProcess> {
    const proc = spawnEntryPoint(
      'sandbox/start.ts',
      cleanEnv({
        AUTOPILOT_DATA_DIR: dataDir,
        AUTOPILOT_DEV_SERVER_PORT: String(port),
        AUTOPILOT_DEV_UI_PORT: String(uiPort),
        AUTOPILOT_SIMULATOR_PORT: String(simulatorPort),
        AUTOPILOT_MOTO_PORT: String(motoPort),
        AUTOPILOT_WEBHOOK_PORT: String(webhookPort),
        AUTOPILOT_CODEC_PORT: String(codecPort),
        AUTOPILOT_FLEET_PORT: String(await freePort()),
        AUTOPILOT_METRICS_ADDRESS: 'off',
        AUTOPILOT_TASK_QUEUE: 'npm-start-test',
      }),
    );
    started.push(proc);
    await proc.waitForOutput(READY, 90_000);
    return proc;
  }

  type Listed = { type: { name: string }; status: string; execution: { workflowId: string } };
  function listWorkflows(port: number): Listed[] {
    const out = execFileSync(temporalCliPath(), ['workflow', 'list', '--address', `127.0.0.1:${port}`, '-o', 'json'], {
      encoding: 'utf8',
    });
    return (JSON.parse(out || '[]') as Listed[]) ?? [];
  }

  const devServerPid = (dataDir: string) => Number(readFileSync(path.join(dataDir, 'temporal-dev-server.pid'), 'utf8'));

  it(
    'serves the Temporal API and UI, runs the worker, survives a restart and leaves nothing behind',
    { timeout: 180_000 },
    async () => {
      const dataDir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-start-'));
      const [port, uiPort] = [await freePort(), await freePort()];

      const first = await start(dataDir, port, uiPort);
      expect(first.stderr()).toContain(`Temporal UI  http://localhost:${uiPort}`);
      expect(first.stderr()).toMatch(/self-check passed/);
      expect(first.stderr()).toContain(`Dynatrace    http://127.0.0.1:${simulatorPort} (SIMULATOR, not a real cluster`);
      const simulatorStats = await fetch(`http://127.0.0.1:${simulatorPort}/_sim/stats`);
      expect(simulatorStats.status).toBe(200);
      expect(first.stderr()).toContain(
        `Webhook      http://127.0.0.1:${webhookPort}/webhooks/dynatrace/<environmentId>`,
      );
      expect(await (await fetch(`http://127.0.0.1:${webhookPort}/readyz`)).json()).toEqual({ status: 'ready' });
      expect(first.stderr()).toMatch(/Demo {9}vm-1 in demo-p1 runs on EC2 i-[0-9a-f]+ \(t3\.micro\)/);
      const ui = await fetch(`http://127.0.0.1:${uiPort}/`);
      expect(ui.status).toBe(200);

      // Payloads are encrypted with a generated sandbox key; the UI reads them through the codec server.
      expect(first.stderr()).toMatch(/generated a payload encryption key for the sandbox in .*codec-keys/);
      expect(first.stderr()).toContain(`payloads decrypted by http://127.0.0.1:${codecPort}/codec`);
      expect(first.stderr()).toMatch(/Encryption {3}payloads AES-256-GCM, key sandbox-\d{4}-\d{2}-\d{2}/);
      expect(statSync(path.join(dataDir, 'codec-keys')).mode & 0o777).toBe(0o600);
      const preflight = await fetch(`http://127.0.0.1:${codecPort}/codec/decode`, {
        method: 'OPTIONS',
        headers: { origin: `http://localhost:${uiPort}`, 'access-control-request-method': 'POST' },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe(`http://localhost:${uiPort}`);
      const selfCheck = listWorkflows(port).find((w) => w.type.name === WORKER_SELF_CHECK)!.execution.workflowId;
      const show = (...extra: string[]) =>
        execFileSync(
          temporalCliPath(),
          ['workflow', 'show', '-w', selfCheck, '--address', `127.0.0.1:${port}`, '-o', 'json', ...extra],
          { encoding: 'utf8' },
        );
      const base64 = (text: string) => Buffer.from(text).toString('base64');
      expect(show()).toContain(base64('binary/encrypted'));
      const decoded = show('--codec-endpoint', `http://127.0.0.1:${codecPort}/codec`);
      expect(decoded).not.toContain(base64('binary/encrypted'));
      expect(decoded).toContain(base64('json/plain'));
      // The real CLI, against the server we started: the start-up self-check run is there.
      expect(listWorkflows(port)).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ type: { name: WORKER_SELF_CHECK }, status: 'WORKFLOW_EXECUTION_STATUS_COMPLETED' }),
          expect.objectContaining({ type: { name: ONBOARD_CUSTOMER }, status: 'WORKFLOW_EXECUTION_STATUS_COMPLETED' }),
        ]),
      );
      const serverPid = devServerPid(dataDir);

      first.child.kill('SIGINT');
      expect(await first.exit).toEqual({ code: 0, signal: null });
      expect(first.stderr()).toMatch(
        /stopping webhook receiver[\s\S]*stopping AWS emulators[\s\S]*stopping Dynatrace simulator[\s\S]*stopping Temporal dev server[\s\S]*stopped/,
      );
      expect(existsSync(path.join(dataDir, 'dynatrace-simulator.json'))).toBe(true);
      expect(await waitUntilGone(serverPid, 5_000)).toBe(true);

      // Same data folder: the SQLite file keeps the earlier run.
      const second = await start(dataDir, port, uiPort);
      // Two self-checks and two demo onboardings: the SQLite file kept the first run's (schedule runs aside).
      expect(
        listWorkflows(port).filter((w) => [WORKER_SELF_CHECK, ONBOARD_CUSTOMER].includes(w.type.name)),
      ).toHaveLength(4);
      second.child.kill('SIGTERM');
      expect((await second.exit).code).toBe(0);
    },
  );

  it('cleans up a dev server left behind by a killed run', { timeout: 180_000 }, async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-start-'));
    const [port, uiPort] = [await freePort(), await freePort()];
    const killed = await start(dataDir, port, uiPort);
    const orphan = devServerPid(dataDir);
    killed.child.kill('SIGKILL');
    await killed.exit;
    expect(isAlive(orphan)).toBe(true);

    const next = await start(dataDir, port, uiPort);
    expect(next.stderr()).toContain(`left over from an earlier run (pid ${orphan})`);
    expect(isAlive(orphan)).toBe(false);
    next.child.kill('SIGINT');
    expect((await next.exit).code).toBe(0);
  });

  it('fails fast with one line naming the variable when TEMPORAL_ADDRESS is invalid', async () => {
    const proc = spawnEntryPoint('sandbox/start.ts', cleanEnv({ TEMPORAL_ADDRESS: 'not a url' }));
    started.push(proc);
    // Fast means before anything starts: the one line is all it prints.
    expect((await proc.exit).code).toBe(2);
    const lines = proc.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^autopilot: Invalid configuration: TEMPORAL_ADDRESS must be host:port.*"not a url"/);
  });

  it('with a real cluster it is not the sandbox: it needs a Temporal server that takes credentials', async () => {
    const proc = spawnEntryPoint(
      'sandbox/start.ts',
      cleanEnv({
        AUTOPILOT_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'autopilot-start-real-')),
        DT_CLUSTER_URL: 'https://managed.example.com',
        DT_CLUSTER_TOKEN: 'dt0c01.NOTUSED',
      }),
    );
    started.push(proc);
    expect((await proc.exit).code).toBe(2);
    const lines = proc.stderr().trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(
        /^autopilot: Invalid configuration: TEMPORAL_ADDRESS is required with a real cluster .*takes no credential/,
      ),
    ]);
  });
});
