import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/config/config.js';
import { mapWithConcurrency } from '../../src/concurrency/map-with-concurrency.js';
import { TOKEN_PURPOSES, type RegisteredEnvironment } from '../../src/shared/registry.js';
import { autopilotCli, spawnEntryPoint, type SpawnedProcess } from '../helpers/processes.js';
import { workerProcessEnv } from '../helpers/worker-process.js';
import {
  startTestCluster,
  startTestSaasEnvironment,
  type TestCluster,
  type TestSaasEnvironment,
} from '../helpers/simulator.js';
import { uniqueTaskQueue } from '../helpers/temporal.js';

const CUSTOMERS = 500;

/**
 * `autopilot environments` against a worker process that owns its embedded fleet database, and a
 * simulator holding 1,000 environments that Autopilot did not create.
 */
describe('autopilot environments: adopt what exists, register by hand', () => {
  let dt: TestCluster;
  let worker: SpawnedProcess | undefined;
  let env: Record<string, string | undefined>;
  let saas: TestSaasEnvironment;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-environments-'));
  const taskQueue = uniqueTaskQueue('environments');

  const startWorker = async () => {
    worker = spawnEntryPoint('src/workers/main.ts', env);
    await worker.waitForOutput(/"msg":"Worker started"/, 60_000);
  };
  const autopilot = autopilotCli(() => env);
  const apiTokensOf = (id: string) =>
    [...dt.simulator.state.environments.get(id)!.tokens.values()].filter((t) => t.kind === 'api');

  beforeAll(async () => {
    dt = await startTestCluster({ knobs: { throttle: { maxConcurrent: 5, queueSize: 100 } }, tls: true });
    const cluster = dt.client.cluster(dt.clusterToken);
    const ids = Array.from({ length: CUSTOMERS }, (_, i) => `c${String(i).padStart(3, '0')}`).flatMap((c) => [
      `${c}-p1`,
      `${c}-t1`,
    ]);
    await mapWithConcurrency(ids, 8, (id) => cluster.putEnvironment(id, { name: `Existing ${id}` }));
    // A SaaS environment as production reaches one: https, at its own host below a configured domain.
    saas = await startTestSaasEnvironment({ environmentId: 'abc12345', tls: true });
    env = await workerProcessEnv(
      { namespace: 'environments-cli-test', taskQueue, dt, dir },
      {
        AUTOPILOT_EMBEDDED_DATABASE_DIR: path.join(dir, 'fleet-db'),
        // The simulator's `<id>.localhost` beside Dynatrace's domain, and its certificate trusted as
        // a public SaaS host's would be.
        AUTOPILOT_SAAS_DOMAINS: 'live.dynatrace.com,localhost',
        NODE_EXTRA_CA_CERTS: saas.simulator.caFile!,
      },
    );
    await startWorker();
  }, 180_000);
  afterAll(async () => {
    worker?.child.kill('SIGKILL');
    await worker?.exit;
    await saas?.stop();
    await dt?.stop();
  });

  it('adopts the matching environments once, survives a killed worker, and writes nothing else', async () => {
    const before = await dt.stats();
    // The CLI follows the adoption while the worker that runs it is killed and replaced.
    const cli = spawn(process.execPath, [path.join(projectRoot, 'bin/autopilot'), 'environments', 'adopt', '*-p*'], {
      env,
      cwd: projectRoot,
    });
    let out = '';
    cli.stdout.on('data', (d: Buffer) => (out += d.toString()));
    cli.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => cli.once('exit', resolve));
    const deadline = Date.now() + 120_000;
    while (((await dt.stats()).created.apiTokens ?? 0) - (before.created.apiTokens ?? 0) < 100) {
      if (Date.now() > deadline) throw new Error(`adoption never got going:\n${out}\n${worker!.stderr()}`);
      await sleep(100);
    }
    worker!.child.kill('SIGKILL');
    await worker!.exit;
    await startWorker();
    expect(await exited).toBe(0);
    expect(out).toMatch(/\[#+\] \d+\/500/);
    expect(out).toMatch(/\[#{30}\] 500\/500: \d+ adopted, \d+ already registered/);

    for (let i = 0; i < CUSTOMERS; i++) {
      const id = `c${String(i).padStart(3, '0')}`;
      // Exactly one token per purpose, none twice after the kill, and nothing in the test stages.
      expect(
        apiTokensOf(`${id}-p1`)
          .map((t) => t.name)
          .sort(),
      ).toEqual(['dynatrace-autopilot-automation', 'dynatrace-autopilot-installer-download']);
      expect(apiTokensOf(`${id}-t1`)).toEqual([]);
    }
    const after = await dt.stats();
    // Token calls only: no environment, group or settings write.
    const writes = Object.entries(after.requests)
      .filter(
        ([route]) =>
          /^(PUT|POST|DELETE) /.test(route) && !route.includes('/apiTokens') && !route.includes('tokenManagementToken'),
      )
      .filter(
        ([route, statuses]) =>
          Object.values(statuses).reduce((a, b) => a + b, 0) >
          Object.values(before.requests[route] ?? {}).reduce((a, b) => a + b, 0),
      );
    expect(writes).toEqual([]);

    const listed = await autopilot('environments', 'list', '*-p*', '--json');
    expect(listed.code).toBe(0);
    const { environments } = JSON.parse(listed.stdout) as { environments: RegisteredEnvironment[] };
    expect(environments).toHaveLength(500);
    expect(environments[0]).toMatchObject({
      id: 'c000-p1',
      kind: 'managed',
      cluster: 'default',
      source: 'adopted',
      customer: 'c000',
      stage: 'p1',
    });

    // A second adoption: nothing new.
    const tokensBefore = (await dt.stats()).created.apiTokens;
    const again = await autopilot('environments', 'adopt', '*-p*');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('0 adopted, 500 already registered');
    expect((await dt.stats()).created.apiTokens).toBe(tokensBefore);
  }, 300_000);

  it('a selector that matches nothing says so and changes nothing', async () => {
    const before = (await dt.stats()).created.apiTokens;
    const none = await autopilot('environments', 'adopt', 'zz*');
    expect(none.code).toBe(0);
    expect(none.stdout).toContain('no environment on default matches zz*; nothing changed');
    expect((await dt.stats()).created.apiTokens).toBe(before);
    const bad = await autopilot('environments', 'adopt', 'owner:x');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown selector key in "owner:x"');
  });

  it('discover lists the cluster with what Autopilot knows; show and tokens read the registry', async () => {
    const discovered = await autopilot('environments', 'discover', '--json');
    expect(discovered.code).toBe(0);
    const d = JSON.parse(discovered.stdout) as { environments: { id: string; registered?: string }[] };
    expect(d.environments).toHaveLength(1000);
    expect(d.environments.find((e) => e.id === 'c001-p1')).toMatchObject({ registered: 'adopted' });
    expect(d.environments.find((e) => e.id === 'c001-t1')?.registered).toBeUndefined();
    const shown = await autopilot('environments', 'show', 'c001-p1');
    expect(shown.stdout).toMatch(/^c001-p1: managed on default, adopted, active/);
    expect(shown.stdout).toMatch(/automation\s+dt0c01\.\w+ current, expires /);
    const tokens = await autopilot('tokens', '--expiring', '40d', '--json');
    expect(JSON.parse(tokens.stdout)).toHaveLength(1000);
    const none = await autopilot('tokens', '--expiring', '7d');
    expect(none.stdout.trim()).toBe('no token expires within 7 days');
  });

  it('remove forgets an adopted environment and revokes exactly the tokens Autopilot minted there', async () => {
    const minted = apiTokensOf('c499-p1').map((t) => t.id);
    expect(minted).toHaveLength(2);
    const removed = await autopilot('environments', 'remove', 'c499-p1');
    expect(removed.code).toBe(0);
    expect(removed.stdout.trim()).toBe(`forgot c499-p1; revoked ${minted.join(', ')}`);
    expect(apiTokensOf('c499-p1')).toEqual([]);
    expect((await autopilot('environments', 'show', 'c499-p1')).code).toBe(1);
    expect((await autopilot('environments', 'remove', 'c499-p1')).stdout.trim()).toBe(
      'c499-p1 is not in the registry; nothing changed',
    );
  });

  it('schedules: the worker applied fleet-maintenance; an operator pauses and resumes it', async () => {
    const shown = JSON.parse((await autopilot('schedules', '--json')).stdout) as {
      id: string;
      paused: boolean;
      every: unknown[];
    };
    expect(shown).toMatchObject({ id: 'fleet-maintenance' });
    expect(shown.every).toHaveLength(1);
    expect(JSON.parse((await autopilot('schedules', 'pause', '--json')).stdout)).toMatchObject({ paused: true });
    // Applying again (as every worker start does) keeps the operator's pause.
    expect((await autopilot('schedules', 'apply')).stdout.trim()).toBe(
      'fleet-maintenance: updated\nfleet-scan: updated\nstandards-drift: updated',
    );
    expect(JSON.parse((await autopilot('schedules', '--json')).stdout)).toMatchObject({ paused: true });
    expect(JSON.parse((await autopilot('schedules', 'unpause', '--json')).stdout)).toMatchObject({ paused: false });
    expect((await autopilot('schedules', 'sideways')).stderr).toContain('usage: autopilot schedules');
  });

  it('registers a SaaS environment by hand with the scopes its features need, and refuses what lacks one', async () => {
    const automationScopes = TOKEN_PURPOSES.automation;
    const tokenFile = path.join(dir, 'saas-token');
    writeFileSync(tokenFile, `${await saas.token([...automationScopes, 'apiTokens.read'])}\n`);
    const weakFile = path.join(dir, 'weak-token');
    writeFileSync(
      weakFile,
      await saas.token([...automationScopes.filter((s) => s !== 'problems.write'), 'apiTokens.read']),
    );
    const add = (...args: string[]) => autopilot('environments', 'add', ...args);

    const weak = await add('--id', 'abc12345', '--url', saas.url, '--token-file', weakFile);
    expect(weak.code).toBe(1);
    expect(weak.stderr.trim().split('\n')).toHaveLength(1);
    expect(weak.stderr).toContain('the token lacks problems.write (needed for Self-healing: comment on problems)');
    const badId = await add('--id', 'no/such', '--url', saas.url, '--token-file', tokenFile);
    expect(badId.code).toBe(2);
    expect(badId.stderr).toContain('--id "no/such" is not an environment id');
    const badUrl = await add('--id', 'abc12345', '--url', 'ftp://x', '--token-file', tokenFile);
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toContain('--url: "ftp://x" is not an http(s) URL like https://abc12345.live.dynatrace.com');
    const unreachable = await add(
      '--id',
      'abc12345',
      '--url',
      'https://abc12345.localhost:9',
      '--token-file',
      tokenFile,
    );
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain('https://abc12345.localhost:9 cannot be reached');
    expect((await autopilot('environments', 'show', 'abc12345')).stdout).toContain('abc12345 is not in the registry');

    // Pasted forms: an API tail is dropped, the id is the first label of the host.
    const added = await add('--url', `${saas.url}/api/v2/`, '--token-file', tokenFile);
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    expect(added.stdout).toContain(`registered abc12345 (saas, ${saas.url})`);
    const shown = await autopilot('environments', 'show', 'abc12345', '--json');
    expect(JSON.parse(shown.stdout)).toMatchObject({
      environment: {
        id: 'abc12345',
        kind: 'saas',
        apiUrl: saas.url,
        source: 'registered',
        tokens: [{ purpose: 'automation', mintedByUs: false }],
      },
    });

    // Another add of the id does not touch it, unless --replace says so.
    const again = await add('--url', saas.url, '--token-file', tokenFile);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(
      `abc12345 is registered already (saas, ${saas.url}, registered); nothing changed. \`autopilot environments add --replace\` replaces its registration`,
    );
    expect((await autopilot('environments', 'show', 'abc12345', '--json')).stdout).toBe(shown.stdout);
    const replaced = await add('--url', saas.url, '--token-file', tokenFile, '--replace');
    expect(replaced.code).toBe(0);
    expect(replaced.stdout).toContain(`registered abc12345 (saas, ${saas.url})`);

    const removed = await autopilot('environments', 'remove', 'abc12345');
    expect(removed.stdout.trim()).toBe('forgot abc12345');
    // A token an operator handed over is never revoked by Autopilot.
    expect((await saas.stats()).created.apiTokensRevoked ?? 0).toBe(0);
  }, 300_000);

  it('refuses URLs a token may not go to, with the reason, before or at the worker', async () => {
    const tokenFile = path.join(dir, 'saas-token');
    const add = (...args: string[]) => autopilot('environments', 'add', ...args);
    const lookupsBefore = (await saas.stats()).requests['POST /e/{environmentId}/api/v2/apiTokens/lookup'];

    // Early, by the CLI: off the domain list, another environment's URL, a form that names none.
    const offList = await add('--url', 'https://abc12345.live.dynatrace.com.evil.example', '--token-file', tokenFile);
    expect(offList.code).toBe(2);
    expect(offList.stderr).toContain(
      "abc12345.live.dynatrace.com.evil.example is not a SaaS environment's host: it is below none of AUTOPILOT_SAAS_DOMAINS (live.dynatrace.com, localhost)",
    );
    const otherId = await add('--id', 'xyz98765', '--url', saas.url, '--token-file', tokenFile);
    expect(otherId.code).toBe(2);
    expect(otherId.stderr).toContain(`--id xyz98765 is not the environment of ${saas.url}: its URL names abc12345`);
    const nameless = await add('--id', 'abc12345', '--url', 'https://127.0.0.1:8443/api', '--token-file', tokenFile);
    expect(nameless.code).toBe(2);
    expect(nameless.stderr).toContain('"https://127.0.0.1:8443/api" names no environment');

    // A platform URL is mapped to the host that serves API tokens, and the CLI says so.
    const apps = await add('--url', 'https://abc12345.apps.dynatrace.com/ui/apps/x', '--token-file', '/nonexistent');
    expect(apps.stdout).toContain(
      'note: https://abc12345.apps.dynatrace.com is the platform (apps) URL, which does not serve the environment API to API tokens: using https://abc12345.live.dynatrace.com',
    );
    expect(apps.stderr).toContain('cannot read /nonexistent: ENOENT');

    // At the worker, which is production: no token over plain http, whatever the CLI let through.
    const plain = await add('--url', saas.url.replace('https:', 'http:'), '--token-file', tokenFile);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(
      /http:\/\/abc12345\.localhost:\d+ is plain http: tokens go to SaaS environments over https only/,
    );
    expect((await saas.stats()).requests['POST /e/{environmentId}/api/v2/apiTokens/lookup']).toEqual(lookupsBefore);
    expect((await autopilot('environments', 'show', 'abc12345')).code).toBe(1);
  }, 300_000);

  it("registers a Managed environment by hand at its cluster's URL, from a pasted one", async () => {
    const { token } = await dt.environment('hand-p1', [...TOKEN_PURPOSES.automation, 'apiTokens.read']);
    const tokenFile = path.join(dir, 'hand-token');
    writeFileSync(tokenFile, token);
    const added = await autopilot(
      'environments',
      'add',
      '--url',
      `${dt.simulator.url}/e/hand-p1/api/v2/`,
      '--token-file',
      tokenFile,
      '--json',
    );
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({
      id: 'hand-p1',
      kind: 'managed',
      cluster: 'default',
      apiUrl: `${dt.simulator.url}/e/hand-p1`,
      source: 'registered',
    });
    const elsewhere = await autopilot(
      'environments',
      'add',
      '--url',
      'https://managed.example.com/e/hand-p2',
      '--token-file',
      tokenFile,
    );
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toMatch(
      /https:\/\/managed\.example\.com is the URL of no configured cluster \(configured: default https:\/\/127\.0\.0\.1:\d+\)/,
    );
  }, 300_000);
});
