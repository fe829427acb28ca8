import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import type { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { parseCodecKeys, type CodecKeyring } from '../../src/codec/codec-keyring.js';
import { autopilotClient, connectClient } from '../../src/temporal/connect.js';
import { startDynatraceSimulator, type DynatraceSimulator, type SimulatorKnobsInput } from '../dynatrace/index.js';
import { freePort } from '../free-port.js';
import { environmentWithoutSettings } from '../process-env.js';
import { startPostgresServer, type PostgresServer } from '../postgres-server.js';
import { startSandboxAws, type SandboxAws } from '../sandbox-aws.js';
import { startServiceProcess, type ServiceProcess } from './service-process.js';
import { startTemporalServer, type RunningTemporalServer } from './temporal-server.js';
import { startTemporalUi, temporalUiServerPath, type TemporalUi } from './temporal-ui.js';

export interface ProductionClusterOptions {
  projectRoot: string;
  /** Everything the cluster keeps: PostgreSQL's data, the server's config, each process's own folder, logs. */
  dir: string;
  workers: number;
  namespace?: string;
  taskQueue?: string;
  /** Start the Temporal UI server when it has been built (default true). */
  ui?: boolean;
  /** Settings for every worker on top of the cluster's own (the benchmark's install time, slots). */
  workerEnv?: Record<string, string>;
  simulatorKnobs?: SimulatorKnobsInput;
  log?: (line: string) => void;
}

/** One Autopilot process of the cluster, restartable after a kill. */
export interface ClusterProcess {
  name: string;
  current(): ServiceProcess;
  start(): Promise<ServiceProcess>;
  kill(signal: NodeJS.Signals): Promise<number>;
}

export interface ProductionCluster {
  dir: string;
  namespace: string;
  taskQueue: string;
  postgres: PostgresServer;
  /** The fleet database every Autopilot process shares (and nothing else). */
  databaseUrl: string;
  temporal: RunningTemporalServer;
  ui?: TemporalUi;
  simulator: DynatraceSimulator;
  aws: SandboxAws;
  installerBucket: string;
  workers: ClusterProcess[];
  webhook: ClusterProcess & { url: string; apiKey: string };
  codec: ClusterProcess & { endpoint: string; authToken: string };
  /** The fleet server at `url` (its public URL), with a token that reads and one that also writes. */
  fleet: ClusterProcess & { url: string; readToken: string; writeToken: string };
  codecKeys: CodecKeyring;
  connection: Connection;
  client: Client;
  /** The environment of another Autopilot process (the CLI, a fifth worker) of this cluster. */
  processEnv(extra?: Record<string, string>): Record<string, string | undefined>;
  stop(): Promise<void>;
}

/**
 * The production topology of docker-compose.yml as native processes on one machine: PostgreSQL from
 * Debian's packages, the Temporal server built from its Go module, the official UI, and the
 * production build (dist/) of N workers, the webhook receiver, the codec server and the fleet server.
 * Like containers, the Autopilot processes share no folder: the fleet database, the SSM secret store
 * and the installer bucket are services (moto stands in for AWS, the simulator for Dynatrace).
 */
export async function startProductionCluster(options: ProductionClusterOptions): Promise<ProductionCluster> {
  const log = options.log ?? (() => undefined);
  const namespace = options.namespace ?? 'default';
  const taskQueue = options.taskQueue ?? 'dynatrace-autopilot';
  const dir = options.dir;
  mkdirSync(path.join(dir, 'logs'), { recursive: true });
  // As root, PostgreSQL runs as the postgres user, who must be able to reach its data folder in here
  // (a mkdtemp folder is 0700).
  chmodSync(dir, 0o755);
  const stops: { name: string; stop: () => Promise<unknown> }[] = [];
  const stopAll = async () => {
    for (const s of stops.reverse()) await s.stop().catch(() => undefined);
  };

  try {
    mkdirSync(path.join(dir, 'postgres'), { mode: 0o700 });
    const postgres = await startPostgresServer({ dataDir: path.join(dir, 'postgres'), database: 'autopilot' });
    stops.push({ name: 'PostgreSQL', stop: () => postgres.stop() });
    const pgPort = Number(new URL(postgres.url).port);
    log(`PostgreSQL on 127.0.0.1:${pgPort} (data in ${path.join(dir, 'postgres')})`);

    const temporal = await startTemporalServer({
      projectRoot: options.projectRoot,
      dir: path.join(dir, 'temporal'),
      postgres: { host: '127.0.0.1', port: pgPort, user: 'autopilot' },
      namespace,
      log,
    });
    stops.push({ name: 'Temporal server', stop: () => temporal.stop() });

    // Over https, as production processes take no plain-http cluster; they trust its certificate by DT_CA_CERT_FILE.
    const simulator = await startDynatraceSimulator({
      tls: true,
      ...(options.simulatorKnobs ? { knobs: options.simulatorKnobs } : {}),
      clusterTokens: [{ name: 'autopilot', scopes: ['ServiceProviderAPI', 'EnvironmentTokenManagement'] }],
    });
    stops.push({ name: 'Dynatrace simulator', stop: () => simulator.stop() });
    log(`Dynatrace Managed simulator at ${simulator.url}`);

    const aws = await startSandboxAws({
      projectRoot: options.projectRoot,
      motoPort: await freePort(),
      bucket: 'autopilot-templates',
      approvedTypesParameter: '/autopilot/approved-instance-types',
    });
    stops.push({ name: 'AWS emulators', stop: () => aws.stop() });
    const installerBucket = 'autopilot-installers';
    await aws.clients.s3.send(new CreateBucketCommand({ Bucket: installerBucket }));
    log(`AWS: moto at ${aws.moto.url}, Service Catalog emulator at ${aws.catalog.url}`);

    // Secrets reach every process as files, as compose mounts them; none is a shared working folder.
    const secretsDir = path.join(dir, 'secrets');
    mkdirSync(secretsDir, { recursive: true, mode: 0o700 });
    const secretFile = (name: string, value: string) => {
      const file = path.join(secretsDir, name);
      writeFileSync(file, value + '\n', { mode: 0o600 });
      return file;
    };
    const codecKeysText = `cluster:${randomBytes(32).toString('base64')}`;
    const codecKeys = parseCodecKeys(codecKeysText, 'AUTOPILOT_CODEC_KEYS');
    const webhookKey = randomBytes(24).toString('base64url');
    const codecToken = randomBytes(24).toString('base64url');
    const fleetReadToken = randomBytes(24).toString('base64url');
    const fleetWriteToken = randomBytes(24).toString('base64url');
    const files = {
      codecKeys: secretFile('codec-keys', codecKeysText),
      clusterToken: secretFile('dt-cluster-token', simulator.clusterTokens.autopilot!),
      webhookKey: secretFile('webhook-api-key', webhookKey),
      codecToken: secretFile('codec-auth-token', codecToken),
      fleetReadToken: secretFile('fleet-read-token', fleetReadToken),
      fleetWriteToken: secretFile('fleet-write-token', fleetWriteToken),
      databaseUrl: secretFile('database-url', postgres.url),
    };
    const [webhookPort, codecPort, fleetPort, uiPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const webhookUrl = `http://127.0.0.1:${webhookPort}`;

    const processEnv = (extra: Record<string, string> = {}): Record<string, string | undefined> => {
      return {
        ...environmentWithoutSettings(),
        NODE_ENV: 'production',
        TEMPORAL_ADDRESS: temporal.address,
        TEMPORAL_NAMESPACE: namespace,
        AUTOPILOT_TASK_QUEUE: taskQueue,
        AUTOPILOT_CODEC_KEYS_FILE: files.codecKeys,
        AUTOPILOT_DATABASE_URL_FILE: files.databaseUrl,
        AUTOPILOT_LOG_LEVEL: 'INFO',
        DT_CLUSTER_URL: simulator.url,
        DT_CA_CERT_FILE: simulator.caFile!,
        DT_CLUSTER_TOKEN_FILE: files.clusterToken,
        // The simulator's signing certificate stands in for Dynatrace's root CA.
        DT_INSTALLER_CA_FILE: simulator.installerCaFile,
        AUTOPILOT_SECRET_STORE: 'ssm',
        AUTOPILOT_SSM_PREFIX: '/dynatrace-autopilot',
        AUTOPILOT_INSTALLER_BUCKET: installerBucket,
        AWS_REGION: 'us-east-1',
        AWS_ENDPOINT_URL: aws.moto.url,
        AWS_ENDPOINT_URL_SERVICE_CATALOG: aws.catalog.url,
        AWS_ACCESS_KEY_ID: 'sandbox',
        AWS_SECRET_ACCESS_KEY: 'sandbox',
        REMEDIATION_TEMPLATE_BUCKET: aws.bucket,
        REMEDIATION_APPROVED_TYPES_PARAMETER: aws.approvedTypesParameter,
        WEBHOOK_API_KEY_FILE: files.webhookKey,
        AUTOPILOT_WEBHOOK_PUBLIC_URL: webhookUrl,
        // The hosts are simulated by the local executor: this folder is the world the workers act
        // on (the machines), not state of theirs.
        AUTOPILOT_HOST_EXECUTOR: 'local',
        AUTOPILOT_LOCAL_HOSTS_DIR: path.join(dir, 'hosts'),
        ...extra,
      };
    };

    const connection = await connectClient({ address: temporal.address, namespace });
    stops.push({ name: 'client connection', stop: () => connection.close() });
    const client = autopilotClient(connection, namespace, codecKeys);
    // Workers may log at WARN (thousands of hosts at INFO cost real CPU): a worker is ready when the
    // server sees it poll.
    const polling = async (service: ServiceProcess) => {
      const { pollers } = await connection.workflowService.describeTaskQueue({
        namespace,
        taskQueue: { name: taskQueue },
        taskQueueType: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
      });
      return (pollers ?? []).some((p) => p.identity?.startsWith(`${service.pid}@`));
    };

    const node = process.execPath;
    const managed = (
      name: string,
      script: string,
      env: () => Promise<Record<string, string | undefined>>,
      ready: RegExp | ((service: ServiceProcess) => Promise<boolean>),
    ): ClusterProcess => {
      let current: ServiceProcess | undefined;
      const proc: ClusterProcess = {
        name,
        current: () => {
          if (!current) throw new Error(`${name} was never started`);
          return current;
        },
        async start() {
          current = await startServiceProcess({
            name,
            command: node,
            args: [path.join(options.projectRoot, 'dist', script)],
            env: await env(),
            cwd: options.projectRoot,
            logFile: path.join(dir, 'logs', `${name}.log`),
          });
          if (ready instanceof RegExp) await current.waitForOutput(ready, 120_000);
          else await current.waitUntil(() => ready(current!), 120_000);
          return current;
        },
        kill: (signal) => proc.current().kill(signal),
      };
      stops.push({ name, stop: () => current?.stop() ?? Promise.resolve() });
      return proc;
    };

    const workers = Array.from({ length: options.workers }, (_, i) =>
      managed(
        `worker-${i + 1}`,
        'workers/main.js',
        async () =>
          processEnv({
            // Each worker's own folders, as a container's would be: local installer staging and
            // its data folder; nothing in them is read by another process.
            AUTOPILOT_DATA_DIR: path.join(dir, `worker-${i + 1}`, 'data'),
            AUTOPILOT_INSTALLER_CACHE_DIR: path.join(dir, `worker-${i + 1}`, 'installers'),
            // Several workers on one host: each its own Prometheus port.
            AUTOPILOT_METRICS_ADDRESS: `127.0.0.1:${await freePort()}`,
            ...(options.workerEnv ?? {}),
          }),
        polling,
      ),
    );
    for (const w of workers) {
      await w.start();
      log(`${w.name}: pid ${w.current().pid}`);
    }

    const webhook = Object.assign(
      managed(
        'webhook',
        'webhook/main.js',
        async () =>
          processEnv({
            AUTOPILOT_WEBHOOK_HOST: '127.0.0.1',
            AUTOPILOT_WEBHOOK_PORT: String(webhookPort),
          }),
        /Webhook receiver (started|listening)/i,
      ),
      { url: webhookUrl, apiKey: webhookKey },
    );
    const codec = Object.assign(
      managed(
        'codec',
        'codec/main.js',
        async () =>
          processEnv({
            AUTOPILOT_CODEC_HOST: '127.0.0.1',
            AUTOPILOT_CODEC_PORT: String(codecPort),
            AUTOPILOT_CODEC_AUTH_TOKEN_FILE: files.codecToken,
            // The browser calls the codec server from the UI's page.
            AUTOPILOT_CODEC_UI_ORIGINS: `http://127.0.0.1:${uiPort},http://localhost:${uiPort}`,
          }),
        /Codec server started/,
      ),
      { endpoint: `http://127.0.0.1:${codecPort}/codec`, authToken: codecToken },
    );
    const fleet = Object.assign(
      managed(
        'fleet',
        'fleet-server/main.js',
        async () =>
          processEnv({
            AUTOPILOT_FLEET_HOST: '127.0.0.1',
            AUTOPILOT_FLEET_PORT: String(fleetPort),
            AUTOPILOT_FLEET_PUBLIC_URL: `http://127.0.0.1:${fleetPort}`,
            AUTOPILOT_FLEET_READ_TOKEN_FILE: files.fleetReadToken,
            AUTOPILOT_FLEET_WRITE_TOKEN_FILE: files.fleetWriteToken,
            AUTOPILOT_FLEET_PAGE_DIR: path.join(options.projectRoot, 'dist', 'fleet-page'),
          }),
        /Fleet server started/,
      ),
      { url: `http://127.0.0.1:${fleetPort}`, readToken: fleetReadToken, writeToken: fleetWriteToken },
    );
    await codec.start();
    await webhook.start();
    await fleet.start();

    let ui: TemporalUi | undefined;
    const uiBinary = temporalUiServerPath(options.projectRoot);
    if (options.ui !== false && uiBinary) {
      ui = await startTemporalUi({
        binary: uiBinary,
        dir: path.join(dir, 'ui'),
        port: uiPort,
        temporalAddress: temporal.address,
        namespace,
        codecEndpoint: codec.endpoint,
      });
      const started = ui;
      stops.push({ name: 'Temporal UI', stop: () => started.process.stop() });
    }

    return {
      dir,
      namespace,
      taskQueue,
      postgres,
      databaseUrl: postgres.url,
      temporal,
      ...(ui ? { ui } : {}),
      simulator,
      aws,
      installerBucket,
      workers,
      webhook,
      codec,
      fleet,
      codecKeys,
      connection,
      client,
      processEnv,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
