import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { freePort } from './free-port.js';

export interface PostgresServer {
  /** Connection URL of the database the server was started with. */
  url: string;
  /** Another database on the same server (created when missing), e.g. one per test file. */
  database(name: string): Promise<string>;
  stop(): Promise<void>;
}

/** The binaries of the newest PostgreSQL Debian's packages installed (`/usr/lib/postgresql/<version>/bin`). */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(root, versions[0], 'bin') : undefined;
}

/** PostgreSQL refuses to run as root: as root, it runs as the `postgres` user Debian's package creates. */
function postgresOwner(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0)
    throw new Error('running as root, but there is no postgres user to run PostgreSQL as');
  return { uid: Number(uid.stdout), gid: Number(gid.stdout) };
}

/**
 * A throwaway PostgreSQL from Debian's packages in a data folder of its own, on a free loopback port:
 * for the tests and the production topology on one machine. PostgreSQL refuses to run as root, so as
 * root it runs as the `postgres` user the package creates. It stops with its owner, like moto.
 */
export async function startPostgresServer(
  options: { database?: string; dataDir?: string } = {},
): Promise<PostgresServer> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL is not installed: apt-get install postgresql (scripts/setup-tools.sh does it)');
  const dataDir = options.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'autopilot-postgres-'));
  const owner = postgresOwner();
  if (owner) chownSync(dataDir, owner.uid, owner.gid);
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    const init = spawnSync(
      path.join(bin, 'initdb'),
      ['-D', dataDir, '-U', 'autopilot', '--auth=trust', '-E', 'UTF8', '--no-sync'],
      {
        encoding: 'utf8',
        ...(owner ?? {}),
      },
    );
    if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr.trim().split('\n').at(-1) ?? ''}`);
  }
  const port = await freePort();
  const postgres = [
    path.join(bin, 'postgres'),
    '-D',
    dataDir,
    '-p',
    String(port),
    '-k',
    dataDir,
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'fsync=off',
    '-c',
    'full_page_writes=off',
  ];
  // Under a shell that stops the server when its stdin closes: when we stop it, and when our process dies.
  const child = spawn(
    'sh',
    ['-c', '"$@" & pid=$!; cat >/dev/null; kill -INT "$pid" 2>/dev/null; wait "$pid"', 'sh', ...postgres],
    { stdio: ['pipe', 'ignore', 'pipe'], ...(owner ?? {}) },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const admin = `postgres://autopilot@127.0.0.1:${port}/postgres`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`postgres exited: ${stderr.trim().split('\n').at(-1) ?? ''}`);
    const client = new pg.Client({ connectionString: admin });
    try {
      await client.connect();
      await client.end();
      break;
    } catch {
      await client.end().catch(() => undefined);
    }
    if (Date.now() > deadline) {
      child.stdin.end();
      throw new Error(`postgres did not answer on port ${port} within 30 s: ${stderr.trim().split('\n').at(-1) ?? ''}`);
    }
    await sleep(200);
  }
  const database = async (name: string) => {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`not a database name: ${name}`);
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    try {
      const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
      if (!rowCount) await client.query(`create database ${name}`);
    } finally {
      await client.end();
    }
    return `postgres://autopilot@127.0.0.1:${port}/${name}`;
  };
  const url = await database(options.database ?? 'autopilot_fleet');
  return {
    url,
    database,
    async stop() {
      child.stdin.end();
      await Promise.race([exited, sleep(10_000).then(() => child.kill('SIGKILL'))]);
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
