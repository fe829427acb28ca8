import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnEntryPoint, type SpawnedProcess } from '../helpers/processes.js';
import { startTestCluster, type TestCluster } from '../helpers/simulator.js';
import { uniqueTaskQueue } from '../helpers/temporal.js';
import { workerProcessEnv } from '../helpers/worker-process.js';

/** The `address` of the worker's `metrics endpoint listening` log line. */
function loggedMetricsAddress(worker: SpawnedProcess): string {
  for (const line of worker.stdout().split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { msg?: string; address?: string };
    if (entry.msg === 'metrics endpoint listening' && entry.address) return entry.address;
  }
  throw new Error(`no 'metrics endpoint listening' line:\n${worker.stdout().slice(-2000)}`);
}

// Several workers on one host (one per core, say) cannot all have the default 127.0.0.1:9464.
describe('two workers on one host with AUTOPILOT_METRICS_ADDRESS=127.0.0.1:0', () => {
  let dt: TestCluster;
  const workers: SpawnedProcess[] = [];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-metrics-'));

  beforeAll(async () => {
    dt = await startTestCluster({ tls: true });
  });
  afterAll(async () => {
    for (const worker of workers) worker.child.kill('SIGKILL');
    await Promise.all(workers.map((worker) => worker.exit));
    await dt?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('each serves /metrics on a port of its own, the one it logged', async () => {
    const taskQueue = uniqueTaskQueue('metrics');
    for (const name of ['a', 'b']) {
      // A namespace each: both apply Autopilot's schedules at start, whose ids are fixed.
      const env = await workerProcessEnv(
        { namespace: `metrics-address-${name}`, taskQueue, dt, dir: path.join(dir, name) },
        { AUTOPILOT_METRICS_ADDRESS: '127.0.0.1:0' },
      );
      workers.push(spawnEntryPoint('src/workers/main.ts', env));
    }
    await Promise.all(workers.map((worker) => worker.waitForOutput(/"msg":"Worker started"/, 60_000)));

    const addresses = workers.map(loggedMetricsAddress);
    expect(addresses[0]).toMatch(/^127\.0\.0\.1:[1-9][0-9]*$/);
    expect(addresses[1]).toMatch(/^127\.0\.0\.1:[1-9][0-9]*$/);
    expect(addresses[0]).not.toBe(addresses[1]);
    for (const address of addresses) {
      const response = await fetch(`http://${address}/metrics`);
      expect(response.status).toBe(200);
      expect(await response.text()).toMatch(/^temporal_/m);
    }
  }, 120_000);
});
