import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { MockActivityEnvironment } from '@temporalio/testing';
import { sql } from 'kysely';
import type { DynatraceAccess } from '../../src/activities/dynatrace-access.js';
import { createFleetScanActivities } from '../../src/activities/fleet-scan/index.js';
import { openFleetDatabase, type FleetDatabase } from '../../src/database/open-fleet-database.js';
import { FleetHistory } from '../../src/fleet/fleet-history.js';
import type { ProblemChange } from '../../src/fleet/problem-changes.js';
import { FleetAuthenticator } from '../../src/fleet-server/fleet-auth.js';
import { FleetMetrics } from '../../src/fleet-server/fleet-metrics.js';
import { createFleetServer } from '../../src/fleet-server/fleet-server.js';
import { FleetStatusBuilder } from '../../src/fleet-server/fleet-status-builder.js';
import { EnvironmentRegistry } from '../../src/registry/environment-registry.js';
import { FileSecretStore } from '../../src/secrets/file-secret-store.js';
import type { FleetScanInput, FleetScanReport } from '../../src/shared/fleet-scan.js';
import { StandardsStore } from '../../src/standards/standards-store.js';
import { fourClusterAccess, seedRegisteredEnvironment } from '../harness/seed-environment.js';
import { startDynatraceSimulator, type DynatraceSimulator } from '../../sandbox/dynatrace/server.js';

export interface FleetViewBenchmarkOptions {
  environments: number;
  latencyMs: number;
  latencyJitterMs: number;
  /** Requests one environment serves at once (the simulator's throttle). */
  capacityPerEnvironment: number;
  /** Problems per environment and day for the database growth figure. */
  problemsPerEnvironmentDay: number;
  log?: (line: string) => void;
}

export interface FleetViewBenchmarkResult {
  environments: number;
  latency: string;
  scans: {
    name: string;
    seconds: number;
    changes: number;
    failed: number;
    apiRequests: number;
    hostCensuses: number;
  }[];
  database: {
    problemsPerEnvironmentDay: number;
    problemsPerDay: number;
    changesPerDay: number;
    scansPerDay: number;
    censusChangesPerDay: number;
    growthMiBPerDay: number;
  };
  page?: { firstRenderMs: number; statusBytes: number; statusBuildMs: number };
  memory: { rssMiB: number; heapUsedMiB: number };
}

const SCAN: Omit<FleetScanInput, 'concurrency'> = {
  intervalSeconds: 30,
  hostCensusMinutes: 10,
  retentionDays: 30,
  incident: { environments: 5, windowMinutes: 10 },
};

const quietActivity = () => {
  const quiet = () => undefined;
  return new MockActivityEnvironment(undefined, {
    logger: { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: quiet, error: quiet },
  });
};

const apiRequests = (simulator: DynatraceSimulator) =>
  Object.entries(simulator.stats.requests)
    .filter(([route]) => route.includes('/api/'))
    .reduce((sum, [, statuses]) => sum + Object.values(statuses).reduce((a, b) => a + b, 0), 0);

/**
 * The fleet view at size: one full problem scan of the whole registry against simulated
 * environments with real latency and per-environment capacity, the status a page would fetch
 * and its first render in a real browser, and how fast the fleet history grows per simulated day.
 */
export async function runFleetViewBenchmark(options: FleetViewBenchmarkOptions): Promise<FleetViewBenchmarkResult> {
  const log = options.log ?? (() => undefined);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-bench-fleet-view-'));
  const simulator = await startDynatraceSimulator({
    knobs: {
      latencyMs: options.latencyMs,
      latencyJitterMs: options.latencyJitterMs,
      throttle: { maxConcurrent: options.capacityPerEnvironment, queueSize: 100 },
    },
    clusterTokens: [{ name: 'admin', scopes: ['ServiceProviderAPI', 'EnvironmentTokenManagement'] }],
  });
  const database = await openFleetDatabase({ embeddedDir: path.join(dir, 'fleet-db') });
  try {
    return await benchmark(simulator, database, dir, options, log);
  } finally {
    await database.close().catch(() => undefined);
    await simulator.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchmark(
  simulator: DynatraceSimulator,
  database: FleetDatabase,
  dir: string,
  options: FleetViewBenchmarkOptions,
  log: (line: string) => void,
): Promise<FleetViewBenchmarkResult> {
  const registry = new EnvironmentRegistry(database.db);
  const history = new FleetHistory(database.db);
  const secrets = new FileSecretStore(path.join(dir, 'secrets'), randomBytes(32));
  const ids = Array.from({ length: options.environments }, (_, i) => `fv${String(i).padStart(5, '0')}-p1`);
  const control = (route: string, body: unknown) =>
    fetch(`${simulator.url}/_sim${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then((r) => {
      if (!r.ok) throw new Error(`${route}: ${r.status}`);
    });

  const seedStart = performance.now();
  for (const [i, id] of ids.entries()) {
    await seedRegisteredEnvironment(simulator, registry, secrets, {
      id,
      cluster: `c${i % 4}`,
      customer: id.slice(0, 5),
      stage: 'p1',
    });
    await control(`/environments/${id}/hosts`, { hostName: `${id}-vm` });
    // One environment in twenty has an open problem when the first scan comes.
    if (i % 20 === 0) await control('/problems', { environmentId: id, hostName: `${id}-vm` });
    if ((i + 1) % 1000 === 0) log(`  seeded ${i + 1}/${ids.length} environments`);
  }
  log(`  seeding: ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);

  const dynatrace = fourClusterAccess(simulator, registry, secrets, {
    capacityPerEnvironment: options.capacityPerEnvironment,
    requestTimeoutMs: 30_000,
  });
  const { scanFleet } = createFleetScanActivities({ dynatrace, fleetHistory: history });
  const scans: FleetViewBenchmarkResult['scans'] = [];
  const scan = async (name: string) => {
    const before = apiRequests(simulator);
    const started = performance.now();
    const report: FleetScanReport = await quietActivity().run(() => scanFleet({ ...SCAN, concurrency: 200 }));
    const seconds = (performance.now() - started) / 1000;
    scans.push({
      name,
      seconds,
      changes: report.changes,
      failed: report.failed,
      apiRequests: apiRequests(simulator) - before,
      hostCensuses: report.hostCensuses,
    });
    log(`  ${name}: ${seconds.toFixed(1)} s, ${report.changes} change(s), ${report.failed} failed`);
  };
  await scan('first scan (every problem new)');
  await scan('steady scan (nothing changed)');

  const page = await measurePage(registry, history, dynatrace, dir, log);
  const memory = process.memoryUsage();
  const growth = await simulateDay(database, history, ids, options.problemsPerEnvironmentDay, log);
  return {
    environments: options.environments,
    latency: `${options.latencyMs} ms ± ${options.latencyJitterMs} ms, ${options.capacityPerEnvironment} concurrent per environment`,
    scans,
    database: growth,
    ...(page ? { page } : {}),
    memory: { rssMiB: memory.rss / 2 ** 20, heapUsedMiB: memory.heapUsed / 2 ** 20 },
  };
}

/** The status page's data and its first render in Debian's Chromium, when both are there. */
async function measurePage(
  registry: EnvironmentRegistry,
  history: FleetHistory,
  dynatrace: DynatraceAccess,
  dir: string,
  log: (line: string) => void,
): Promise<FleetViewBenchmarkResult['page'] | undefined> {
  const chromium = process.env.AUTOPILOT_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(chromium)) {
    log('  page: skipped (no Chromium; scripts/setup-tools.sh installs it)');
    return undefined;
  }
  const status = new FleetStatusBuilder(
    registry,
    history,
    undefined,
    { scanIntervalSeconds: 30, retentionDays: 30, namespace: 'default' },
    new StandardsStore(registry.db),
  );
  const built = performance.now();
  const body = JSON.stringify(await status.build());
  const statusBuildMs = performance.now() - built;
  const { buildFleetPage } = await import('../../scripts/build-fleet-page.js');
  const pageDir = path.join(dir, 'page');
  await buildFleetPage({ outDir: pageDir, minify: true });
  const quiet = () => undefined;
  const server = createFleetServer({
    status,
    history,
    query: { registry, clients: dynatrace.clients, tokens: dynatrace.tokens },
    metrics: new FleetMetrics(),
    auth: new FleetAuthenticator({ allowUnauthenticated: true }),
    pageDir,
    logger: { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: quiet, error: quiet },
  });
  await server.listen({ host: '127.0.0.1', port: 0 });
  const address = server.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
  const { launchBrowser } = await import('../../test/helpers/browser.js');
  const browser = await launchBrowser();
  try {
    const tab = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
    await tab.goto(url);
    await tab.waitForFunction('document.body.dataset.firstRenderMs !== undefined', undefined, { timeout: 30_000 });
    const firstRenderMs = Number(await tab.evaluate('document.body.dataset.firstRenderMs'));
    log(
      `  page: first render ${firstRenderMs.toFixed(0)} ms, status ${(body.length / 1024).toFixed(0)} KiB built in ${statusBuildMs.toFixed(0)} ms`,
    );
    return { firstRenderMs, statusBytes: body.length, statusBuildMs };
  } finally {
    await browser.close();
    await server.close();
  }
}

/**
 * One simulated day written the way the scan writes it: every problem opened and closed (a third
 * also updated once), a census change in one environment of twenty, and a scan row every 30 s.
 */
async function simulateDay(
  database: FleetDatabase,
  history: FleetHistory,
  ids: string[],
  problemsPerEnvironmentDay: number,
  log: (line: string) => void,
): Promise<FleetViewBenchmarkResult['database']> {
  const size = async () =>
    Number(
      (await sql<{ size: string }>`select pg_database_size(current_database()) as size`.execute(database.db)).rows[0]!
        .size,
    );
  await sql`checkpoint`.execute(database.db);
  const before = await size();
  const dayStart = Date.now() - 86_400_000;
  const problemsPerDay = Math.round(ids.length * problemsPerEnvironmentDay);
  let changes = 0;
  const batch: { environmentId: string; at: Date; changes: ProblemChange[] }[] = [];
  for (let n = 0; n < problemsPerDay; n++) {
    const environmentId = ids[n % ids.length]!;
    const opened = new Date(dayStart + Math.floor((n / problemsPerDay) * 86_000_000));
    const closed = new Date(opened.getTime() + 45 * 60_000);
    const problem = {
      problemId: `-${1_000_000_000 + n}_${opened.getTime()}V2`,
      displayId: `P-${n}`,
      title: n % 3 === 0 ? 'CPU saturation' : n % 3 === 1 ? 'Memory saturation' : 'Host or monitoring unavailable',
      severity: n % 3 === 2 ? 'AVAILABILITY' : 'RESOURCE_CONTENTION',
      impact: 'INFRASTRUCTURE',
      affectedEntities: 1,
    };
    const these: ProblemChange[] = [{ change: 'opened', at: opened, problem: { ...problem, startTime: opened } }];
    if (n % 3 === 0)
      these.push({
        change: 'updated',
        at: new Date(opened.getTime() + 60_000),
        problem: { ...problem, affectedEntities: 2 },
      });
    these.push({ change: 'closed', at: closed, problem });
    changes += these.length;
    batch.push({ environmentId, at: closed, changes: these });
    if (batch.length >= 500) await history.recordProblemScans(batch.splice(0));
  }
  await history.recordProblemScans(batch.splice(0));
  const censusChanges = Math.ceil(ids.length / 20);
  await history.recordHostCensuses(
    ids.slice(0, censusChanges).map((environmentId) => ({
      environmentId,
      at: new Date(),
      hosts: 2,
      agentVersions: { '1.311.0': 2 },
    })),
  );
  const scansPerDay = 86_400 / 30;
  for (let n = 0; n < scansPerDay; n++) {
    const at = new Date(dayStart + n * 30_000);
    await history.recordScan({
      startedAt: at,
      finishedAt: at,
      environments: ids.length,
      failed: 0,
      hostScans: 30,
      changes: 2,
    });
  }
  await sql`checkpoint`.execute(database.db);
  const growthMiBPerDay = ((await size()) - before) / 2 ** 20;
  log(`  database: ${growthMiBPerDay.toFixed(1)} MiB for a day of ${problemsPerDay} problems (${changes} changes)`);
  return {
    problemsPerEnvironmentDay,
    problemsPerDay,
    changesPerDay: changes,
    scansPerDay,
    censusChangesPerDay: censusChanges,
    growthMiBPerDay,
  };
}
