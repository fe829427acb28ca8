import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/config/config.js';
import { DynatraceClient } from '../../src/dynatrace/client.js';
import type { FleetStatus } from '../../src/shared/fleet-status.js';
import { launchBrowser } from '../helpers/browser.js';
import { cleanEnv, spawnEntryPoint, type SpawnedProcess } from '../helpers/processes.js';
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
