import { InstallSlots } from '../../src/fleet/install-slots.js';
import { MemoryLeaseBook } from '../../src/fleet/install-slot-leases.js';
import { FleetHistory } from '../../src/fleet/fleet-history.js';
import { StandardsStore } from '../../src/standards/standards-store.js';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment, type TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { Executors } from '../../src/activities/enrollment/host-failure.js';
import { createDynatraceAccess, type DynatraceAccess } from '../../src/activities/dynatrace-access.js';
import type { TokenPolicy } from '../../src/activities/tokens/token-keeper.js';
import { createActivities, type ActivityDeps } from '../../src/activities/index.js';
import { Secret, type SecretSource } from '../../src/config/secret.js';
import { openFleetDatabase, type FleetDatabase } from '../../src/database/open-fleet-database.js';
import { DynatraceClients } from '../../src/dynatrace/dynatrace-clients.js';
import { HostLookupBatcher } from '../../src/dynatrace/host-lookup-batcher.js';
import { LocalExecutor } from '../../src/hosts/local-executor.js';
import { FolderInstallerStore } from '../../src/installers/folder-installer-store.js';
import type { InstallerStore } from '../../src/installers/installer-store.js';
import { installerTrustOf, type InstallerTrust } from '../../src/installers/installer-trust.js';
import { FolderInventoryStore } from '../../src/inventory/folder-inventory-store.js';
import type { SimulatorKnobsInput } from '../../sandbox/dynatrace/index.js';
import { FileSecretStore } from '../../src/secrets/file-secret-store.js';
import type { SecretStore } from '../../src/secrets/secret-store.js';
import { EnvironmentRegistry } from '../../src/registry/environment-registry.js';
import { hostLookup } from '../../src/workers/activity-deps.js';
import type { TestAws } from './aws.js';
import { caOf, startTestCluster, type TestCluster } from './simulator.js';
import { connectToTestServer, createTestWorker, uniqueTaskQueue } from './temporal.js';
import { fleetTaskQueue } from '../../src/shared/task-queues.js';

/** Runs activities outside a worker (heartbeats and logs go nowhere), for tests that call them one by one. */
export function quietActivityEnvironment(): MockActivityEnvironment {
  const quiet = () => undefined;
  return new MockActivityEnvironment(undefined, {
    logger: { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: quiet, error: quiet },
  });
}

/** The tokens tests mint by, unless they say otherwise (the worker's defaults). */
export const TEST_TOKEN_POLICY: TokenPolicy = { validityDays: 30, rotateBeforeDays: 7, revokeGraceMs: 2 * 3_600_000 };

/** Dynatrace as a worker reaches it: the simulator as cluster `default`, the registry, the secret store. */
export function testDynatraceAccess(options: {
  dt: TestCluster;
  registry: EnvironmentRegistry;
  secrets: SecretStore;
  clusterToken?: SecretSource;
  tokenPolicy?: TokenPolicy;
  /** Whether the clients may speak plain http (the sandbox's); default: yes, as in-process tests run as the sandbox. */
  sandbox?: boolean;
  /** AUTOPILOT_SAAS_DOMAINS; default Dynatrace's (a test with a SaaS simulator adds `localhost`). */
  saasDomains?: readonly string[];
}): DynatraceAccess {
  return createDynatraceAccess({
    clients: new DynatraceClients(
      [
        {
          name: 'default',
          url: options.dt.simulator.url,
          token: options.clusterToken ?? new Secret(options.dt.clusterToken),
          ...caOf(options.dt.simulator),
          maxConcurrentRequests: 50,
          maxConcurrentRequestsPerEnvironment: 5,
        },
      ],
      {
        requestTimeoutMs: 30_000,
        maxConcurrentPerEnvironment: 5,
        sandbox: options.sandbox ?? true,
        ...(options.saasDomains ? { saasDomains: options.saasDomains } : {}),
      },
    ),
    registry: options.registry,
    secrets: options.secrets,
    tokenPolicy: options.tokenPolicy ?? TEST_TOKEN_POLICY,
  });
}

/** The activities' dependencies, all real: simulator client, encrypted secret store, caches, local hosts. */
export function testActivityDeps(options: {
  dt: TestCluster;
  dir: string;
  registry: EnvironmentRegistry;
  secretKey?: Buffer;
  clusterToken?: SecretSource;
  tokenPolicy?: TokenPolicy;
  webhook?: ActivityDeps['webhook'];
  executors?: Partial<Executors>;
  aws?: TestAws;
  /** A worker's installer store (a shared bucket); its own folder otherwise. */
  installers?: InstallerStore;
  /** In-process tests run as the sandbox does (local hosts, the simulator over http) unless they say otherwise. */
  sandbox?: boolean;
  /** AUTOPILOT_SAAS_DOMAINS; default Dynatrace's. */
  saasDomains?: readonly string[];
  /**
   * As a worker derives it from DT_INSTALLER_CA_FILE, AUTOPILOT_INSTALLER_SIGNATURE and `sandbox`;
   * by default the sandbox's (the shape) or, outside it, verified against the simulator's certificate
   * as production-mode test processes are configured.
   */
  installerTrust?: InstallerTrust;
}): ActivityDeps {
  const sandbox = options.sandbox ?? true;
  const defaultExecutor = options.executors?.default ?? 'local';
  const secrets = new FileSecretStore(path.join(options.dir, 'secrets'), options.secretKey ?? randomBytes(32));
  const dynatrace = testDynatraceAccess({
    dt: options.dt,
    registry: options.registry,
    secrets,
    ...(options.clusterToken ? { clusterToken: options.clusterToken } : {}),
    ...(options.tokenPolicy ? { tokenPolicy: options.tokenPolicy } : {}),
    sandbox,
    ...(options.saasDomains ? { saasDomains: options.saasDomains } : {}),
  });
  return {
    sandbox,
    identity: 'test-worker',
    version: 'test',
    startedAt: new Date(),
    dynatrace,
    secrets,
    installers: options.installers ?? new FolderInstallerStore(path.join(options.dir, 'installers')),
    installerTrust:
      options.installerTrust ??
      installerTrustOf({
        caFile: sandbox ? undefined : options.dt.simulator.installerCaFile,
        signature: 'verify',
        sandbox,
      }),
    installSlots: new InstallSlots(new MemoryLeaseBook()),
    webhook: options.webhook ?? { publicUrl: undefined, apiKey: undefined },
    // The local executor is always there, so a test can show that a refused one ran nothing; whether
    // an input may choose it follows the worker's rule (hosts/create-executors.ts).
    executors: {
      local: new LocalExecutor({ rootDir: path.join(options.dir, 'hosts') }),
      localAllowed: sandbox || defaultExecutor === 'local',
      ...options.executors,
      default: defaultExecutor,
    },
    hostLookup: new HostLookupBatcher(hostLookup(dynatrace.environments), 500),
    reportingPollMs: 200,
    maintenance: { scopeCheckHours: 24 },
    fleetHistory: new FleetHistory(options.registry.db),
    standards: new StandardsStore(options.registry.db),
    // The test's database is embedded, as in the sandbox, where inventories are files.
    inventories: new FolderInventoryStore(path.join(options.dir, 'inventories')),
    aws: options.aws?.clients,
    catalog: {
      approvedTypesParameter: options.aws?.approvedTypesParameter ?? '/dynatrace/approvedinstancetypes',
      templateBucket: options.aws?.bucket,
    },
  };
}

/** A fleet database of the test's own (embedded, on disk in `dir`), closed with the test. */
export async function testFleetDatabase(dir: string): Promise<FleetDatabase & { registry: EnvironmentRegistry }> {
  const database = await openFleetDatabase({ embeddedDir: path.join(dir, 'fleet-db') });
  return { ...database, registry: new EnvironmentRegistry(database.db) };
}

export interface Testbed {
  env: TestWorkflowEnvironment;
  dt: TestCluster;
  deps: ActivityDeps;
  registry: EnvironmentRegistry;
  taskQueue: string;
  dir: string;
  /** A worker with the real activities (real simulator, real secret store, real installer cache). */
  worker(overrides?: Partial<ActivityDeps>): Promise<Worker>;
  teardown(): Promise<void>;
}

/**
 * The real thing end to end: Temporal dev server, Managed simulator, secret store, installer cache.
 * Every test file shares the one Temporal server, and workflow ids derive from customers and hosts:
 * each file uses customer ids of its own, or runs find another file's completed workflows.
 */
export async function startTestbed(
  options: {
    knobs?: SimulatorKnobsInput;
    clusterToken?: SecretSource;
    webhook?: ActivityDeps['webhook'];
    executors?: Partial<Executors>;
    aws?: TestAws;
    secretKey?: Buffer;
    /** The simulator over https, for tests that also run production processes against it. */
    tls?: boolean;
    /** AUTOPILOT_SAAS_DOMAINS of the testbed's activities; default Dynatrace's. */
    saasDomains?: readonly string[];
    /** A production worker's rules (no local executor from input, installers verified) instead of the sandbox's. */
    sandbox?: boolean;
    installerTrust?: InstallerTrust;
  } = {},
): Promise<Testbed> {
  const env = await connectToTestServer();
  const dt = await startTestCluster({
    ...(options.knobs ? { knobs: options.knobs } : {}),
    ...(options.tls ? { tls: true } : {}),
  });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-testbed-'));
  const database = await testFleetDatabase(dir);
  const deps = testActivityDeps({
    dt,
    dir,
    registry: database.registry,
    ...(options.clusterToken ? { clusterToken: options.clusterToken } : {}),
    ...(options.webhook ? { webhook: options.webhook } : {}),
    ...(options.executors ? { executors: options.executors } : {}),
    ...(options.aws ? { aws: options.aws } : {}),
    ...(options.secretKey ? { secretKey: options.secretKey } : {}),
    ...(options.saasDomains ? { saasDomains: options.saasDomains } : {}),
    ...(options.sandbox !== undefined ? { sandbox: options.sandbox } : {}),
    ...(options.installerTrust ? { installerTrust: options.installerTrust } : {}),
  });
  const taskQueue = uniqueTaskQueue('testbed');
  let previous: Worker | undefined;
  // Fleets run on their coordinators' queue, as with the product's workers: a worker there runs in
  // the background next to each worker a test asks for.
  let fleets: { worker: Worker; running: Promise<void> } | undefined;
  const stopWorkers = async () => {
    if (previous) await stopWorker(previous);
    if (fleets) {
      await stopWorker(fleets.worker);
      await fleets.running;
    }
  };
  return {
    env,
    dt,
    deps,
    registry: database.registry,
    taskQueue,
    dir,
    async worker(overrides = {}) {
      // A test that timed out leaves its worker polling; one failure must not fail every later test.
      await stopWorkers();
      const activities = createActivities({ ...deps, ...overrides });
      previous = await createTestWorker(env, { taskQueue, activities });
      const fleetWorker = await createTestWorker(env, { taskQueue: fleetTaskQueue(taskQueue), activities });
      fleets = { worker: fleetWorker, running: fleetWorker.run().catch(() => undefined) };
      return previous;
    },
    async teardown() {
      await stopWorkers();
      await dt.stop();
      await database.close();
      await env.teardown();
    },
  };
}

async function stopWorker(worker: Worker): Promise<void> {
  if (worker.getState() === 'RUNNING') worker.shutdown();
  const deadline = Date.now() + 30_000;
  while (!['STOPPED', 'FAILED', 'INITIALIZED'].includes(worker.getState()) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
}
