import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFleetPage } from '../../scripts/build-fleet-page.js';
import { projectRoot } from '../../src/config/config.js';
import type { FleetDatabase } from '../../src/database/open-fleet-database.js';
import { DynatraceClient } from '../../src/dynatrace/client.js';
import { startFleetServer, type RunningFleetServer } from '../../src/fleet-server/start-fleet-server.js';
import { createJsonLogger } from '../../src/observability/json-logger.js';
import type { EnvironmentRegistry } from '../../src/registry/environment-registry.js';
import { FileSecretStore } from '../../src/secrets/file-secret-store.js';
import type { FleetStatus } from '../../src/shared/fleet-status.js';
import { testDynatraceAccess, testFleetDatabase } from '../helpers/autopilot.js';
import { launchBrowser } from '../helpers/browser.js';
import { seedFleetEnvironments } from '../helpers/fleet-seed.js';
import { cleanEnv, freePort, spawnEntryPoint, type SpawnedProcess } from '../helpers/processes.js';
import { startTestCluster, type TestCluster } from '../helpers/simulator.js';
import { testConfig } from '../helpers/temporal.js';
import { sandboxPorts } from '../helpers/worker-process.js';

const run = promisify(execFile);
const READY = /Press Ctrl-C to stop\./;
const PAGE_ENVIRONMENTS = Array.from({ length: 8 }, (_, i) => `page${i + 1}-p1`);
/** Where CI keeps what this test leaves for people to look at. */
const OUTPUT = path.join(projectRoot, 'test-output', 'fleet-page');

/**
 * The status page in Debian's Chromium against `npm start`'s sandbox, scanned every two seconds:
 * problems opened and resolved in the simulator show on the page without a reload, a burst of one
 * problem type becomes a fleet incident, and the time slider brings back an earlier moment.
 */
describe('fleet status page (sandbox, real browser)', () => {
  let sandbox: SpawnedProcess;
  let env: Record<string, string | undefined>;
  let fleetUrl: string;
  let simulatorUrl: string;
  let browser: Browser;
  let page: Page;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-fleet-page-'));

  const control = async <T>(route: string, body: unknown = {}) => {
    const response = await fetch(`${simulatorUrl}/_sim${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${route}: ${response.status} ${text}`);
    return JSON.parse(text) as T;
  };
  const openProblem = (environmentId: string, kind = 'CPU_SATURATION') =>
    control<{ problemId: string }>('/problems', { environmentId, hostName: `${environmentId}-vm`, kind });
  const cell = (id: string) => page.locator(`[data-environment-id="${id}"]`).first();
  const status = async () => (await (await fetch(`${fleetUrl}/fleet/status`)).json()) as FleetStatus;

  beforeAll(async () => {
    const ports = await sandboxPorts();
    env = cleanEnv({
      ...ports,
      AUTOPILOT_DATA_DIR: dataDir,
      AUTOPILOT_METRICS_ADDRESS: 'off',
      AUTOPILOT_TASK_QUEUE: 'fleet-page-test',
      AUTOPILOT_FLEET_SCAN_INTERVAL_SECONDS: '2',
    });
    sandbox = spawnEntryPoint('sandbox/start.ts', env);
    await sandbox.waitForOutput(READY, 120_000);
    fleetUrl = /Fleet {8}(http:\/\/\S+)/.exec(sandbox.stderr())![1]!;
    simulatorUrl = `http://127.0.0.1:${ports.AUTOPILOT_SIMULATOR_PORT}`;

    // Environments that exist on the (simulated) cluster, adopted as an operator would.
    const clusterToken = readFileSync(path.join(dataDir, 'simulator-cluster-token'), 'utf8').trim();
    const cluster = new DynatraceClient({
      baseUrl: simulatorUrl,
      maxConcurrentPerEnvironment: 5,
      requestTimeoutMs: 10_000,
    }).cluster(clusterToken);
    for (const id of PAGE_ENVIRONMENTS) {
      await cluster.putEnvironment(id, { name: `Page ${id}` });
      await control(`/environments/${id}/hosts`, { hostName: `${id}-vm` });
    }
    const adopted = await run(
      process.execPath,
      [path.join(projectRoot, 'bin/autopilot'), 'environments', 'adopt', 'page*'],
      {
        env,
        cwd: projectRoot,
      },
    );
    expect(adopted.stdout).toMatch(/8 adopted/);
    // A seeded problem before the page is first opened.
    await openProblem('page1-p1');
    const deadline = Date.now() + 60_000;
    while (!(await status()).problems.some((p) => p.environmentId === 'page1-p1')) {
      if (Date.now() > deadline)
        throw new Error(`the scan never saw page1-p1's problem\n${sandbox.stderr().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    sandbox?.child.kill('SIGINT');
    await sandbox?.exit;
  });

  it('shows the seeded problem, follows the simulator live, finds the incident and goes back in time', async () => {
    await page.goto(fleetUrl);
    await cell('page1-p1').waitFor();
    expect(await cell('page1-p1').getAttribute('data-state')).toBe('problems');
    await page.locator('[data-problem-id][data-environment-id="page1-p1"]').first().waitFor();
    // Healthy, or "stale" for a moment on a busy machine (the scan runs every 2 s here): no problems either way.
    expect(await cell('page2-p1').getAttribute('data-state')).not.toBe('problems');
    expect(await page.locator('#data-age').textContent()).toMatch(/\d+ ?s/);
    const firstRenderMs = Number(await page.evaluate('document.body.dataset.firstRenderMs'));
    expect(firstRenderMs).toBeGreaterThan(0);

    // Live: a problem opened in the simulator reaches the cell within a scan interval or two.
    const opened = await openProblem('page2-p1');
    await page.waitForSelector('[data-environment-id="page2-p1"][data-state="problems"]', { timeout: 45_000 });
    await page.locator('[data-problem-id][data-environment-id="page2-p1"]').first().waitFor({ timeout: 5_000 });
    await control(`/problems/${opened.problemId}/resolve`);
    await page.waitForSelector('[data-environment-id="page2-p1"]:not([data-state="problems"])', { timeout: 45_000 });
    const beforeBurst = Date.now();
    await new Promise((r) => setTimeout(r, 1_500));

    // The same problem type in six environments within the window: one fleet incident.
    const burst = PAGE_ENVIRONMENTS.slice(2);
    await Promise.all(burst.map((id) => openProblem(id, 'MEMORY_SATURATION')));
    await page.waitForSelector('[data-incident-id][data-problem-type="Memory saturation"]', { timeout: 45_000 });
    for (const id of burst) expect(await cell(id).getAttribute('data-state')).toBe('problems');
    mkdirSync(OUTPUT, { recursive: true });
    await page.screenshot({ path: path.join(OUTPUT, 'fleet-page.png'), fullPage: true });

    // Back to before the burst: the memory problems and the incident are not there yet.
    await page.evaluate(`(() => {
      const slider = document.querySelector('#time-slider');
      slider.value = String(${beforeBurst});
      slider.dispatchEvent(new Event('input', { bubbles: true }));
      slider.dispatchEvent(new Event('change', { bubbles: true }));
    })()`);
    // The page's own policy forbids eval, so waits read the page instead of running code in it.
    await expect
      .poll(() => page.locator('#status-at').textContent(), { timeout: 45_000 })
      .toContain(new Date(beforeBurst).toISOString().slice(0, 16));
    await page.waitForSelector(`[data-environment-id="${burst[0]}"][data-state="healthy"]`, { timeout: 45_000 });
    expect(await cell('page1-p1').getAttribute('data-state')).toBe('problems');
    expect(await page.locator('[data-incident-id][data-problem-type="Memory saturation"]').count()).toBe(0);
    await page.screenshot({ path: path.join(OUTPUT, 'fleet-page-earlier.png'), fullPage: true });

    // And live again.
    await page.click('#live-button');
    await page.waitForSelector(`[data-environment-id="${burst[0]}"][data-state="problems"]`, { timeout: 45_000 });
  }, 180_000);
});

/**
 * Signing in and out of the status page with the fleet server's tokens in Debian's Chromium, and
 * what a page of another origin, or a host name rebound to the server's address, can do there.
 */
describe('fleet status page sessions and what other sites cannot do (real browser)', () => {
  const READ = `page-read-${randomBytes(12).toString('hex')}`;
  const WRITE = `page-write-${randomBytes(12).toString('hex')}`;
  const MZ = 'builtin:management-zones';
  const ids = ['sess1-p1', 'sess2-p1'];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-fleet-sessions-'));
  let dt: TestCluster;
  let database: FleetDatabase & { registry: EnvironmentRegistry };
  let fleet: RunningFleetServer;
  let fleetUrl: string;
  let port: number;
  let browser: Browser;
  let tokens: Map<string, string>;
  /** Another site's page, served from the same address on another port: same site, other origin. */
  let attacker: http.Server;
  let attackerPage = '';

  const zones = async (id: string) => {
    const response = await fetch(
      `${dt.simulator.url}/e/${id}/api/v2/settings/objects?schemaIds=${MZ}&fields=objectId,value`,
      {
        headers: { authorization: `Api-Token ${tokens.get(id)}` },
      },
    );
    return ((await response.json()) as { items: { objectId: string; value: { name: string } }[] }).items;
  };
  const settingsRequests = async () =>
    Object.entries((await dt.stats()).requests).filter(
      ([route]) => route.includes('settings') && !route.startsWith('GET'),
    );
  const signIn = async (page: Page, token: string) => {
    await page.goto(fleetUrl);
    await page.locator('input[name="token"]').fill(token);
    await page.locator('button[type="submit"]').click();
    await page.locator('#sign-out:not([hidden])').waitFor();
  };

  beforeAll(async () => {
    dt = await startTestCluster();
    database = await testFleetDatabase(dir);
    const secrets = new FileSecretStore(path.join(dir, 'secrets'), randomBytes(32));
    tokens = await seedFleetEnvironments(dt, database.registry, secrets, ids);
    const pageDir = path.join(dir, 'page');
    await buildFleetPage({ outDir: pageDir });
    port = await freePort();
    fleet = await startFleetServer(
      testConfig({
        AUTOPILOT_FLEET_PORT: String(port),
        AUTOPILOT_FLEET_READ_TOKEN: READ,
        AUTOPILOT_FLEET_WRITE_TOKEN: WRITE,
      }),
      {
        dynatrace: testDynatraceAccess({ dt, registry: database.registry, secrets }),
        client: undefined,
        logger: createJsonLogger('ERROR', () => undefined),
      },
      { sandbox: false, pageDir },
    );
    fleetUrl = fleet.url;
    attacker = http.createServer((_req, res) => {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(attackerPage);
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    // rebind.test stands for an attacker's name that DNS now resolves to the fleet server's address.
    browser = await launchBrowser(['--host-resolver-rules=MAP rebind.test 127.0.0.1']);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    attacker?.closeAllConnections();
    await new Promise((resolve) => attacker?.close(resolve));
    await fleet?.stop();
    await database?.close();
    await dt?.stop();
  });

  it('signs in with the read token, says what it may do, and signs out for good', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(fleetUrl);
    expect(await page.locator('#sign-in-message').textContent()).toBe('Sign in to see the fleet.');
    await signIn(page, READ);
    await page.locator('[data-environment-id="sess1-p1"]').first().waitFor();
    expect(await page.locator('#session-role').textContent()).toBe('signed in · read only');
    const session = (await context.cookies()).find((c) => c.name === 'autopilot_fleet_session')!;
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', secure: false, path: '/' });
    expect(session.value).toMatch(/^reader\./);
    expect(session.expires * 1000 - Date.now()).toBeGreaterThan(11 * 3_600_000);

    await page.locator('#sign-out-button').click();
    await page.waitForURL(`${fleetUrl}/login`);
    expect(await page.locator('input[name="token"]').count()).toBe(1);
    expect((await context.cookies()).find((c) => c.name === session.name)).toBeUndefined();
    // A copy of the cookie kept from before is refused, from a script and back in the browser.
    const replayed = await fetch(`${fleetUrl}/fleet/status`, {
      headers: { cookie: `${session.name}=${session.value}` },
    });
    expect(replayed.status).toBe(401);
    await context.addCookies([session]);
    await page.goto(fleetUrl);
    expect(await page.locator('#sign-in-message').textContent()).toBe('Sign in to see the fleet.');
    await context.close();
  });

  it("another origin's form cannot write or sign a writer out, though the browser sends the writer's cookie", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await signIn(page, WRITE);
    expect(await page.locator('#session-role').textContent()).toBe('signed in · read and write');
    const zonesBefore = await Promise.all(ids.map(zones));
    const writesBefore = await settingsRequests();
    const attackerOrigin = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;

    // A JSON body smuggled in a text/plain form, posted to the fleet API: the classic cross-site write.
    const name = `[{"schemaId":"${MZ}","scope":"environment","value":{"name":"planted by another site"},"externalId":"`;
    attackerPage = `<!doctype html><form id="f" method="post" enctype="text/plain"
      action="${fleetUrl}/fleet/api/v2/settings/objects?environments=sess*"><input name='${name}' value='x"}]'></form>
      <script>document.getElementById('f').submit()</script>`;
    await page.goto(attackerOrigin);
    await page.waitForURL(`${fleetUrl}/fleet/api/**`);
    const refused = JSON.parse((await page.locator('body').textContent())!) as { error: string; message: string };
    expect(refused.error).toBe('cross_origin');

    attackerPage = `<!doctype html><form id="f" method="post" action="${fleetUrl}/logout"></form>
      <script>document.getElementById('f').submit()</script>`;
    await page.goto(attackerOrigin);
    await page.waitForURL(`${fleetUrl}/logout`);
    expect(await page.locator('body').textContent()).toContain('cross_origin');

    // Nothing was written anywhere, and the writer is still signed in.
    expect(await settingsRequests()).toEqual(writesBefore);
    expect(await Promise.all(ids.map(zones))).toEqual(zonesBefore);
    await page.goto(fleetUrl);
    await page.locator('#sign-out:not([hidden])').waitFor();
    await context.close();
  });

  it('answers nothing but a refusal to a host name rebound to its address (DNS rebinding)', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    for (const route of ['/', '/fleet/status', '/login']) {
      const response = await page.goto(`http://rebind.test:${port}${route}`);
      expect(response?.status(), route).toBe(403);
      expect(await page.locator('body').textContent(), route).toContain('host_not_allowed');
    }
    await context.close();
  });
});
