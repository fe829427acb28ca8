import { createHash } from 'node:crypto';
import { copyFileSync, createReadStream, linkSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BoundedOutput } from './bounded-output.js';
import { LocalCommandRunner } from './local-command-runner.js';
import {
  ownStagedPath,
  stagedFileName,
  type CommandOptions,
  type CommandResult,
  type FileToStage,
  type HostExecutor,
  type HostSession,
  type HostTarget,
  type StagedFile,
} from './executor.js';

export interface LocalExecutorOptions {
  /** Each "host" gets its own folder under here (its staging area and OneAgent install path). */
  rootDir: string;
  /** Added before every install command: benchmarks simulate a real installer's minutes this way. */
  simulatedInstallMs?: number;
}

const DEFAULT_MAX_OUTPUT = 64 * 1024;

/**
 * Runs a host's commands on the worker's own machine, one folder per host name: the sandbox and the
 * benchmarks enroll thousands of "hosts" this way with the real installer and the real flow.
 */
export class LocalExecutor implements HostExecutor {
  readonly kind = 'local' as const;
  private readonly runner = new LocalCommandRunner();

  constructor(private readonly options: LocalExecutorOptions) {}

  private hostDir(target: HostTarget): string {
    if (!/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(target.hostname)) throw new Error(`invalid host name ${target.hostname}`);
    return path.join(this.options.rootDir, target.hostname);
  }

  /** Always inside the host's folder: many local "hosts" must not share one install. */
  installPath(target: HostTarget, _requested?: string): string {
    return path.join(this.hostDir(target), 'oneagent');
  }

  async withSession<T>(target: HostTarget, work: (session: HostSession) => Promise<T>): Promise<T> {
    const dir = this.hostDir(target);
    mkdirSync(dir, { recursive: true });
    return work(new LocalSession(dir, this.options.simulatedInstallMs ?? 0, this.runner));
  }
}

class LocalSession implements HostSession {
  constructor(
    private readonly dir: string,
    private readonly simulatedInstallMs: number,
    private readonly runner: LocalCommandRunner,
  ) {}

  async run(command: string, options: CommandOptions): Promise<CommandResult> {
    if (options.purpose === 'install' && this.simulatedInstallMs > 0) {
      await sleep(this.simulatedInstallMs);
    }
    const started = Date.now();
    const stdout = new BoundedOutput(options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT);
    const stderr = new BoundedOutput(options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT);
    const { exitCode, timedOut } = await this.runner.run(
      { command, cwd: this.dir, timeoutMs: options.timeoutMs },
      { onStdout: (chunk) => stdout.push(chunk), onStderr: (chunk) => stderr.push(chunk) },
    );
    return {
      exitCode: timedOut ? null : exitCode,
      stdout: stdout.text(),
      stderr: stderr.text(),
      truncated: stdout.truncated || stderr.truncated,
      timedOut,
      durationMs: Date.now() - started,
    };
  }

  async stageFile(file: FileToStage): Promise<StagedFile> {
    const staging = path.join(this.dir, 'staging');
    mkdirSync(staging, { recursive: true });
    const sharedPath = path.join(staging, stagedFileName(file));
    const own = ownStagedPath(sharedPath);
    try {
      linkSync(sharedPath, own);
      if ((await sha256(own)) === file.sha256) return { path: own, sharedPath, uploaded: false };
      rmSync(own, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    copyFileSync(file.localPath, own);
    const copied = await sha256(own);
    if (copied !== file.sha256) {
      rmSync(own, { force: true });
      throw new Error(`${file.name} was copied with SHA-256 ${copied} instead of ${file.sha256}`);
    }
    rmSync(sharedPath, { force: true });
    try {
      linkSync(own, sharedPath);
    } catch {
      // Another run published the same bytes first.
    }
    return { path: own, sharedPath, uploaded: true };
  }

  unstage(staged: StagedFile, options: { keepShared: boolean }): Promise<boolean> {
    try {
      rmSync(staged.path, { force: true });
      if (!options.keepShared) rmSync(staged.sharedPath, { force: true });
      return Promise.resolve(true);
    } catch {
      return Promise.resolve(false);
    }
  }
}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
