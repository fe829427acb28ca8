import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ServiceProcessOptions {
  name: string;
  command: string;
  args: string[];
  env: Record<string, string | undefined>;
  cwd: string;
  /** Everything the process prints goes here, so a failed run can be read afterwards. */
  logFile: string;
}

export interface ServiceProcess {
  name: string;
  /** The program's own pid (not its watchdog shell's): what SIGKILL must reach. */
  pid: number;
  logFile: string;
  /** Resolves with the program's exit code (128 + signal when a signal ended it). */
  exited: Promise<number>;
  running(): boolean;
  /** The last few kilobytes of output, for error messages. */
  tail(): string;
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<void>;
  /** Polls `probe` (errors count as "not yet") while the process runs. */
  waitUntil(probe: () => Promise<boolean>, timeoutMs: number): Promise<void>;
  kill(signal: NodeJS.Signals): Promise<number>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

// The program runs under a shell that ends it when our end of its stdin closes: when we stop it, and
// when the process that started it dies without a chance to (a SIGKILLed test run), so nothing
// outlives its owner. The shell reports the program's pid on fd 3 and exits with its status.
// Background jobs get /dev/null as stdin, hence the copy of it on fd 4 for the watchdog.
const WATCHDOG = [
  'exec 4<&0',
  '"$@" 3>&- 4<&- & pid=$!',
  'echo "$pid" >&3; exec 3>&-',
  '( cat <&4 >/dev/null; kill -TERM "$pid" 2>/dev/null ) &',
  'watchdog=$!',
  'exec 4<&-',
  'wait "$pid"; status=$?',
  'kill "$watchdog" 2>/dev/null',
  'exit "$status"',
].join('\n');

/** A long-running program of the cluster (a server, a worker), with its output in a log file. */
export async function startServiceProcess(options: ServiceProcessOptions): Promise<ServiceProcess> {
  mkdirSync(path.dirname(options.logFile), { recursive: true });
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const child = spawn('sh', ['-c', WATCHDOG, 'sh', options.command, ...options.args], {
    cwd: options.cwd,
    env: options.env,
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
  });
  let output = '';
  const listeners = new Set<() => void>();
  const collect = (chunk: Buffer) => {
    log.write(chunk);
    output = (output + chunk.toString()).slice(-16_000);
    for (const l of listeners) l();
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<number>((resolve) =>
    child.once('exit', (code, signal) => {
      log.end();
      // Lets the watchdog's `cat` go as well.
      child.stdin.end();
      resolve(code ?? (signal ? 128 + signalNumber(signal) : 1));
    }),
  );
  let gone = false;
  void exited.then(() => (gone = true));

  const pid = await new Promise<number>((resolve, reject) => {
    let text = '';
    const pidPipe = child.stdio[3] as Readable;
    pidPipe.on('data', (d: Buffer) => (text += d.toString()));
    pidPipe.once('end', () => {
      const value = Number(text.trim());
      if (Number.isInteger(value) && value > 0) resolve(value);
      else reject(new Error(`${options.name} did not start: ${output.slice(-2000)}`));
    });
  });

  const service: ServiceProcess = {
    name: options.name,
    pid,
    logFile: options.logFile,
    exited,
    running: () => !gone,
    tail: () => output.slice(-3000),
    async waitForOutput(pattern, timeoutMs) {
      if (pattern.test(output)) return;
      await new Promise<void>((resolve, reject) => {
        const done = (err?: Error) => {
          clearTimeout(timer);
          listeners.delete(check);
          if (err) reject(err);
          else resolve();
        };
        const check = () => {
          if (pattern.test(output)) done();
        };
        const timer = setTimeout(
          () =>
            done(
              new Error(
                `${options.name} did not print ${String(pattern)} within ${timeoutMs} ms:\n${output.slice(-3000)}`,
              ),
            ),
          timeoutMs,
        );
        void exited.then((code) =>
          done(
            new Error(
              `${options.name} exited with ${code} before printing ${String(pattern)}:\n${output.slice(-3000)}`,
            ),
          ),
        );
        listeners.add(check);
      });
    },
    async waitUntil(probe, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!(await probe().catch(() => false))) {
        if (gone) throw new Error(`${options.name} exited before it was ready:\n${output.slice(-3000)}`);
        if (Date.now() > deadline)
          throw new Error(`${options.name} was not ready within ${timeoutMs} ms:\n${output.slice(-3000)}`);
        await sleep(250);
      }
    },
    async kill(signal) {
      if (!gone) {
        try {
          process.kill(pid, signal);
        } catch {
          // already gone
        }
      }
      return exited;
    },
    async stop(graceMs = 15_000) {
      if (gone) return;
      child.stdin.end();
      const timedOut = await Promise.race([exited.then(() => false), sleep(graceMs).then(() => true)]);
      if (timedOut) await service.kill('SIGKILL');
    },
  };
  return service;
}

function signalNumber(signal: NodeJS.Signals): number {
  return { SIGKILL: 9, SIGTERM: 15, SIGINT: 2 }[signal as string] ?? 1;
}
