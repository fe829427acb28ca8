import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';

/**
 * The fleet database's tables are small (slots, registry, inventories, scan history): PostgreSQL's
 * default 128 MB of shared buffers, which PGlite's WebAssembly memory keeps for the life of the
 * process, would be the worker's largest single cost.
 */
const SHARED_BUFFERS = '32MB';

/**
 * Creating a data directory runs initdb, which grows PGlite's WebAssembly memory to about 600 MB,
 * and WebAssembly memory never shrinks: done in the worker itself, it stayed in the worker's RSS
 * for good. A short-lived child process creates it instead.
 */
const INITIALIZE = `const { PGlite } = await import(process.argv[1]); const db = await PGlite.create(process.argv[2]); await db.close();`;

/** The embedded PostgreSQL (PGlite) with its data under `dir`, created first if new. */
export async function openEmbeddedPostgres(dir: string): Promise<PGlite> {
  mkdirSync(dir, { recursive: true });
  if (!existsSync(path.join(dir, 'PG_VERSION'))) {
    try {
      await promisify(execFile)(
        process.execPath,
        ['--input-type=module', '-e', INITIALIZE, import.meta.resolve('@electric-sql/pglite'), dir],
        { maxBuffer: 4 * 1024 * 1024 },
      );
    } catch (err) {
      const stderr = (err as { stderr?: string }).stderr?.trim().split('\n').slice(-5).join('\n');
      throw new Error(`could not create the embedded database in ${dir}${stderr ? `: ${stderr}` : ''}`);
    }
  }
  return PGlite.create(dir, { startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${SHARED_BUFFERS}`] });
}
