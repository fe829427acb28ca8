import { execFile, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { projectRoot } from '../../src/config/config.js';

export { freePort } from '../../sandbox/free-port.js';

const runFile = promisify(execFile);

export interface SpawnedProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<void>;
}

/** Runs one of our TypeScript entry points the way `npm start` does (node --import tsx). */
export function spawnEntryPoint(entry: string, env: Record<string, string | undefined>): SpawnedProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: projectRoot,
    env: env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exit,
    async waitForOutput(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      let exited = false;
      void exit.then(() => (exited = true));
      while (!pattern.test(out + err)) {
        if (exited) throw new Error(`process exited before printing ${pattern}:\n${err}\n${out.slice(-2000)}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}:\n${err}`);
        await sleep(100);
      }
    },
  };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function waitUntilGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

/** The environment of this test process without any variable that would point us at a real system. */
export function cleanEnv(extra: Record<string, string>): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const key of Object.keys(env)) {
    if (key === 'TEMPORAL_CLI_PATH') continue;
    if (key.startsWith('TEMPORAL_') || key.startsWith('AUTOPILOT_') || key.startsWith('DT_')) delete env[key];
  }
  return { ...env, ...extra };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `bin/autopilot` as a provisioning system runs it: a process of its own with the environment the
 * test sets up (read when each command runs, so a test may fill it in `beforeAll`).
 */
export function autopilotCli(env: () => Record<string, string | undefined>) {
  return async (...args: string[]): Promise<CliResult> => {
    try {
      const { stdout, stderr } = await runFile(process.execPath, [path.join(projectRoot, 'bin/autopilot'), ...args], {
        env: env(),
        cwd: projectRoot,
        maxBuffer: 64 * 1024 * 1024,
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };
}
