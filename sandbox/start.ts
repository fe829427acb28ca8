import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '@temporalio/common';
import { ConfigError, loadConfig, type AutopilotConfig } from '../src/config/config.js';
import { Secret, type SecretSource } from '../src/config/secret.js';
import { withSandboxSecretKey } from '../src/secrets/sandbox-key.js';
import { seedDemoEnvironment, type DemoEnvironment } from './demo-environment.js';
import { startSandboxAws, type SandboxAws } from './sandbox-aws.js';
import { startWebhookReceiver } from '../src/webhook/start-webhook.js';
import { startDynatraceSimulator } from './dynatrace/index.js';
import { SandboxStartError, startTemporalDevServer } from './temporal-dev-server.js';
import { codecKeysFor } from '../src/codec/codec-keys.js';
import type { CodecKeyring } from '../src/codec/codec-keyring.js';
import { startCodecServer, type RunningCodecServer } from '../src/codec/start-codec-server.js';
import {
  autopilotClient,
  connectClient,
  connectWorker,
  temporalAccess,
  TemporalUnreachableError,
} from '../src/temporal/connect.js';
import { ensureSearchAttributes } from '../src/temporal/ensure-search-attributes.js';
import { installRuntime } from '../src/workers/runtime.js';
import { createAutopilotWorkers } from '../src/workers/create-worker.js';
import { fleetTaskQueue } from '../src/shared/task-queues.js';
import { openFleetDatabase } from '../src/database/open-fleet-database.js';
import { startFleetServer } from '../src/fleet-server/start-fleet-server.js';
import { buildFleetPage } from '../scripts/build-fleet-page.js';
import { EnvironmentRegistry } from '../src/registry/environment-registry.js';
import { buildActivityDeps } from '../src/workers/activity-deps.js';
import { clusterEndpoints } from '../src/workers/cluster-endpoints.js';
import { applySchedulesAtStart } from '../src/workers/apply-schedules.js';
import { startupWarnings } from '../src/workers/startup-warnings.js';
import { autopilotVersion } from '../src/version.js';
import { WorkerSelfCheck } from '../src/workflows/index.js';

type Stopper = { name: string; stop: () => Promise<void> };

/**
 * `npm start`: the whole job on one machine. Without TEMPORAL_ADDRESS it runs an embedded Temporal
 * dev server (SQLite under the data folder, Web UI); then the worker. Ctrl-C stops the worker first,
 * so in-flight activities finish or are cancelled, then everything else in reverse order.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const { embedded, sandbox } = deploymentOf(config);
  const { logger, metricsAddress } = await installRuntime(config);
  const stoppers: Stopper[] = [];
  const say = (line: string) => process.stderr.write(`autopilot: ${line}\n`);

  // npm and the terminal may both deliver the same Ctrl-C; only a deliberate second one, a moment
  // later, skips the graceful shutdown.
  let firstSignalAt: number | undefined;
  const forceOnSecondSignal = () => {
    if (firstSignalAt === undefined) {
      firstSignalAt = Date.now();
      say('shutting down (Ctrl-C again to stop immediately)');
    } else if (Date.now() - firstSignalAt > 1000) {
      say('second interrupt: stopping immediately');
      process.exit(130);
    }
  };
  process.on('SIGINT', forceOnSecondSignal);
  process.on('SIGTERM', forceOnSecondSignal);

  const stopAll = async () => {
    for (const stopper of stoppers.reverse()) {
      say(`stopping ${stopper.name}`);
      await stopper.stop().catch((err: unknown) => say(`could not stop ${stopper.name}: ${String(err)}`));
    }
  };

  try {
    const codecKeys = codecKeysFor(config, {
      generate: embedded,
      onCreate: (file) =>
        say(
          `generated a payload encryption key for the sandbox in ${rel(file)} (set AUTOPILOT_CODEC_KEYS in production)`,
        ),
    });
    const codec = embedded ? await embeddedUiCodecServer(config, codecKeys, logger, stoppers, sandbox) : undefined;
    const { address, uiUrl } = await temporalServer(config, stoppers, say, codec);
    const access = { ...temporalAccess(config), address };
    const dynatrace = await dynatraceCluster(config, stoppers, say);
    const sandboxAws = sandbox ? await awsSandbox(config, stoppers, say) : undefined;

    const nativeConnection = await connectWorker(access);
    stoppers.push({ name: 'worker connection', stop: () => nativeConnection.close() });
    const identity = `${process.pid}@${os.hostname()}`;
    withSandboxSecretKey(config, (file) =>
      say(`generated a secret-store key for the sandbox in ${rel(file)} (set AUTOPILOT_SECRET_KEY in production)`),
    );
    if (dynatrace.simulated) sandboxWebhookSettings(config, say);
    config.dynatrace.installerCaFile ??= dynatrace.installerCaFile;
    const database = await openFleetDatabase({
      ...(config.database.url ? { url: config.database.url.reveal() } : {}),
      embeddedDir: config.database.embeddedDir,
    });
    stoppers.push({ name: 'fleet database', stop: () => database.close() });
    // The worker's registry, shared with the webhook receiver and the fleet server in this process.
    const registry = new EnvironmentRegistry(database.db);
    const activityDeps = buildActivityDeps(config, {
      identity,
      clusters: clusterEndpoints(config, dynatrace.simulated ? dynatrace : undefined),
      registry,
      databaseKind: database.kind,
      ...(sandboxAws ? { aws: sandboxAws.clients } : {}),
      sandbox,
    });
    for (const warning of startupWarnings(config, { sandbox })) say(`WARNING: ${warning}`);
    const workers = await createAutopilotWorkers({
      config,
      connection: nativeConnection,
      codecKeys,
      activityDeps,
      acceptUnsealedPayloads: config.codec.acceptUnsealedPayloads,
    });
    const running = workers.run();

    const connection = await connectClient(access);
    stoppers.push({ name: 'client connection', stop: () => connection.close() });
    const client = autopilotClient(connection, config.temporal.namespace, codecKeys);
    await applySchedulesAtStart(client, config, logger);
    const started = Date.now();
    await client.workflow.execute(WorkerSelfCheck, {
      taskQueue: config.temporal.taskQueue,
      workflowId: `self-check:${config.temporal.taskQueue}:${new Date().toISOString()}`,
      staticSummary: `Start-up self-check of worker ${identity}`,
      workflowExecutionTimeout: '1 minute',
    });

    const webhook = config.webhook.apiKey
      ? await startWebhookReceiver(config, client, logger, { registry })
      : undefined;
    if (webhook) stoppers.push({ name: 'webhook receiver', stop: () => webhook.stop() });
    const fleetPageDir = path.join(config.dataDir, 'fleet-page');
    await buildFleetPage({ outDir: fleetPageDir });
    // The embedded database belongs to this process, so the fleet server runs in it too.
    const fleet = await startFleetServer(
      config,
      { dynatrace: activityDeps.dynatrace, client, logger },
      { sandbox, pageDir: fleetPageDir, ...(uiUrl ? { temporalUiUrl: uiUrl } : {}) },
    );
    stoppers.push({ name: 'fleet server', stop: () => fleet.stop() });
    let demo: DemoEnvironment | undefined;
    if (dynatrace.simulated && sandboxAws) {
      demo = await seedDemoEnvironment({
        client,
        taskQueue: config.temporal.taskQueue,
        simulatorUrl: dynatrace.url,
        instanceId: sandboxAws.demo.instances[0]!.instanceId,
        instanceType: 't3.micro',
      }).catch((err: unknown) => {
        say(`could not prepare the self-healing demo: ${err instanceof Error ? err.message : String(err)}`);
        return undefined;
      });
    }

    const lines = [
      `Dynatrace Autopilot ${autopilotVersion} is running${sandbox ? ' (sandbox mode)' : ''}`,
      `  Temporal     ${address}${embedded ? ` (embedded dev server, data in ${rel(config.dataDir)})` : ''}`,
      ...(uiUrl ? [`  Temporal UI  ${uiUrl}${codec ? ` (payloads decrypted by ${codec.endpoint})` : ''}`] : []),
      `  Encryption   payloads AES-256-GCM, key ${codecKeys.primary.id}${codecKeys.ids.length > 1 ? ` (+${codecKeys.ids.length - 1} for reading)` : ''}; ${config.codec.acceptUnsealedPayloads ? 'PLAIN PAYLOADS ACCEPTED (AUTOPILOT_ACCEPT_UNSEALED_PAYLOADS)' : 'only sealed calls steer the worker'}`,
      `  Dynatrace    ${dynatrace.url}${dynatrace.simulated ? ` (SIMULATOR, not a real cluster; cluster token in ${rel(dynatrace.tokenFile!)})` : ''}`,
      ...(sandboxAws
        ? [
            `  AWS          ${sandboxAws.moto.url} (moto: EC2, S3, SSM) + ${sandboxAws.catalog.url} (Service Catalog emulator)`,
          ]
        : []),
      ...(webhook
        ? [`  Webhook      ${webhook.url}/webhooks/dynatrace/<environmentId>`]
        : ['  Webhook      off (set WEBHOOK_API_KEY to receive problem notifications)']),
      `  Fleet        ${fleet.url} (status page, /fleet/api, /metrics; scanned every ${config.fleetScan.intervalSeconds} s)`,
      `  Task queue   ${config.temporal.taskQueue}, fleets on ${fleetTaskQueue(config.temporal.taskQueue)} (namespace ${config.temporal.namespace})`,
      ...(metricsAddress ? [`  Metrics      http://${metricsAddress}/metrics`] : []),
      `  Worker       ${identity}, self-check passed in ${Date.now() - started} ms`,
      ...(demo && sandboxAws
        ? [
            `  Demo         ${demo.hostName} in ${demo.environmentId} runs on EC2 ${sandboxAws.demo.instances[0]!.instanceId} (t3.micro) from product ${sandboxAws.demo.productId}`,
            `               try: ./bin/autopilot simulate-cpu --host ${demo.hostName} --times 3`,
          ]
        : []),
      'Press Ctrl-C to stop.',
    ];
    process.stderr.write(lines.join('\n') + '\n');
    logger.info('Autopilot started', { address, namespace: config.temporal.namespace, embedded });

    await running;
    say('worker stopped');
  } finally {
    await stopAll();
  }
  say('stopped');
}

const rel = (p: string) => path.relative(process.cwd(), p) || '.';

/**
 * The sandbox is both stand-ins, Temporal's and Dynatrace's. Anything else is production, where
 * every listener needs its credential and production's refusals hold; a real cluster with the
 * embedded dev server, which takes no credential, is refused before anything starts.
 */
function deploymentOf(config: AutopilotConfig): { embedded: boolean; sandbox: boolean } {
  const embedded = !config.temporal.address;
  const realCluster = Boolean(config.dynatrace.clusterUrl) || (config.dynatrace.clustersFile ?? []).length > 0;
  if (embedded && realCluster) {
    throw new ConfigError(
      'TEMPORAL_ADDRESS',
      'is required with a real cluster (DT_CLUSTER_URL or AUTOPILOT_CLUSTERS_FILE): the embedded Temporal dev server takes no credential, so point TEMPORAL_ADDRESS at a server that authenticates its clients (TLS client certificates or an API key, see TEMPORAL_TLS_*)',
    );
  }
  const sandbox = embedded && !realCluster;
  if (config.codec.acceptUnsealedPayloads && !sandbox) {
    throw new ConfigError(
      'AUTOPILOT_ACCEPT_UNSEALED_PAYLOADS',
      'is honoured only by the sandbox (no TEMPORAL_ADDRESS, no DT_CLUSTER_URL): with a real server or cluster the worker acts only on sealed payloads',
    );
  }
  return { embedded, sandbox };
}

/**
 * Sandbox self-healing: without AWS_REGION, AWS is moto plus our Service Catalog emulator, seeded
 * with a product the demo host was launched from.
 */
async function awsSandbox(
  config: AutopilotConfig,
  stoppers: Stopper[],
  say: (line: string) => void,
): Promise<SandboxAws | undefined> {
  if (config.aws.region) return undefined;
  say(`starting moto on 127.0.0.1:${config.sandboxMotoPort} and the Service Catalog emulator (AWS_REGION is not set)`);
  config.remediation.templateBucket ??= 'autopilot-sandbox-templates';
  const aws = await startSandboxAws({
    projectRoot: config.projectRoot,
    motoPort: config.sandboxMotoPort,
    bucket: config.remediation.templateBucket,
    approvedTypesParameter: config.remediation.approvedTypesParameter,
  });
  stoppers.push({ name: 'AWS emulators', stop: () => aws.stop() });
  return aws;
}

/** The sandbox receives its own environments' notifications: a key of its own and a local URL. */
function sandboxWebhookSettings(config: AutopilotConfig, say: (line: string) => void): void {
  if (!config.webhook.apiKey) {
    const file = path.join(config.dataDir, 'webhook-api-key');
    if (!existsSync(file)) {
      writeFileSync(file, randomBytes(24).toString('base64url') + '\n', { mode: 0o600 });
      say(`generated a webhook key for the sandbox in ${rel(file)} (set WEBHOOK_API_KEY in production)`);
    }
    config.webhook.apiKey = new Secret(readFileSync(file, 'utf8').trim());
  }
  config.webhook.publicUrl ??= `http://${config.webhook.host}:${config.webhook.port}`;
}

interface DynatraceEndpoint {
  url: string;
  clusterToken: SecretSource;
  simulated: boolean;
  tokenFile?: string;
  /** The simulator's installer signing certificate: its installers are verified like Dynatrace's. */
  installerCaFile?: string;
}

/**
 * Without DT_CLUSTER_URL, a Managed simulator stands in for the cluster (state kept in the data
 * folder next to Temporal's, so both survive a restart together).
 */
async function dynatraceCluster(
  config: AutopilotConfig,
  stoppers: Stopper[],
  say: (line: string) => void,
): Promise<DynatraceEndpoint> {
  if (config.dynatrace.clusterUrl && config.dynatrace.clusterToken) {
    return { url: config.dynatrace.clusterUrl, clusterToken: config.dynatrace.clusterToken, simulated: false };
  }
  say(
    `starting the Dynatrace Managed simulator on 127.0.0.1:${config.dynatrace.simulatorPort} (DT_CLUSTER_URL is not set)`,
  );
  let simulator;
  try {
    simulator = await startDynatraceSimulator({
      port: config.dynatrace.simulatorPort,
      stateFile: path.join(config.dataDir, 'dynatrace-simulator.json'),
      clusterTokens: [{ name: 'autopilot', scopes: ['ServiceProviderAPI', 'EnvironmentTokenManagement'] }],
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new SandboxStartError(
        `port ${config.dynatrace.simulatorPort} is already in use; set AUTOPILOT_SIMULATOR_PORT (or DT_CLUSTER_URL for a real cluster)`,
      );
    }
    throw err;
  }
  stoppers.push({ name: 'Dynatrace simulator', stop: () => simulator.stop() });
  const tokenFile = path.join(config.dataDir, 'simulator-cluster-token');
  writeFileSync(tokenFile, simulator.clusterTokens.autopilot! + '\n', { mode: 0o600 });
  return {
    url: simulator.url,
    clusterToken: new Secret(simulator.clusterTokens.autopilot!),
    simulated: true,
    tokenFile,
    installerCaFile: simulator.installerCaFile,
  };
}

/**
 * The embedded UI shows payloads in clear through this codec server: on loopback, and without a
 * credential only in the sandbox.
 */
async function embeddedUiCodecServer(
  config: AutopilotConfig,
  keys: CodecKeyring,
  logger: Logger,
  stoppers: Stopper[],
  sandbox: boolean,
): Promise<RunningCodecServer> {
  const codec = await startCodecServer(config, keys, logger, { sandbox });
  stoppers.push({ name: 'codec server', stop: () => codec.stop() });
  return codec;
}

async function temporalServer(
  config: AutopilotConfig,
  stoppers: Stopper[],
  say: (line: string) => void,
  codec: RunningCodecServer | undefined,
): Promise<{ address: string; uiUrl?: string }> {
  if (config.temporal.address) return { address: config.temporal.address };
  say(`starting the embedded Temporal dev server on 127.0.0.1:${config.devServer.port}`);
  const server = await startTemporalDevServer({
    cliPath: config.devServer.cliPath,
    dataDir: config.dataDir,
    port: config.devServer.port,
    uiPort: config.devServer.uiPort,
    namespace: config.temporal.namespace,
    onNotice: say,
    ...(codec ? { extraArgs: ['--ui-codec-endpoint', codec.endpoint] } : {}),
  });
  stoppers.push({ name: 'Temporal dev server', stop: () => server.stop() });
  const connection = await connectClient({ ...temporalAccess(config), address: server.address });
  try {
    const added = await ensureSearchAttributes(connection, config.temporal.namespace);
    if (added.length > 0) say(`registered search attributes ${added.join(', ')}`);
  } finally {
    await connection.close();
  }
  return { address: server.address, uiUrl: server.uiUrl };
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    if (err instanceof ConfigError || err instanceof SandboxStartError || err instanceof TemporalUnreachableError) {
      process.stderr.write(`autopilot: ${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`autopilot: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
