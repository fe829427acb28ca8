import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { stringify } from 'yaml';
import { freePort } from '../free-port.js';
import { startServiceProcess, type ServiceProcess } from './service-process.js';

/** Where scripts/setup-tools.sh --with-cluster puts the server it builds from the Go module. */
export function temporalServerTools(projectRoot: string) {
  const tools = path.join(projectRoot, '.tools');
  return {
    server: path.join(tools, 'bin', 'temporal-server'),
    sqlTool: path.join(tools, 'bin', 'temporal-sql-tool'),
    schemaDir: path.join(tools, 'temporal-server-schema'),
    cli: path.join(tools, 'bin', 'temporal'),
  };
}

export interface TemporalServerOptions {
  projectRoot: string;
  /** Config and logs of this server. */
  dir: string;
  postgres: { host: string; port: number; user: string };
  namespace: string;
  log: (line: string) => void;
}

export interface RunningTemporalServer {
  address: string;
  /** The server's HTTP API (the UI server talks gRPC, but `temporal` and people may use this). */
  httpAddress: string;
  process(): ServiceProcess;
  /** What deploy/temporal/create-namespace.sh said on the fresh server, its first run. */
  firstNamespaceRun: { code: number; output: string };
  /** Runs deploy/temporal/create-namespace.sh against this server; resolves with its exit code and output. */
  createNamespace(): Promise<{ code: number; output: string }>;
  /** SIGTERM and a start on the same ports and database: what a rolling server upgrade looks like to us. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The Temporal server built from its Go module, on PostgreSQL, set up the way docker-compose.yml sets
 * up the official images: the schemas by deploy/temporal/setup-postgres.sh, the namespace and search
 * attributes by deploy/temporal/create-namespace.sh, and the same dynamic config.
 */
export async function startTemporalServer(options: TemporalServerOptions): Promise<RunningTemporalServer> {
  const tools = temporalServerTools(options.projectRoot);
  for (const file of [tools.server, tools.sqlTool, tools.schemaDir]) {
    if (!existsSync(file)) {
      throw new Error(
        `${file} is missing: run \`bash scripts/setup-tools.sh --with-cluster\` (builds the Temporal server)`,
      );
    }
  }
  mkdirSync(path.join(options.dir, 'config'), { recursive: true });
  const ports = {
    frontend: await freePort(),
    frontendHttp: await freePort(),
    frontendMembership: await freeMembershipPort(),
    history: await freePort(),
    historyMembership: await freeMembershipPort(),
    matching: await freePort(),
    matchingMembership: await freeMembershipPort(),
    worker: await freePort(),
    workerMembership: await freeMembershipPort(),
  };
  const address = `127.0.0.1:${ports.frontend}`;
  writeFileSync(
    path.join(options.dir, 'config', 'autopilot.yaml'),
    stringify(
      serverConfig(options, ports, path.join(options.projectRoot, 'deploy/temporal/dynamicconfig/production-sql.yaml')),
    ),
  );

  const scriptEnv = {
    PATH: `${path.dirname(tools.cli)}:${process.env.PATH ?? ''}`,
    HOME: process.env.HOME,
    TEMPORAL_SQL_TOOL: tools.sqlTool,
    TEMPORAL_SCHEMA_DIR: tools.schemaDir,
    POSTGRES_SEEDS: options.postgres.host,
    DB_PORT: String(options.postgres.port),
    POSTGRES_USER: options.postgres.user,
    SQL_PASSWORD: '',
    TEMPORAL_ADDRESS: address,
    TEMPORAL_NAMESPACE: options.namespace,
  };
  const schema = await runScript(path.join(options.projectRoot, 'deploy/temporal/setup-postgres.sh'), scriptEnv);
  if (schema.code !== 0) throw new Error(`deploy/temporal/setup-postgres.sh failed:\n${schema.output.slice(-3000)}`);
  options.log('Temporal schemas set up in PostgreSQL (deploy/temporal/setup-postgres.sh)');

  const start = () =>
    startServiceProcess({
      name: 'temporal-server',
      command: tools.server,
      args: ['--root', options.dir, '--config', 'config', '--env', 'autopilot', '--allow-no-auth', 'start'],
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      cwd: options.dir,
      logFile: path.join(options.dir, 'temporal-server.log'),
    });
  let server = await start();
  const createNamespace = () =>
    runScript(path.join(options.projectRoot, 'deploy/temporal/create-namespace.sh'), scriptEnv);
  const ready = async () => {
    const result = await Promise.race([
      createNamespace(),
      server.exited.then((code) => ({ code, output: `the server exited with ${code}:\n${server.tail()}` })),
    ]);
    if (result.code !== 0) throw new Error(`the Temporal server is not ready:\n${result.output.slice(-3000)}`);
    return result;
  };
  const firstNamespaceRun = await ready();
  options.log(`Temporal server on PostgreSQL at ${address} (namespace ${options.namespace} ready)`);

  return {
    address,
    httpAddress: `127.0.0.1:${ports.frontendHttp}`,
    process: () => server,
    firstNamespaceRun,
    createNamespace,
    async restart() {
      await server.stop(30_000);
      server = await start();
      await ready();
    },
    stop: () => server.stop(30_000),
  };
}

function serverConfig(
  options: TemporalServerOptions,
  ports: Record<string, number>,
  dynamicConfigFile: string,
): Record<string, unknown> {
  const datastore = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: `${options.postgres.host}:${options.postgres.port}`,
      connectProtocol: 'tcp',
      user: options.postgres.user,
      password: '',
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const service = (grpcPort: number, membershipPort: number, httpPort?: number) => ({
    rpc: { grpcPort, membershipPort, bindOnLocalHost: true, ...(httpPort ? { httpPort } : {}) },
  });
  return {
    log: { stdout: true, level: 'warn' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: 4,
      datastores: {
        'postgres-default': datastore('temporal', 20),
        'postgres-visibility': datastore('temporal_visibility', 10),
      },
    },
    global: { membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' } },
    services: {
      frontend: service(ports.frontend!, ports.frontendMembership!, ports.frontendHttp),
      history: service(ports.history!, ports.historyMembership!),
      matching: service(ports.matching!, ports.matchingMembership!),
      worker: service(ports.worker!, ports.workerMembership!),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: {
          enabled: true,
          initialFailoverVersion: 1,
          rpcName: 'frontend',
          rpcAddress: `127.0.0.1:${ports.frontend}`,
        },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    dynamicConfigClient: { filepath: dynamicConfigFile, pollInterval: '10s' },
  };
}

const membershipPorts = new Set<number>();

/**
 * The server records each service's membership port in a PostgreSQL smallint, so it must be below
 * 32768, where the kernel's ephemeral range (and so freePort) never goes.
 */
async function freeMembershipPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (membershipPorts.has(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (!free) continue;
    membershipPorts.add(port);
    return port;
  }
}

function runScript(script: string, env: Record<string, string | undefined>): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('sh', [script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('exit', (code) => resolve({ code: code ?? 1, output }));
  });
}
