import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgresServer, type PostgresServer } from '../../sandbox/postgres-server.js';
import { mapWithConcurrency } from '../../src/concurrency/map-with-concurrency.js';
import type { FleetAnswer } from '../../src/fleet/fleet-query.js';
import type { FleetStatus } from '../../src/shared/fleet-status.js';
import { autopilotCli, freePort, spawnEntryPoint, type SpawnedProcess } from '../helpers/processes.js';
import { workerProcessEnv } from '../helpers/worker-process.js';
import { startTestCluster, type TestCluster } from '../helpers/simulator.js';
import { uniqueTaskQueue } from '../helpers/temporal.js';

const READ_TOKEN = 'fleet-read-token-0123456789';
const WRITE_TOKEN = 'fleet-write-token-0123456789';
const MZ = 'builtin:management-zones';
const PRODUCTION = Array.from({ length: 50 }, (_, i) => `f${String(i).padStart(2, '0')}-p1`);

/**
 * The production topology of the fleet view: a worker and the fleet server as separate processes
 * sharing nothing but PostgreSQL and Temporal, with authentication on, against 50 simulated
 * production environments (and a few test ones the selector leaves out).
 */
describe('fleet API and fleet scan (worker + fleet server on PostgreSQL)', () => {
  let dt: TestCluster;
  let postgres: PostgresServer;
  let worker: SpawnedProcess | undefined;
  let fleet: SpawnedProcess | undefined;
  let env: Record<string, string | undefined>;
  let fleetUrl: string;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-fleet-'));

  const autopilot = autopilotCli(() => env);
  const authorized = { authorization: `Bearer ${READ_TOKEN}` };
  const status = async (at?: string) => {
    const response = await fetch(`${fleetUrl}/fleet/status${at ? `?at=${encodeURIComponent(at)}` : ''}`, {
      headers: authorized,
    });
    expect(response.status).toBe(200);
    return (await response.json()) as FleetStatus;
  };
  const until = async <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${worker?.stderr().slice(-3000)}`);
      await sleep(250);
    }
  };
  const openProblem = async (environmentId: string, kind = 'CPU_SATURATION') =>
    dt.control<{ problemId: string }>('/problems', { environmentId, hostName: `${environmentId}-vm`, kind });

  beforeAll(async () => {
    dt = await startTestCluster({ knobs: { latencyMs: 5, latencyJitterMs: 5 }, tls: true });
    postgres = await startPostgresServer();
    const cluster = dt.client.cluster(dt.clusterToken);
    await mapWithConcurrency([...PRODUCTION, 'f00-t1', 'f01-t1'], 8, async (id) => {
      await cluster.putEnvironment(id, { name: `Fleet ${id}` });
      await dt.control(`/environments/${id}/hosts`, { hostName: `${id}-vm` });
    });
    const fleetPort = await freePort();
    fleetUrl = `http://127.0.0.1:${fleetPort}`;
    env = await workerProcessEnv(
      { namespace: 'fleet-api-test', taskQueue: uniqueTaskQueue('fleet'), dt, dir },
      {
        AUTOPILOT_DATABASE_URL: await postgres.database('fleet_api'),
        AUTOPILOT_FLEET_PORT: String(fleetPort),
        AUTOPILOT_FLEET_READ_TOKEN: READ_TOKEN,
        AUTOPILOT_FLEET_WRITE_TOKEN: WRITE_TOKEN,
        AUTOPILOT_FLEET_SCAN_INTERVAL_SECONDS: '2',
        AUTOPILOT_FLEET_INCIDENT_ENVIRONMENTS: '5',
      },
    );
    worker = spawnEntryPoint('src/workers/main.ts', env);
    fleet = spawnEntryPoint('src/fleet-server/main.ts', env);
    await worker.waitForOutput(/"msg":"Worker started"/, 60_000);
    await fleet.waitForOutput(/"msg":"Fleet server started"/, 60_000);
    const adopted = await autopilot('environments', 'adopt', '*-p*');
    expect(adopted.code, adopted.stdout + adopted.stderr).toBe(0);
    // Held until the scan test: a scan would repair the token the query test revokes, and count as calls.
    expect((await autopilot('schedules', 'pause', 'fleet-scan')).code).toBe(0);
    await sleep(3_000);
  }, 240_000);

  afterAll(async () => {
    for (const p of [fleet, worker]) p?.child.kill('SIGKILL');
    await Promise.all([fleet?.exit, worker?.exit]);
    await dt?.stop();
    await postgres?.stop();
  });

  it('answers 401 without credentials and 400 for a bad selector or path, before asking anyone', async () => {
    for (const route of ['/', '/fleet/status', '/fleet/events', '/fleet/api/v2/problems', '/metrics']) {
      const response = await fetch(`${fleetUrl}${route}`);
      expect(response.status, route).toBe(401);
      const wrong = await fetch(`${fleetUrl}${route}`, { headers: { authorization: 'Bearer not-the-token' } });
      expect(wrong.status, route).toBe(401);
    }
    // A browser without a session gets the sign-in form; with the token it gets a session cookie.
    const page = await fetch(`${fleetUrl}/`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(401);
    expect(await page.text()).toContain('name="token"');
    const login = await fetch(`${fleetUrl}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: READ_TOKEN }).toString(),
      redirect: 'manual',
    });
    expect(login.status).toBe(303);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    expect(cookie).not.toContain(READ_TOKEN);
    expect((await fetch(`${fleetUrl}/fleet/status`, { headers: { cookie } })).status).toBe(200);

    const before = (await dt.stats()).requests;
    const badSelector = await fetch(
      `${fleetUrl}/fleet/api/v2/problems?environments=${encodeURIComponent('colour:red')}`,
      {
        headers: authorized,
      },
    );
    expect(badSelector.status).toBe(400);
    expect(((await badSelector.json()) as { message: string }).message).toContain('colour:red');
    const badPath = await fetch(`${fleetUrl}/fleet/api/cluster/v2/environments`, { headers: authorized });
    expect(badPath.status).toBe(400);
    expect(((await badPath.json()) as { message: string }).message).toContain('not an environment API path');
    const cli = await autopilot('fleet', 'query', 'GET', '/api/v2/../../api/cluster/v2/environments');
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain('not an environment API path');
    // Nothing reached the cluster for any of them.
    const after = (await dt.stats()).requests;
    const routes = (r: typeof before) =>
      Object.keys(r).filter((k) => k.includes('problems') || k.includes('cluster/v2'));
    expect(routes(after).map((k) => [k, after[k]])).toEqual(routes(before).map((k) => [k, before[k]]));
  });

  it('writes with the write token only: PUT and POST with a body through HTTP and the CLI reach the environment', async () => {
    const zoneName = (objectId: string) =>
      (dt.simulator.state.environments.get('f05-p1')!.settings.get(objectId)?.value as { name?: string } | undefined)
        ?.name;
    const created = await autopilot(
      'fleet',
      'query',
      'POST',
      '/api/v2/settings/objects',
      '--environments',
      'f05-p1',
      '--data',
      JSON.stringify([{ schemaId: MZ, scope: 'environment', value: { name: 'created by the CLI' } }]),
      '--json',
    );
    expect(created.code, created.stderr).toBe(0);
    const answer = JSON.parse(created.stdout.split('\n')[0]!) as FleetAnswer;
    expect(answer).toMatchObject({ environmentId: 'f05-p1', ok: true, status: 200 });
    const objectId = (answer.body as { objectId: string }[])[0]!.objectId;
    expect(zoneName(objectId)).toBe('created by the CLI');

    // A PUT with a body: the fan-out used to be cancelled as soon as the request body was read.
    const put = await autopilot(
      'fleet',
      'query',
      'PUT',
      `/api/v2/settings/objects/${objectId}`,
      '--environments',
      'f05-p1',
      '--data',
      JSON.stringify({ value: { name: 'renamed by the CLI' } }),
    );
    expect(put.code, put.stdout + put.stderr).toBe(0);
    expect(put.stdout).toContain('1 of 1 environment(s) answered');
    expect(zoneName(objectId)).toBe('renamed by the CLI');
    const overHttp = await fetch(`${fleetUrl}/fleet/api/v2/settings/objects/${objectId}?environments=f05-p1`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${WRITE_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ value: { name: 'renamed over HTTP' } }),
    });
    expect(overHttp.status).toBe(200);
    expect(await overHttp.text()).toContain('"outcome":"complete"');
    expect(zoneName(objectId)).toBe('renamed over HTTP');

    // The read token cannot: the CLI says so before asking, the server answers 403; nothing changes.
    // (The worker's own schedules may call other routes meanwhile.)
    const touching = async () => {
      const { requests } = await dt.stats();
      return Object.entries(requests).filter(([route]) => /settings|cluster\/v2|unmatched/.test(route));
    };
    const before = await touching();
    const readOnlyEnv = { ...env };
    delete readOnlyEnv.AUTOPILOT_FLEET_WRITE_TOKEN;
    const readOnly = await autopilotCli(() => readOnlyEnv)(
      'fleet',
      'query',
      'DELETE',
      `/api/v2/settings/objects/${objectId}`,
      '--environments',
      'f05-p1',
    );
    expect(readOnly.code).toBe(2);
    expect(readOnly.stderr).toContain('needs AUTOPILOT_FLEET_WRITE_TOKEN');
    const refused = await fetch(`${fleetUrl}/fleet/api/v2/settings/objects/${objectId}?environments=f05-p1`, {
      method: 'DELETE',
      headers: authorized,
    });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: string }).error).toBe('read_only_credential');
    // And a path encoded twice over into another API area is refused, by the server and the CLI.
    const encoded = await fetch(`${fleetUrl}/fleet/api/v2/%252e%252e/%252e%252e/api/cluster/v2/environments`, {
      headers: authorized,
    });
    expect(encoded.status).toBe(400);
    const encodedCli = await autopilot(
      'fleet',
      'query',
      'GET',
      '/api/v2/%252e%252e/%252e%252e/api/cluster/v2/environments',
    );
    expect(encodedCli.code).toBe(2);
    expect(encodedCli.stderr).toContain('"." or ".." segment');
    expect(await touching()).toEqual(before);
    expect(zoneName(objectId)).toBe('renamed over HTTP');
  });

  it(
    'fleet query: 48 answers, a revoked token and a failing environment as rows with reasons, exit "partial"',
    {
      timeout: 120_000,
    },
    async () => {
      await openProblem('f07-p1');
      const revoked = [...dt.simulator.state.environments.get('f03-p1')!.tokens.values()].find(
        (t) => t.kind === 'api' && t.name === 'dynatrace-autopilot-automation',
      )!;
      await dt.control(`/environments/f03-p1/tokens/${revoked.id}/revoke`, {});
      await dt.control('/knobs', { faults: { rate500: 1, environments: ['f11-p1'] } });
      try {
        const result = await autopilot(
          'fleet',
          'query',
          'GET',
          '/api/v2/problems?problemSelector=status("open")',
          '--environments',
          '*-p*',
          '--json',
        );
        expect(result.code, result.stderr).toBe(6);
        const lines = result.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as FleetAnswer & { done?: true });
        const summary = lines.at(-1)!;
        expect(summary).toMatchObject({ done: true, environments: 50, ok: 48, failed: 2, outcome: 'partial' });
        const rows = lines.slice(0, -1);
        expect(rows.map((r) => r.environmentId).sort()).toEqual(PRODUCTION);
        const failed = rows.filter((r) => !r.ok);
        expect(failed.map((r) => [r.environmentId, r.status])).toEqual(
          expect.arrayContaining([
            ['f03-p1', 401],
            ['f11-p1', 500],
          ]),
        );
        expect(failed.find((r) => r.environmentId === 'f03-p1')!.error).toContain('token refused (401)');
        expect(failed.find((r) => r.environmentId === 'f11-p1')!.attempts).toBeGreaterThan(1);
        const f07 = rows.find((r) => r.environmentId === 'f07-p1')!;
        expect((f07.body as { problems: { title: string }[] }).problems.map((p) => p.title)).toEqual([
          'CPU saturation',
        ]);
        // No token anywhere in what the caller sees.
        const tokens = [...dt.simulator.state.environments.values()].flatMap((e) =>
          [...e.tokens.values()].map((t) => t.token),
        );
        for (const token of tokens) expect(result.stdout).not.toContain(token);

        // Tags an operator gave select too.
        const tagged = await autopilot('environments', 'tag', 'f07-p1', 'tier:gold');
        expect(tagged.stdout.trim()).toBe('f07-p1: tier:gold');
        const gold = await autopilot(
          'fleet',
          'query',
          'GET',
          '/api/v2/problems',
          '--environments',
          'tag:tier:*',
          '--json',
        );
        expect(gold.code).toBe(0);
        expect(gold.stdout.trim().split('\n').at(-1)).toContain('"environments":1,"ok":1');

        const table = await autopilot('fleet', 'query', 'GET', '/api/v2/problems', '--environments', 'f0?-p1,f11-p1');
        expect(table.code).toBe(6);
        expect(table.stdout).toMatch(/f03-p1\s+default\s+ERROR 401/);
        expect(table.stdout).toContain('9 of 11 environment(s) answered, 2 failed');

        // The scan has been held for more than three intervals: the status says its data is old.
        const held = await status();
        expect(held.scan.stale).toBe(true);
        expect(held.environments.every((e) => e.stale)).toBe(true);
      } finally {
        await dt.control('/knobs', { faults: { rate500: 0, environments: [] } });
      }
    },
  );

  it('the scan records problems as they open and close, finds a fleet incident, and rebuilds an earlier moment', async () => {
    expect((await autopilot('schedules', 'unpause', 'fleet-scan')).code).toBe(0);
    const first = await until('a scan that saw f07-p1', async () => {
      const s = await status();
      return s.environments.find((e) => e.id === 'f07-p1')?.state === 'problems' ? s : undefined;
    });
    expect(first.environments).toHaveLength(50);
    expect(first.problems.map((p) => p.environmentId)).toContain('f07-p1');
    const beforeIncident = new Date().toISOString();

    const burst = PRODUCTION.slice(20, 26);
    const opened = await Promise.all(burst.map((id) => openProblem(id, 'MEMORY_SATURATION')));
    const withIncident = await until('a fleet incident', async () => {
      const s = await status();
      return s.incidents.find((i) => i.problemType === 'Memory saturation' && i.open) ? s : undefined;
    });
    const incident = withIncident.incidents.find((i) => i.problemType === 'Memory saturation')!;
    expect(incident.environments).toEqual(burst);
    expect(withIncident.problems.filter((p) => p.incidentId === incident.id)).toHaveLength(6);

    await dt.control(`/problems/${opened[0]!.problemId}/resolve`, {});
    await until('the resolved problem cleared', async () => {
      const s = await status();
      // Not "healthy": on a busy machine a 2 s scan interval can leave a cell briefly "stale" instead.
      return s.environments.find((e) => e.id === burst[0])?.openProblems === 0 ? s : undefined;
    });

    // The moment before the burst: f07-p1's problem, no memory problems, no incident.
    const earlier = await status(beforeIncident);
    expect(earlier.live).toBe(false);
    expect(earlier.problems.map((p) => p.title)).not.toContain('Memory saturation');
    expect(earlier.environments.find((e) => e.id === 'f07-p1')?.state).toBe('problems');
    expect(earlier.incidents.filter((i) => i.problemType === 'Memory saturation')).toEqual([]);

    const metrics = await (await fetch(`${fleetUrl}/metrics`, { headers: authorized })).text();
    expect(metrics).toMatch(/autopilot_fleet_open_problems\{severity="RESOURCE_CONTENTION",cluster="default"\} 6/);
    expect(metrics).toMatch(/autopilot_fleet_open_incidents 1/);
    expect(metrics).toMatch(/autopilot_fleet_environments\{state="healthy",cluster="default"\} \d+/);
    // Each wait is for a scan or two; on a machine busy with the rest of the suite a scan can take a while.
  }, 240_000);
});
