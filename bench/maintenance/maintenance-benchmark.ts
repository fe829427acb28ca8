import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { NativeConnection } from '@temporalio/worker';
import { createDynatraceAccess } from '../../src/activities/dynatrace-access.js';
import { tokenName, type TokenPolicy } from '../../src/activities/tokens/token-keeper.js';
import { loadConfig } from '../../src/config/config.js';
import { Secret } from '../../src/config/secret.js';
import { openFleetDatabase } from '../../src/database/open-fleet-database.js';
import { DynatraceClients, type ClusterEndpoint } from '../../src/dynatrace/dynatrace-clients.js';
import { EnvironmentRegistry } from '../../src/registry/environment-registry.js';
import { FileSecretStore } from '../../src/secrets/file-secret-store.js';
import { secretRefs } from '../../src/secrets/secret-store.js';
import { FLEET_MAINTENANCE, type MaintenanceReport } from '../../src/shared/maintenance.js';
import { TOKEN_PURPOSES, type TokenPurpose } from '../../src/shared/registry.js';
import { buildActivityDeps } from '../../src/workers/activity-deps.js';
import { createAutopilotWorker } from '../../src/workers/create-worker.js';
import { installRuntime } from '../../src/workers/runtime.js';
import { tokenId as publicTokenId } from '../../sandbox/dynatrace/tokens.js';
import { NAMESPACE, startBenchStack, type BenchStack } from '../harness/bench-stack.js';
import { processCpuSeconds } from '../harness/process-usage.js';
import { BusyClock, HttpWatch, machineBusySince, timed } from './busy-time.js';

const DAY_MS = 86_400_000;
const PURPOSES = Object.keys(TOKEN_PURPOSES) as TokenPurpose[];
const REVOKE_ROUTE = 'DELETE /e/{environmentId}/api/v2/apiTokens/{id}';

export interface MaintenanceBenchmarkOptions {
  /** Registered environments, each with an installer-download and an automation token of ours. */
  environments: number;
  /** Share of them whose tokens are made to expire within the rotation margin before run 2. */
  duePercent: number;
  /** Simulator latency per API request (plus up to half of it as jitter) for the runs with work. */
  latencyMs: number;
  /** Requests one environment (and the cluster API) serves at once; one more is answered 429 at once. */
  capacityPerEnvironment: number;
  /** FleetMaintenance's `batchSize`; default the worker's (50). */
  batchSize?: number;
  log?: (line: string) => void;
}

export interface MaintenanceRunResult {
  name: string;
  wallSeconds: number;
  report: Omit<MaintenanceReport, 'environments'>;
  dynatrace: {
    apiRequests: number;
    /** Requests by route and status during the run. */
    byRoute: Record<string, Record<string, number>>;
    tokensMinted: number;
    tokenManagementTokensMinted: number;
    /** DELETE answered 204, split into the registry's tokens and the short-lived token-management ones. */
    tokensRevoked: number;
    registryTokensRevoked: number;
    tokenManagementTokensRevoked: number;
    throttled429: number;
    /** Environments that saw at least one request. */
    environmentsTouched: number;
    peakInFlight: { perEnvironment: number; clusterApi: number };
  };
  /** Seconds during which at least one call of the kind was in flight (overlaps counted once). */
  waitingSeconds: { dynatrace: number; database: number; secretStore: number };
  calls: { database: number; secretStore: number };
  cpuSeconds: { benchProcess?: number; temporalServer?: number };
  machineBusyPercent?: number;
  binds: string;
}

export interface MaintenanceBenchmarkResult {
  settings: {
    environments: number;
    duePercent: number;
    dueEnvironments: number;
    dueTokens: number;
    latencyMs: number;
    latencyJitterMs: number;
    capacityPerEnvironment: number;
    batchSize: number;
    tokenPolicy: TokenPolicy;
    scopeCheckHours: number;
    worker: string;
    database: string;
    cores: number;
  };
  seeding: { seconds: number; simulatorSeconds: number; databaseSeconds: number; secretStoreSeconds: number };
  workerStartSeconds: number;
  runs: MaintenanceRunResult[];
  /** Each due token against what Dynatrace and the registry saw happen to it over all the runs. */
  perDueToken: {
    dueTokens: number;
    rotatedOnce: number;
    rotatedMoreThanOnce: number;
    notRotated: number;
    /** Rotations of tokens that were not due. */
    rotationsOfOthers: number;
    revokedOnce: number;
    revokedMoreThanOnce: number;
    notRevoked: number;
    /** Revoked tokens that were neither due nor token-management tokens (a current one, say). */
    othersRevoked: number;
    revokedInRegistry: number;
    /** DELETEs answered 404: a token revoked twice, or one Dynatrace did not know. */
    revokeNotFound: number;
    /** Environments that were not due but got a request in a run with work. */
    notDueTouched: number;
    /** Token-management tokens still valid in the simulator after the runs. */
    tokenManagementTokensLeft: number;
    /** Environments whose live API tokens in the simulator are not exactly the registry's current ones. */
    environmentsOutOfStep: number;
  };
}

/**
 * Token maintenance of a large registry: environments seeded straight into the simulator's state and
 * a fresh embedded fleet database (no onboarding), then FleetMaintenance on a real Temporal worker
 * (in this process, with the production activities) four times: nothing due; a share due (rotation,
 * under a tight per-environment capacity and latency); after the revoke grace (revocation); settled.
 */
export async function runMaintenanceBenchmark(
  options: MaintenanceBenchmarkOptions,
): Promise<MaintenanceBenchmarkResult> {
  const log = options.log ?? (() => undefined);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-bench-maintenance-'));
  const latencyJitterMs = options.latencyMs / 2;
  const stack = await startBenchStack({
    dir,
    // The same for every run: a run with nothing due must cost nothing whatever Dynatrace's state.
    knobs: {
      latencyMs: options.latencyMs,
      latencyJitterMs,
      // No queue: a request beyond the capacity is refused at once, so any burst shows as a 429.
      throttle: { maxConcurrent: options.capacityPerEnvironment, queueSize: 0 },
    },
  });
  const database = await openFleetDatabase({ embeddedDir: path.join(dir, 'fleet-db') });
  const watch = new HttpWatch(new URL(stack.simulator.url).host);
  try {
    return await benchmark(stack, database, watch, dir, options, latencyJitterMs, log);
  } finally {
    watch.stop();
    await database.close().catch(() => undefined);
    await stack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchmark(
  stack: BenchStack,
  database: Awaited<ReturnType<typeof openFleetDatabase>>,
  watch: HttpWatch,
  dir: string,
  options: MaintenanceBenchmarkOptions,
  latencyJitterMs: number,
  log: (line: string) => void,
): Promise<MaintenanceBenchmarkResult> {
  const { simulator } = stack;
  const config = loadConfig({
    TEMPORAL_ADDRESS: stack.address,
    TEMPORAL_NAMESPACE: NAMESPACE,
    AUTOPILOT_CODEC_KEYS: stack.codecKeysText,
    AUTOPILOT_LOG_LEVEL: 'WARN',
    AUTOPILOT_METRICS_ADDRESS: 'off',
    AUTOPILOT_DATA_DIR: dir,
  });
  // The production grace (minutes at least) would make the third run wait; one second keeps the
  // same code path, replaced tokens just become revocable sooner.
  const tokenPolicy: TokenPolicy = {
    validityDays: config.tokens.validityDays,
    rotateBeforeDays: config.tokens.rotateBeforeDays,
    revokeGraceMs: 1_000,
  };
  const batchSize = options.batchSize ?? config.maintenance.batchSize;
  const registry = new EnvironmentRegistry(database.db);
  const secrets = new FileSecretStore(path.join(dir, 'secrets'), randomBytes(32));
  const dbClock = new BusyClock();
  const secretClock = new BusyClock();
  const clusters: ClusterEndpoint[] = [
    {
      name: 'default',
      url: simulator.url,
      token: new Secret(stack.clusterToken),
      caCertificate: readFileSync(simulator.caFile!, 'utf8'),
      maxConcurrentRequests: 50,
      maxConcurrentRequestsPerEnvironment: config.dynatrace.maxConcurrentPerEnvironment,
    },
  ];

  // --- seeding -------------------------------------------------------------------------------
  const ids = Array.from({ length: options.environments }, (_, i) => `mnt-${String(i).padStart(5, '0')}`);
  const dueEvery = Math.max(1, Math.round(100 / options.duePercent));
  const dueIds = options.duePercent > 0 ? ids.filter((_, i) => i % dueEvery === 0) : [];
  const dueTokenIds = new Set<string>();
  const seedStart = performance.now();
  let [simulatorMs, databaseMs, secretsMs] = [0, 0, 0];
  const now = new Date();
  const expiresAt = new Date(now.getTime() + tokenPolicy.validityDays * DAY_MS);
  const seededTokens = new Map<string, { id: string; purpose: TokenPurpose }[]>();
  for (const [i, id] of ids.entries()) {
    let t = performance.now();
    const environment = simulator.state.createEnvironment({ id, name: id, state: 'ENABLED', trial: false, tags: [] });
    const tokens = PURPOSES.map((purpose) => ({
      purpose,
      token: simulator.state.createEnvironmentToken(environment, {
        name: tokenName(purpose),
        scopes: [...TOKEN_PURPOSES[purpose]],
        owner: 'admin',
        kind: 'api',
        expirationDate: expiresAt.getTime(),
      }),
    }));
    simulatorMs += performance.now() - t;
    t = performance.now();
    for (const { purpose, token } of tokens) {
      await secrets.put(secretRefs.environmentToken(id, purpose), token.token, {
        tokenId: token.id,
        expiresAt: expiresAt.toISOString(),
        scopes: token.scopes.join(','),
      });
    }
    secretsMs += performance.now() - t;
    t = performance.now();
    await registry.record({
      id,
      kind: 'managed',
      cluster: 'default',
      apiUrl: `${simulator.url}/e/${id}`,
      source: 'onboarded',
    });
    for (const { purpose, token } of tokens) {
      await registry.tokenMinted({
        environmentId: id,
        purpose,
        tokenId: token.id,
        secretRef: secretRefs.environmentToken(id, purpose),
        scopes: TOKEN_PURPOSES[purpose],
        expiresAt,
        mintedByUs: true,
        reason: 'bench: seeded',
        replacedRevokeAfter: now,
      });
    }
    // Checked just now, so that "nothing due" is not undone by a scope check falling due.
    await registry.scopesChecked(id, now, undefined);
    databaseMs += performance.now() - t;
    seededTokens.set(
      id,
      tokens.map(({ purpose, token }) => ({ id: token.id, purpose })),
    );
    if ((i + 1) % 1000 === 0) log(`  seeded ${i + 1}/${ids.length} environments`);
  }
  const seeding = {
    seconds: (performance.now() - seedStart) / 1000,
    simulatorSeconds: simulatorMs / 1000,
    databaseSeconds: databaseMs / 1000,
    secretStoreSeconds: secretsMs / 1000,
  };
  log(
    `  seeding: ${seeding.seconds.toFixed(1)} s (database ${seeding.databaseSeconds.toFixed(1)} s, ` +
      `secret store ${seeding.secretStoreSeconds.toFixed(1)} s, simulator ${seeding.simulatorSeconds.toFixed(1)} s)`,
  );

  // --- worker --------------------------------------------------------------------------------
  try {
    await installRuntime(config);
  } catch {
    // Another section of this process installed it already; its logger will do.
  }
  const workerStart = performance.now();
  const timedRegistry = timed(registry, dbClock);
  const timedSecrets = timed(secrets, secretClock);
  const base = buildActivityDeps(config, {
    identity: `${process.pid}@${os.hostname()}-maintenance-bench`,
    clusters,
    registry: timedRegistry,
    databaseKind: database.kind,
    secrets: timedSecrets,
  });
  const activityDeps = {
    ...base,
    dynatrace: createDynatraceAccess({
      clients: new DynatraceClients(clusters, {
        requestTimeoutMs: config.dynatrace.requestTimeoutMs,
        maxConcurrentPerEnvironment: config.dynatrace.maxConcurrentPerEnvironment,
      }),
      registry: timedRegistry,
      secrets: timedSecrets,
      tokenPolicy,
    }),
  };
  const taskQueue = `maintenance-bench-${randomUUID()}`;
  const connection = await NativeConnection.connect({ address: stack.address });
  const worker = await createAutopilotWorker({
    config,
    connection,
    activityDeps,
    codecKeys: stack.codecKeys,
    taskQueue,
  });
  const running = worker.run();
  const workerStartSeconds = (performance.now() - workerStart) / 1000;
  log(`  worker started in ${workerStartSeconds.toFixed(1)} s (workflow bundle built)`);

  const touchedByRun: Set<string>[] = [];
  const revokedByRun: string[][] = [];
  const runOnce = async (name: string): Promise<MaintenanceRunResult> => {
    const stats = simulator.stats;
    const before = {
      requests: structuredClone(stats.requests),
      created: { ...stats.created },
      apiRequests: stats.apiRequests,
      throttled: stats.throttled,
      byEnvironment: structuredClone(stats.byEnvironment),
      revoked: simulator.state.revokedTokenValues.length,
    };
    const http = watch.clock.mark();
    const db = dbClock.mark();
    const secret = secretClock.mark();
    const machine = machineBusySince();
    const benchCpu = processCpuSeconds(process.pid);
    const serverCpu = processCpuSeconds(stack.devServer.pid);
    watch.takePeaks();
    const started = performance.now();
    const { environments: _perEnvironment, ...report } = (await stack.client.workflow.execute(FLEET_MAINTENANCE, {
      taskQueue,
      workflowId: `fleet-maintenance-bench-${randomUUID()}`,
      args: [{ batchSize }],
    })) as MaintenanceReport;
    const wallSeconds = (performance.now() - started) / 1000;
    const cpuDelta = (pid: number, at: number | undefined) => {
      const after = processCpuSeconds(pid);
      return at === undefined || after === undefined ? undefined : after - at;
    };
    const cpuSeconds = {
      ...optional('benchProcess', cpuDelta(process.pid, benchCpu)),
      ...optional('temporalServer', cpuDelta(stack.devServer.pid, serverCpu)),
    };
    const byRoute: Record<string, Record<string, number>> = {};
    for (const [route, statuses] of Object.entries(stats.requests)) {
      for (const [status, count] of Object.entries(statuses)) {
        const delta = count - (before.requests[route]?.[status] ?? 0);
        if (delta > 0) (byRoute[route] ??= {})[status] = delta;
      }
    }
    const touched = new Set(
      Object.entries(stats.byEnvironment)
        .filter(([id, c]) => (c.requests ?? 0) > (before.byEnvironment[id]?.requests ?? 0))
        .map(([id]) => id),
    );
    const revokedIds = simulator.state.revokedTokenValues.slice(before.revoked).map(publicTokenId);
    touchedByRun.push(touched);
    revokedByRun.push(revokedIds);
    const created = (kind: string) => (stats.created[kind] ?? 0) - (before.created[kind] ?? 0);
    const registryTokensRevoked = revokedIds.filter((id) => dueTokenIds.has(id)).length;
    const waitingSeconds = {
      dynatrace: http().busySeconds,
      database: db().busySeconds,
      secretStore: secret().busySeconds,
    };
    const machineBusyPercent = machine();
    const result: MaintenanceRunResult = {
      name,
      wallSeconds,
      report,
      dynatrace: {
        apiRequests: stats.apiRequests - before.apiRequests,
        byRoute,
        tokensMinted: created('apiTokens'),
        tokenManagementTokensMinted: created('tokenManagementTokens'),
        tokensRevoked: created('apiTokensRevoked'),
        registryTokensRevoked,
        tokenManagementTokensRevoked: created('apiTokensRevoked') - registryTokensRevoked,
        throttled429: stats.throttled - before.throttled,
        environmentsTouched: touched.size,
        peakInFlight: watch.takePeaks(),
      },
      waitingSeconds,
      calls: { database: db().calls, secretStore: secret().calls },
      cpuSeconds,
      ...optional('machineBusyPercent', machineBusyPercent),
      binds: '',
    };
    result.binds = whatBinds(result, os.cpus().length);
    const d = result.dynatrace;
    log(
      `  ${name}: ${wallSeconds.toFixed(1)} s, ${d.apiRequests} API calls (${d.tokensMinted} mints, ` +
        `${d.tokenManagementTokensMinted} token-management mints, ${d.registryTokensRevoked} + ` +
        `${d.tokenManagementTokensRevoked} revokes, ${d.throttled429} × 429); binds: ${result.binds}`,
    );
    return result;
  };

  const runs: MaintenanceRunResult[] = [];
  try {
    runs.push(await runOnce('nothing due'));

    // Due by the data, as time passing would make them: the workflow decides by its own clock.
    const dueAt = new Date(Date.now() + DAY_MS);
    for (const id of dueIds) {
      for (const token of seededTokens.get(id)!) {
        dueTokenIds.add(token.id);
        const record = simulator.state.environments.get(id)!.tokens.get(token.id)!;
        record.expirationDate = dueAt.getTime();
      }
    }
    if (dueIds.length > 0) {
      await database.db
        .updateTable('environment_tokens')
        .set({ expires_at: dueAt })
        .where('environment_id', 'in', dueIds)
        .where('state', '=', 'current')
        .execute();
    }
    runs.push(await runOnce(`${options.duePercent} % due: rotation`));
    // Replaced tokens become revocable `revokeGraceMs` after the rotating run's start; it took longer.
    await sleep(tokenPolicy.revokeGraceMs + 100);
    runs.push(await runOnce('after the grace: revocation'));
    runs.push(await runOnce('settled'));
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
  }

  // --- what happened to each due token --------------------------------------------------------
  const rotations = (await registry.rotations(undefined, 1_000_000)).filter((r) => r.reason !== 'bench: seeded');
  const rotatedCount = new Map<string, number>();
  let rotationsOfOthers = 0;
  for (const r of rotations) {
    if (r.old_token_id && dueTokenIds.has(r.old_token_id))
      rotatedCount.set(r.old_token_id, (rotatedCount.get(r.old_token_id) ?? 0) + 1);
    else rotationsOfOthers++;
  }
  const revokedCount = new Map<string, number>();
  for (const id of revokedByRun.flat()) revokedCount.set(id, (revokedCount.get(id) ?? 0) + 1);
  const current = new Set(
    (
      await database.db.selectFrom('environment_tokens').select('token_id').where('state', '=', 'current').execute()
    ).map((r) => r.token_id),
  );
  const revokedInRegistry =
    dueTokenIds.size === 0
      ? 0
      : (
          await database.db
            .selectFrom('environment_tokens')
            .select('token_id')
            .where('token_id', 'in', [...dueTokenIds])
            .where('state', '=', 'revoked')
            .execute()
        ).length;
  const dueSet = new Set(dueIds);
  let tokenManagementTokensLeft = 0;
  let environmentsOutOfStep = 0;
  for (const id of ids) {
    const live = [...simulator.state.environments.get(id)!.tokens.values()];
    tokenManagementTokensLeft += live.filter((t) => t.kind === 'tokenManagement').length;
    const api = live.filter((t) => t.kind === 'api');
    if (api.length !== PURPOSES.length || !api.every((t) => current.has(t.id))) environmentsOutOfStep++;
  }
  const count = (map: Map<string, number>, test: (n: number) => boolean) =>
    [...dueTokenIds].filter((id) => test(map.get(id) ?? 0)).length;
  const perDueToken: MaintenanceBenchmarkResult['perDueToken'] = {
    dueTokens: dueTokenIds.size,
    rotatedOnce: count(rotatedCount, (n) => n === 1),
    rotatedMoreThanOnce: count(rotatedCount, (n) => n > 1),
    notRotated: count(rotatedCount, (n) => n === 0),
    rotationsOfOthers,
    revokedOnce: count(revokedCount, (n) => n === 1),
    revokedMoreThanOnce: count(revokedCount, (n) => n > 1),
    notRevoked: count(revokedCount, (n) => n === 0),
    // A token-management token lives for one environment's step and is never in the registry.
    othersRevoked: [...revokedCount.keys()].filter((id) => !dueTokenIds.has(id) && current.has(id)).length,
    revokedInRegistry,
    revokeNotFound: runs.reduce((n, r) => n + (r.dynatrace.byRoute[REVOKE_ROUTE]?.['404'] ?? 0), 0),
    notDueTouched: touchedByRun
      .slice(1)
      .reduce((n, touched) => n + [...touched].filter((id) => !dueSet.has(id)).length, 0),
    tokenManagementTokensLeft,
    environmentsOutOfStep,
  };

  return {
    settings: {
      environments: ids.length,
      duePercent: options.duePercent,
      dueEnvironments: dueIds.length,
      dueTokens: dueTokenIds.size,
      latencyMs: options.latencyMs,
      latencyJitterMs,
      capacityPerEnvironment: options.capacityPerEnvironment,
      batchSize,
      tokenPolicy,
      scopeCheckHours: activityDeps.maintenance.scopeCheckHours,
      worker: 'in-process Temporal worker (production activities and workflow bundle), simulator in the same process',
      database: 'embedded PGlite (fresh, on disk in a temp dir)',
      cores: os.cpus().length,
    },
    seeding,
    workerStartSeconds,
    runs,
    perDueToken,
  };
}

const optional = <K extends string>(key: K, value: number | undefined) =>
  (value === undefined ? {} : { [key]: value }) as Partial<Record<K, number>>;

/**
 * What set the pace of a run: the largest of the time spent waiting on Dynatrace, on the database, and
 * the rest. The rest is CPU when the machine was nearly saturated (ours, or other processes' when this
 * run's two used less than half of what was busy), otherwise Temporal's hand-offs between tasks.
 */
export function whatBinds(run: MaintenanceRunResult, cores: number): string {
  const wall = run.wallSeconds;
  const pct = (seconds: number) => `${Math.round((100 * seconds) / wall)} %`;
  const { dynatrace, database } = run.waitingSeconds;
  const rest = Math.max(0, wall - dynatrace - database);
  const busy = run.machineBusyPercent;
  const oursPercent =
    (100 * ((run.cpuSeconds.benchProcess ?? 0) + (run.cpuSeconds.temporalServer ?? 0))) / (wall * cores);
  const restIs =
    busy === undefined || busy < 85
      ? 'Temporal hand-offs and the worker'
      : oursPercent >= busy / 2
        ? `CPU (the ${cores} cores ${Math.round(busy)} % busy)`
        : `CPU taken by other processes (the ${cores} cores ${Math.round(busy)} % busy, this run ${Math.round(oursPercent)} %)`;
  const [name, seconds] = [
    ['Dynatrace latency', dynatrace] as const,
    ['database', database] as const,
    [restIs, rest] as const,
  ].reduce((a, b) => (b[1] > a[1] ? b : a));
  return `${name}: ${pct(seconds)} of the run`;
}
