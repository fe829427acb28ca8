import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';

export interface DevServerOptions {
  cliPath: string;
  dataDir: string;
  port: number;
  uiPort: number;
  namespace: string;
  /** Extra `temporal server start-dev` flags (e.g. `--ui-codec-endpoint`). */
  extraArgs?: string[];
  startTimeoutMs?: number;
  onNotice?: (message: string) => void;
}

export interface RunningDevServer {
  address: string;
  uiUrl: string;
  pid: number;
  dbFile: string;
  logFile: string;
  stop(): Promise<void>;
}

export class SandboxStartError extends Error {
  override name = 'SandboxStartError';
}

const PID_FILE = 'temporal-dev-server.pid';

/**
 * Starts `temporal server start-dev` with a SQLite file under `dataDir`, so workflow runs survive a
 * restart. The server runs in its own process group: a Ctrl-C in the terminal reaches only us, and
 * we stop the server after the worker has drained, not before.
 */
export async function startTemporalDevServer(options: DevServerOptions): Promise<RunningDevServer> {
  if (!existsSync(options.cliPath)) {
    throw new SandboxStartError(
      `Temporal CLI not found at ${options.cliPath}; run \`npm run setup\` (or set TEMPORAL_CLI_PATH)`,
    );
  }
  mkdirSync(options.dataDir, { recursive: true });
  await stopLeftoverServer(options.dataDir, options.onNotice);
  await assertPortFree(options.port, 'AUTOPILOT_DEV_SERVER_PORT');
  await assertPortFree(options.uiPort, 'AUTOPILOT_DEV_UI_PORT');

  const dbFile = path.join(options.dataDir, 'temporal.sqlite');
  const logFile = path.join(options.dataDir, 'temporal-dev-server.log');
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--ui-port',
    String(options.uiPort),
    '--namespace',
    options.namespace,
    '--db-filename',
    dbFile,
    '--log-format',
    'json',
    '--log-level',
    'warn',
    // The machine has no route to Temporal's version-check service.
    '--dynamic-config-value',
    'frontend.enableServerVersionCheck=false',
    // SQLite's default rollback journal syncs the disk on every commit, and the server commits on
    // every workflow state change: a fleet spent its time waiting on fsync with the CPUs idle. WAL
    // with synchronous=NORMAL survives a killed server (only a power loss can drop the last
    // commits), which is what a single-machine sandbox needs.
    '--sqlite-pragma',
    'journal_mode=wal',
    '--sqlite-pragma',
    'synchronous=normal',
    ...(options.extraArgs ?? []),
  ];
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(options.cliPath, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  if (child.pid === undefined) throw new SandboxStartError(`could not start ${options.cliPath}`);
  writeFileSync(path.join(options.dataDir, PID_FILE), String(child.pid));

  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // A crash of our own process must not leave the server behind.
  const killOnExit = () => killGroup(child, 'SIGKILL');
  process.once('exit', killOnExit);

  const address = `127.0.0.1:${options.port}`;
  try {
    await waitUntilServing(address, exited, options.startTimeoutMs ?? 30_000, logFile);
  } catch (err) {
    killGroup(child, 'SIGKILL');
    process.off('exit', killOnExit);
    throw err;
  }

  let stopping: Promise<void> | undefined;
  return {
    address,
    uiUrl: `http://localhost:${options.uiPort}`,
    pid: child.pid,
    dbFile,
    logFile,
    stop() {
      stopping ??= (async () => {
        killGroup(child, 'SIGTERM');
        const done = await Promise.race([exited.then(() => true), sleep(15_000).then(() => false)]);
        if (!done) {
          killGroup(child, 'SIGKILL');
          await exited;
        }
        process.off('exit', killOnExit);
        rmSync(path.join(options.dataDir, PID_FILE), { force: true });
        log.end();
      })();
      return stopping;
    },
  };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

async function waitUntilServing(
  address: string,
  exited: Promise<number | null>,
  timeoutMs: number,
  logFile: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let processExit: number | null | undefined;
  void exited.then((code) => (processExit = code));
  while (Date.now() < deadline) {
    if (processExit !== undefined) {
      throw new SandboxStartError(`Temporal dev server exited with code ${processExit}: ${lastLines(logFile)}`);
    }
    try {
      const connection = await Connection.connect({ address, connectTimeout: '1 second' });
      try {
        await connection.workflowService.getSystemInfo({});
        return;
      } finally {
        await connection.close();
      }
    } catch {
      await sleep(200);
    }
  }
  throw new SandboxStartError(`Temporal dev server did not answer on ${address} within ${timeoutMs} ms`);
}

function lastLines(file: string, count = 5): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-count).join(' | ');
  } catch {
    return '(no output)';
  }
}

async function assertPortFree(port: number, variable: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        new SandboxStartError(
          err.code === 'EADDRINUSE'
            ? `port ${port} is already in use; stop what uses it, or set ${variable} (or TEMPORAL_ADDRESS to use an existing server)`
            : `cannot bind port ${port}: ${err.message}`,
        ),
      );
    });
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}

/** A server left behind by a killed `npm start` would hold the port and the SQLite file. */
async function stopLeftoverServer(dataDir: string, onNotice?: (message: string) => void): Promise<void> {
  const pidFile = path.join(dataDir, PID_FILE);
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  rmSync(pidFile, { force: true });
  if (!Number.isInteger(pid) || pid <= 0 || !isTemporalDevServer(pid)) return;
  onNotice?.(`stopping a Temporal dev server left over from an earlier run (pid ${pid})`);
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 75 && isAlive(pid); i++) await sleep(200);
  if (isAlive(pid)) process.kill(-pid, 'SIGKILL');
}

function isTemporalDevServer(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('start-dev');
  } catch {
    return false;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
