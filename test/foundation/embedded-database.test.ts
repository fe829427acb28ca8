import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetDatabaseError, openFleetDatabase } from '../../src/database/open-fleet-database.js';

const projectRoot = path.resolve(import.meta.dirname, '../..');

describe('the embedded fleet database (PGlite): what it costs the process that opens it', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'embedded-db-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates a new data directory, opens it with small shared buffers, and keeps its data across opens', async () => {
    const dataDir = path.join(dir, 'db');
    const first = await openFleetDatabase({ embeddedDir: dataDir });
    expect(existsSync(path.join(dataDir, 'PG_VERSION'))).toBe(true);
    const { rows } = await sql<{ shared_buffers: string }>`show shared_buffers`.execute(first.db);
    expect(rows[0]!.shared_buffers).toBe('32MB');
    await first.db
      .insertInto('install_slots')
      .values({ holder: 'h1', pool: 'p1', environment_id: 'env-1', expires_at: sql<Date>`now() + interval '1 hour'` })
      .execute();
    await first.close();

    const again = await openFleetDatabase({ embeddedDir: dataDir });
    const slots = await again.db.selectFrom('install_slots').select('holder').execute();
    expect(slots.map((s) => s.holder)).toEqual(['h1']);
    await again.close();
  });

  it('leaves initdb’s memory in a child process: opening a new database grows the opener by far less', async () => {
    // Measured in a process of its own, as memory outside the JS heap (PGlite's WebAssembly memory
    // is counted there): RSS also moves with garbage the collector has not reached yet, which under
    // a loaded CI grew past the bound once though initdb had run elsewhere.
    const code = `
      const { openFleetDatabase } = await import(${JSON.stringify(path.join(projectRoot, 'src/database/open-fleet-database.ts'))});
      const before = process.memoryUsage().external;
      const db = await openFleetDatabase({ embeddedDir: process.argv[1] });
      console.log(JSON.stringify({ grewBy: process.memoryUsage().external - before }));
      await db.close();
    `;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', code, path.join(dir, 'measured')],
      { cwd: projectRoot },
    );
    const { grewBy } = JSON.parse(stdout.trim().split('\n').pop()!) as { grewBy: number };
    // initdb in the process itself grew it by about 630 MB, for good; opening alone costs about 140 MB.
    expect(grewBy / 1024 / 1024).toBeLessThan(300);
  });

  it('names the directory when it cannot be created', async () => {
    const file = path.join(dir, 'a-file');
    writeFileSync(file, 'not a directory');
    const opened = openFleetDatabase({ embeddedDir: path.join(file, 'db') });
    await expect(opened).rejects.toThrow(FleetDatabaseError);
    await expect(opened).rejects.toThrow(path.join(file, 'db'));
  });
});
