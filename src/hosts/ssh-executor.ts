import { Client, type ClientChannel, type SFTPWrapper } from 'ssh2';
import { BoundedOutput } from './bounded-output.js';
import {
  HostAccessError,
  shellQuote,
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
import type { HostKeyPolicy } from './host-key-policy.js';

export interface SshExecutorOptions {
  defaultUser: string;
  /** Resolves a private key (PEM/OpenSSH text) by secret reference, or the default key. */
  privateKey: (keyRef: string | undefined) => Promise<string>;
  hostKeys: HostKeyPolicy;
  connectTimeoutMs: number;
  /** Folder on the host where installers are staged. */
  stagingDir: string;
  defaultInstallPath: string;
}

const DEFAULT_MAX_OUTPUT = 64 * 1024;

/** Hosts over SSH (ssh2): key authentication, host-key checking, per-command timeouts, bounded output. */
export class SshExecutor implements HostExecutor {
  readonly kind = 'ssh' as const;

  constructor(private readonly options: SshExecutorOptions) {}

  installPath(_target: HostTarget, requested?: string): string {
    return requested ?? this.options.defaultInstallPath;
  }

  async withSession<T>(target: HostTarget, work: (session: HostSession) => Promise<T>): Promise<T> {
    const connection = await this.connect(target);
    try {
      return await work(new SshSession(connection, target.user ?? this.options.defaultUser, this.options.stagingDir));
    } finally {
      connection.end();
    }
  }

  private async connect(target: HostTarget): Promise<Client> {
    const port = target.port ?? 22;
    const privateKey = await this.options.privateKey(target.keyRef);
    let hostKeyProblem: string | undefined;
    const client = new Client();
    return new Promise<Client>((resolve, reject) => {
      client
        .once('ready', () => resolve(client))
        .once('error', (err: Error & { level?: string; code?: string }) => {
          client.end();
          if (hostKeyProblem) return reject(new HostAccessError('host-key', hostKeyProblem, false));
          if (err.level === 'client-authentication') {
            return reject(
              new HostAccessError(
                'authentication',
                `SSH login as ${target.user ?? this.options.defaultUser} on ${target.address}:${port} was refused (key not authorized)`,
                false,
              ),
            );
          }
          reject(
            new HostAccessError(
              'unreachable',
              `cannot reach ${target.address}:${port} over SSH: ${err.code ?? ''} ${err.message}`.replace(/\s+/g, ' '),
              true,
            ),
          );
        })
        .connect({
          host: target.address,
          port,
          username: target.user ?? this.options.defaultUser,
          privateKey,
          readyTimeout: this.options.connectTimeoutMs,
          hostVerifier: (key: Buffer) => {
            hostKeyProblem = this.options.hostKeys.check(target.address, port, key);
            return hostKeyProblem === undefined;
          },
        });
    });
  }
}

class SshSession implements HostSession {
  constructor(
    private readonly client: Client,
    private readonly user: string,
    private readonly stagingDir: string,
  ) {}

  async run(command: string, options: CommandOptions): Promise<CommandResult> {
    const effective = options.privileged && this.user !== 'root' ? `sudo -n sh -c ${shellQuote(command)}` : command;
    const started = Date.now();
    const stdout = new BoundedOutput(options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT);
    const stderr = new BoundedOutput(options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT);
    const channel = await new Promise<ClientChannel>((resolve, reject) =>
      this.client.exec(effective, (err, stream) =>
        err ? reject(new HostAccessError('unreachable', err.message, true)) : resolve(stream),
      ),
    );
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    try {
      const exitCode = await new Promise<number | null>((resolve) => {
        channel.on('data', (chunk: Buffer) => stdout.push(chunk));
        channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
        channel.once('close', (code: number | null) => resolve(typeof code === 'number' ? code : null));
        // Not every sshd honours signal requests: stop waiting, and closing the session ends the command.
        timer = setTimeout(() => {
          timedOut = true;
          channel.signal('KILL');
          channel.destroy();
          resolve(null);
        }, options.timeoutMs);
      });
      const result: CommandResult = {
        exitCode: timedOut ? null : exitCode,
        stdout: stdout.text(),
        stderr: stderr.text(),
        truncated: stdout.truncated || stderr.truncated,
        timedOut,
        durationMs: Date.now() - started,
      };
      if (options.privileged && /sudo: (a password is required|a terminal is required)/.test(result.stderr)) {
        throw new HostAccessError(
          'privileges',
          `${this.user} may not run commands as root without a password (sudo -n)`,
          false,
        );
      }
      return result;
    } finally {
      clearTimeout(timer);
    }
  }

  async stageFile(file: FileToStage): Promise<StagedFile> {
    const sharedPath = `${this.stagingDir}/${stagedFileName(file)}`;
    const own = ownStagedPath(sharedPath);
    const prepared = await this.run(
      `mkdir -p ${shellQuote(this.stagingDir)} && chmod 700 ${shellQuote(this.stagingDir)}`,
      { timeoutMs: 30_000 },
    );
    if (prepared.exitCode !== 0) {
      throw new HostAccessError(
        'transfer',
        `cannot create ${this.stagingDir} on the host: ${prepared.stderr.trim()}`,
        false,
      );
    }
    // Link before checking: once linked, a concurrent run removing the shared copy cannot take ours.
    const linked = await this.run(`ln ${shellQuote(sharedPath)} ${shellQuote(own)} 2>/dev/null`, {
      timeoutMs: 30_000,
    });
    if (linked.exitCode === 0) {
      if ((await this.remoteSha256(own)) === file.sha256) return { path: own, sharedPath, uploaded: false };
      await this.run(`rm -f ${shellQuote(own)}`, { timeoutMs: 30_000 });
    }
    const sftp = await new Promise<SFTPWrapper>((resolve, reject) =>
      this.client.sftp((err, s) =>
        err ? reject(new HostAccessError('transfer', `SFTP unavailable: ${err.message}`, true)) : resolve(s),
      ),
    );
    try {
      await new Promise<void>((resolve, reject) =>
        sftp.fastPut(file.localPath, own, (err) =>
          err
            ? reject(new HostAccessError('transfer', `upload of ${file.name} failed: ${err.message}`, true))
            : resolve(),
        ),
      );
    } finally {
      sftp.end();
    }
    const onHost = await this.remoteSha256(own);
    if (onHost !== file.sha256) {
      await this.run(`rm -f ${shellQuote(own)}`, { timeoutMs: 30_000 });
      throw new HostAccessError(
        'transfer',
        `${file.name} arrived with SHA-256 ${onHost ?? 'unknown'} instead of ${file.sha256}`,
        true,
      );
    }
    // Publishing the verified bytes for later runs is a saving, not a requirement: failure is fine.
    await this.run(`ln -f ${shellQuote(own)} ${shellQuote(sharedPath)}`, { timeoutMs: 30_000 });
    return { path: own, sharedPath, uploaded: true };
  }

  async unstage(staged: StagedFile, options: { keepShared: boolean }): Promise<boolean> {
    const paths = options.keepShared ? [staged.path] : [staged.path, staged.sharedPath];
    try {
      const removed = await this.run(`rm -f ${paths.map(shellQuote).join(' ')}`, { timeoutMs: 30_000 });
      return removed.exitCode === 0;
    } catch {
      // The connection may be gone (that is often why the install failed): never mask that error.
      return false;
    }
  }

  private async remoteSha256(path: string): Promise<string | undefined> {
    const q = shellQuote(path);
    const result = await this.run(`[ -f ${q} ] && { sha256sum ${q} 2>/dev/null || shasum -a 256 ${q}; }`, {
      timeoutMs: 60_000,
    });
    return result.exitCode === 0 ? /^([0-9a-f]{64})\b/.exec(result.stdout.trim())?.[1] : undefined;
  }
}
