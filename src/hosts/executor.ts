import { randomUUID } from 'node:crypto';

/** Where a host is and how to log in; the name is what it will report to Dynatrace as. */
export interface HostTarget {
  hostname: string;
  address: string;
  port?: number;
  user?: string;
  /** Secret-store reference of the SSH private key; the worker's default key when absent. */
  keyRef?: string;
}

export interface CommandOptions {
  timeoutMs: number;
  /** Run with root privileges (`sudo -n` when the login user is not root). */
  privileged?: boolean;
  /** What the command is for; the local executor uses it to simulate install time in benchmarks. */
  purpose?: 'inspect' | 'install' | 'check';
  /** Output beyond this many bytes per stream keeps only its tail. */
  maxOutputBytes?: number;
}

export interface CommandResult {
  /** `null` when the command was killed (timeout) or the connection dropped. */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  truncated: boolean;
  timedOut: boolean;
  durationMs: number;
}

export interface FileToStage {
  localPath: string;
  sha256: string;
  /** File name on the host. */
  name: string;
}

/**
 * Staged files are named by their content: two installers (two environments, two versions) never
 * share a path, so a run can never execute bytes another upload swapped in after its check.
 */
export function stagedFileName(file: FileToStage): string {
  return `${file.sha256.slice(0, 16)}-${file.name}`;
}

export interface StagedFile {
  /**
   * This run's own hard link to the staged bytes. Several runs can share a machine (aliases, the
   * sandbox's hosts); none of them can remove or replace the file another run is about to execute.
   */
  path: string;
  /** The content-addressed copy that later runs link to instead of uploading again. */
  sharedPath: string;
  /** False when the host already had the file with the same checksum. */
  uploaded: boolean;
}

/** A run's private name next to the shared copy: unique per run, so only that run ever removes it. */
export function ownStagedPath(sharedPath: string): string {
  return `${sharedPath}.${randomUUID()}`;
}

/** One connection's worth of work on a host. */
export interface HostSession {
  run(command: string, options: CommandOptions): Promise<CommandResult>;
  /** Puts a file on the host unless it is already there, and checks its SHA-256 there. */
  stageFile(file: FileToStage): Promise<StagedFile>;
  /**
   * Removes this run's link, and the shared copy too unless `keepShared` (a retry after a failed
   * install reuses it; after a success it is only a few hundred MB of waste). False if it could not.
   */
  unstage(staged: StagedFile, options: { keepShared: boolean }): Promise<boolean>;
}

/**
 * How commands reach hosts. SSH and local today; the session shape (run a command, stage a file by
 * checksum) also fits AWS SSM Run Command, where staging becomes a download from S3 on the host.
 */
export interface HostExecutor {
  readonly kind: 'ssh' | 'local';
  withSession<T>(target: HostTarget, work: (session: HostSession) => Promise<T>): Promise<T>;
  /** Where OneAgent lives on the host (the environment's choice, or this executor's default). */
  installPath(target: HostTarget, requested?: string): string;
}

export type HostFailureKind = 'unreachable' | 'authentication' | 'host-key' | 'transfer' | 'privileges';

/** Why a host could not be worked on; `retryable` says whether trying again later may help. */
export class HostAccessError extends Error {
  constructor(
    readonly kind: HostFailureKind,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'HostAccessError';
  }
}

/** Quotes a value for a POSIX shell command line. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./=:,@%+-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
