import { spawn, type ChildProcess } from 'node:child_process';

/** One command for the runner process: run it with `sh -c` in `cwd`, kill it after `timeoutMs`. */
interface RunRequest {
  id: number;
  command: string;
  cwd: string;
  timeoutMs: number;
}

type RunnerMessage =
  | { id: number; stream: 'stdout' | 'stderr'; data: string }
  | { id: number; exitCode: number | null; timedOut: boolean; error?: string };

/**
 * The runner, a small Node process of its own. Forking copies the parent's page tables, which for a
 * worker with a gigabyte of heap and an embedded database took 20 ms or more per command, on the
 * worker's event loop; from this small process it takes a few.
 */
const RUNNER_SOURCE = `
const { spawn } = require('node:child_process');
process.on('message', (r) => {
  let timedOut = false;
  let child;
  try {
    child = spawn('sh', ['-c', r.command], { cwd: r.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    process.send({ id: r.id, exitCode: null, timedOut: false, error: String(err) });
    return;
  }
  const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, r.timeoutMs);
  child.stdout.on('data', (d) => process.send({ id: r.id, stream: 'stdout', data: d.toString('base64') }));
  child.stderr.on('data', (d) => process.send({ id: r.id, stream: 'stderr', data: d.toString('base64') }));
  child.once('error', (err) => { clearTimeout(timer); process.send({ id: r.id, exitCode: null, timedOut, error: String(err) }); });
  child.once('close', (code) => { clearTimeout(timer); process.send({ id: r.id, exitCode: code, timedOut }); });
});
process.on('disconnect', () => process.exit(0));
`;

export interface RunnerOutput {
  onStdout(chunk: Buffer): void;
  onStderr(chunk: Buffer): void;
}

interface Pending extends RunnerOutput {
  resolve: (result: { exitCode: number | null; timedOut: boolean }) => void;
  reject: (err: Error) => void;
}

/**
 * Runs the local executor's commands in a helper process started on first use, so the worker itself
 * never forks. If the helper dies, the commands it ran fail and the next one starts a new helper.
 */
export class LocalCommandRunner {
  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  run(request: Omit<RunRequest, 'id'>, output: RunnerOutput): Promise<{ exitCode: number | null; timedOut: boolean }> {
    const child = this.runner();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { ...output, resolve, reject });
      child.send({ id, ...request } satisfies RunRequest, (err) => {
        if (!err) return;
        this.pending.delete(id);
        reject(err);
      });
    });
  }

  /** The runner's process id, while one runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  stop(): void {
    this.child?.disconnect();
    this.child = undefined;
  }

  private runner(): ChildProcess {
    if (this.child?.connected) return this.child;
    const child = spawn(process.execPath, ['-e', RUNNER_SOURCE], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // Not the worker's NODE_OPTIONS (a heap size, an --import): the runner needs none of them.
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    child.on('message', (message: RunnerMessage) => this.receive(message));
    child.once('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      const lost = new Error(`the local command runner exited (${signal ?? `code ${code}`})`);
      for (const p of this.pending.values()) p.reject(lost);
      this.pending.clear();
    });
    // The worker may exit while the runner idles; the runner follows when its channel closes.
    child.unref();
    child.channel?.unref();
    this.child = child;
    return child;
  }

  private receive(message: RunnerMessage): void {
    const p = this.pending.get(message.id);
    if (!p) return;
    if ('stream' in message) {
      const chunk = Buffer.from(message.data, 'base64');
      if (message.stream === 'stdout') p.onStdout(chunk);
      else p.onStderr(chunk);
      return;
    }
    this.pending.delete(message.id);
    if (message.error && message.exitCode === null && !message.timedOut) p.reject(new Error(message.error));
    else p.resolve({ exitCode: message.exitCode, timedOut: message.timedOut });
  }
}
