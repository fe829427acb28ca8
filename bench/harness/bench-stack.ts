import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client, Connection } from '@temporalio/client';
import { parseCodecKeys, type CodecKeyring } from '../../src/codec/codec-keyring.js';
import { temporalCliPath } from '../../src/temporal/temporal-cli-path.js';
import { DynatraceClient } from '../../src/dynatrace/index.js';
import {
  startDynatraceSimulator,
  type DynatraceSimulator,
  type SimulatorKnobsInput,
} from '../../sandbox/dynatrace/index.js';
import { startTemporalDevServer, type RunningDevServer } from '../../sandbox/temporal-dev-server.js';
import { autopilotClient, connectClient } from '../../src/temporal/connect.js';
import { ensureSearchAttributes } from '../../src/temporal/ensure-search-attributes.js';
import { freePort } from '../../sandbox/free-port.js';

export const NAMESPACE = 'default';

/**
 * What a benchmark or chaos run stands on: its own Temporal dev server (SQLite file, so it can be
 * restarted with its data), the Managed simulator in this process, and a client with our codec.
 * The worker is a separate process (see worker-process.ts) so its memory can be measured and it
 * can be killed.
 */
export interface BenchStack {
  dir: string;
  address: string;
  devServer: RunningDevServer;
  simulator: DynatraceSimulator;
  clusterToken: string;
  codecKeysText: string;
  codecKeys: CodecKeyring;
  client: Client;
  connection: Connection;
  dynatrace: DynatraceClient;
  /** Stops the dev server and starts it again on the same port and SQLite file. */
  restartDevServer(): Promise<void>;
  stop(): Promise<void>;
}

export async function startBenchStack(options: { dir: string; knobs?: SimulatorKnobsInput }): Promise<BenchStack> {
  mkdirSync(options.dir, { recursive: true });
  const [port, uiPort] = [await freePort(), await freePort()];
  const startServer = () =>
    startTemporalDevServer({
      cliPath: temporalCliPath(),
      dataDir: path.join(options.dir, 'temporal'),
      port,
      uiPort,
      namespace: NAMESPACE,
      startTimeoutMs: 60_000,
    });
  let devServer = await startServer();
  // Over https: the workers are production processes, which take no plain-http cluster.
  const simulator = await startDynatraceSimulator({
    tls: true,
    ...(options.knobs ? { knobs: options.knobs } : {}),
    clusterTokens: [{ name: 'admin', scopes: ['ServiceProviderAPI', 'EnvironmentTokenManagement'] }],
  });
  const codecKeysText = `bench:${randomBytes(32).toString('base64')}`;
  const codecKeys = parseCodecKeys(codecKeysText, 'BENCH_CODEC_KEYS');
  // Kept next to the run's SQLite file, so its histories can be replayed and read afterwards.
  writeFileSync(path.join(options.dir, 'codec-keys'), codecKeysText + '\n', { mode: 0o600 });
  const connection = await connectClient({ address: devServer.address, namespace: NAMESPACE });
  await ensureSearchAttributes(connection, NAMESPACE);
  const client = autopilotClient(connection, NAMESPACE, codecKeys);
  const stack: BenchStack = {
    dir: options.dir,
    address: devServer.address,
    devServer,
    simulator,
    clusterToken: simulator.clusterTokens.admin!,
    codecKeysText,
    codecKeys,
    client,
    connection,
    dynatrace: new DynatraceClient({
      baseUrl: simulator.url,
      maxConcurrentPerEnvironment: 50,
      requestTimeoutMs: 30_000,
      caCertificate: readFileSync(simulator.caFile!, 'utf8'),
    }),
    async restartDevServer() {
      await devServer.stop();
      devServer = await startServer();
      stack.devServer = devServer;
    },
    async stop() {
      await connection.close().catch(() => undefined);
      await simulator.stop();
      await devServer.stop();
    },
  };
  return stack;
}
