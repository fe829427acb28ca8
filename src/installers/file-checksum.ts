import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';

interface Known {
  size: number;
  mtimeMs: number;
  sha256: string;
}

/**
 * Checksums of installers this process has read or written: a few hundred MB are hashed once per
 * process, not once per host. A file rewritten since (other size or time) is hashed again.
 */
const known = new Map<string, Known>();

/** The SHA-256 of a local file, or undefined when it is not there. */
export async function fileSha256(file: string): Promise<string | undefined> {
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) return undefined;
  const memo = known.get(file);
  if (memo && memo.size === info.size && memo.mtimeMs === info.mtimeMs) return memo.sha256;
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  const sha256 = hash.digest('hex');
  known.set(file, { size: info.size, mtimeMs: info.mtimeMs, sha256 });
  return sha256;
}

/** Records the checksum of a file this process just wrote while hashing it. */
export async function rememberSha256(file: string, sha256: string): Promise<void> {
  const info = await stat(file);
  known.set(file, { size: info.size, mtimeMs: info.mtimeMs, sha256 });
}
