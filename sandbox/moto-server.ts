import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { freePort } from './free-port.js';
import { setTimeout as sleep } from 'node:timers/promises';

export interface MotoServer {
  url: string;
  /** Drops every resource (`POST /moto-api/reset`). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * moto's server (pinned in scripts/requirements-moto.txt): EC2, S3 and SSM over real HTTP for the
 * AWS SDK, one port for all services.
 */
export async function startMotoServer(options: { cliPath: string; port?: number }): Promise<MotoServer> {
  if (!existsSync(options.cliPath)) {
    throw new Error(`moto_server not found at ${options.cliPath}; run \`npm run setup\``);
  }
  const port = options.port ?? (await freePort());
  // moto runs under a small shell that stops it as soon as its stdin closes: when we stop it, and when the process
  // that started it dies without a chance to (a SIGKILLed `npm start`), so no server outlives its owner.
  const child = spawn(
    'sh',
    [
      '-c',
      'moto="$1"; shift; "$moto" "$@" & pid=$!; cat >/dev/null; kill "$pid" 2>/dev/null; wait "$pid"',
      'sh',
      options.cliPath,
      '-H',
      '127.0.0.1',
      '-p',
      String(port),
    ],
    { stdio: ['pipe', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited: ${stderr.trim().split('\n').at(-1) ?? ''}`);
    try {
      if ((await fetch(`${url}/moto-api/`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.stdin.end();
      throw new Error(`moto_server did not answer on ${url} within 30 s`);
    }
    await sleep(100);
  }
  return {
    url,
    async reset() {
      await fetch(`${url}/moto-api/reset`, { method: 'POST' });
    },
    async stop() {
      child.stdin.end();
      await Promise.race([exited, sleep(5000).then(() => child.kill('SIGKILL'))]);
    },
  };
}
