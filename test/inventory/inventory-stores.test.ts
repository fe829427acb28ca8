import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgresServer, type PostgresServer } from '../../sandbox/postgres-server.js';
import { openFleetDatabase, type FleetDatabase } from '../../src/database/open-fleet-database.js';
import { DatabaseInventoryStore } from '../../src/inventory/database-inventory-store.js';
import { FolderInventoryStore } from '../../src/inventory/folder-inventory-store.js';
import type { InventoryStore } from '../../src/inventory/inventory-store.js';
import type { FleetHost } from '../../src/shared/fleet.js';

const hosts: FleetHost[] = [
  { hostname: 'inv-vm-1', address: '10.0.0.1', customer: 'inv', stage: 'p1', os: 'linux' },
  { hostname: 'inv-vm-2', address: '10.0.0.2', customer: 'inv', stage: 'p1', os: 'linux', port: 2222 },
  { hostname: 'inv-db-1', address: '10.0.1.1', customer: 'inx', stage: 't1', os: 'linux' },
];

interface Backend {
  store: InventoryStore;
  /** How many copies of the inventory the backend holds. */
  copies(ref: string): Promise<number>;
  /** Alters the stored content behind the store's back (a bad restore, a hand edit). */
  corrupt(ref: string): Promise<void>;
  stop(): Promise<void>;
}

const hashOf = (ref: string) => ref.slice('sha256:'.length);

function databaseBackend(database: FleetDatabase, stop: () => Promise<void>): Backend {
  return {
    store: new DatabaseInventoryStore(database.db),
    copies: async (ref) =>
      Number(
        (
          await database.db
            .selectFrom('inventories')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('ref', '=', ref)
            .executeTakeFirstOrThrow()
        ).n,
      ),
    corrupt: async (ref) => {
      await sql`update inventories set content = replace(content, 'inv-vm-2', 'evil-vm') where ref = ${ref}`.execute(
        database.db,
      );
    },
    stop: async () => {
      await database.close();
      await stop();
    },
  };
}

/** The database store on both databases the product runs on, and the sandbox's folder store. */
const backends: [string, () => Promise<Backend>][] = [
  [
    'the fleet database on PostgreSQL',
    async () => {
      const server: PostgresServer = await startPostgresServer();
      const database = await openFleetDatabase({ url: server.url, embeddedDir: '/nonexistent' });
      return databaseBackend(database, () => server.stop());
    },
  ],
  [
    'the fleet database on PGlite',
    async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'inventory-db-'));
      const database = await openFleetDatabase({ embeddedDir: dir });
      return databaseBackend(database, async () => rmSync(dir, { recursive: true, force: true }));
    },
  ],
  [
    'the folder (sandbox)',
    async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'inventory-folder-'));
      const file = (ref: string) => path.join(dir, `${hashOf(ref)}.json`);
      return {
        store: new FolderInventoryStore(dir),
        copies: async (ref) => (existsSync(file(ref)) ? 1 : 0),
        corrupt: async (ref) =>
          writeFileSync(file(ref), readFileSync(file(ref), 'utf8').replace('inv-vm-2', 'evil-vm')),
        stop: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  ],
];

describe.each(backends)('fleet inventories in %s', (_name, start) => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await start();
  }, 120_000);
  afterAll(async () => {
    await backend.stop();
  });

  it('stores the same inventory once under its content hash, and reads it back page by page', async () => {
    const summary = await backend.store.put(hosts);
    expect(summary).toEqual({
      ref: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      total: 3,
      environments: { 'inv-p1': 2, 'inx-t1': 1 },
    });
    expect(await backend.store.put(structuredClone(hosts))).toEqual(summary);
    expect(await backend.copies(summary.ref)).toBe(1);

    expect(await backend.store.summary(summary.ref)).toEqual(summary);
    expect(await backend.store.page(summary.ref, 0, 2)).toEqual(hosts.slice(0, 2));
    expect(await backend.store.page(summary.ref, 2, 2)).toEqual(hosts.slice(2));
    expect(await backend.store.page(summary.ref, 3, 2)).toEqual([]);
  });

  it('refuses content that is not what its reference names, an unknown reference and a malformed one', async () => {
    const other = hosts.map((h) => ({ ...h, stage: 'p2' }));
    const { ref } = await backend.store.put(other);
    await backend.corrupt(ref);
    // Not read before, so nothing this store keeps in memory hides the change.
    await expect(backend.store.page(ref, 0, 1)).rejects.toThrow(`inventory ${ref} is corrupt`);

    const unknown = `sha256:${'0'.repeat(64)}`;
    await expect(backend.store.summary(unknown)).rejects.toThrow(new RegExp(`^inventory ${unknown} is not in `));
    await expect(backend.store.page('inventory.csv', 0, 10)).rejects.toThrow(
      'invalid inventory reference inventory.csv',
    );
  });
});
