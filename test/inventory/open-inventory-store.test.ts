import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgresServer, type PostgresServer } from '../../sandbox/postgres-server.js';
import { loadConfig } from '../../src/config/config.js';
import { openFleetDatabase } from '../../src/database/open-fleet-database.js';
import { DatabaseInventoryStore } from '../../src/inventory/database-inventory-store.js';
import { FolderInventoryStore } from '../../src/inventory/folder-inventory-store.js';
import { inventoryStoreOf, openInventoryStore } from '../../src/inventory/open-inventory-store.js';
import type { FleetHost } from '../../src/shared/fleet.js';

const hosts: FleetHost[] = [
  { hostname: 'cli-vm-1', address: '10.0.0.1', customer: 'cli', stage: 'p1', os: 'linux' },
  { hostname: 'cli-vm-2', address: '10.0.0.2', customer: 'cli', stage: 'p1', os: 'linux' },
];

/** Where `autopilot enroll-fleet` stores an inventory, and where a worker of the same deployment reads it. */
describe('the inventory store the CLI and the workers choose', () => {
  let postgres: PostgresServer;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'open-inventory-store-'));
  beforeAll(async () => {
    postgres = await startPostgresServer();
  }, 120_000);
  afterAll(async () => {
    await postgres.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('with AUTOPILOT_DATABASE_URL the CLI stores into the fleet database, where a worker on PostgreSQL reads it', async () => {
    const config = loadConfig({ AUTOPILOT_DATA_DIR: path.join(dir, 'cli'), AUTOPILOT_DATABASE_URL: postgres.url });
    const cli = await openInventoryStore(config);
    expect(cli.store).toBeInstanceOf(DatabaseInventoryStore);
    const summary = await cli.store.put(hosts).finally(() => cli.close());
    expect(existsSync(config.inventoryDir)).toBe(false);

    // A worker elsewhere: its own data folder, the same database.
    const database = await openFleetDatabase({ url: postgres.url, embeddedDir: '/nonexistent' });
    try {
      const worker = inventoryStoreOf(database, loadConfig({ AUTOPILOT_DATA_DIR: path.join(dir, 'worker') }));
      expect(worker).toBeInstanceOf(DatabaseInventoryStore);
      expect(await worker.summary(summary.ref)).toEqual({ ref: summary.ref, total: 2, environments: { 'cli-p1': 2 } });
      expect(await worker.page(summary.ref, 1, 10)).toEqual([hosts[1]]);
      const rows = await database.db.selectFrom('inventories').select(['ref', 'hosts']).execute();
      expect(rows).toEqual([{ ref: summary.ref, hosts: 2 }]);
    } finally {
      await database.close();
    }
  });

  it('without it (the sandbox: PGlite belongs to the worker) both use the inventory folder', async () => {
    const config = loadConfig({ AUTOPILOT_DATA_DIR: path.join(dir, 'sandbox') });
    const cli = await openInventoryStore(config);
    expect(cli.store).toBeInstanceOf(FolderInventoryStore);
    const summary = await cli.store.put(hosts).finally(() => cli.close());
    expect(readdirSync(config.inventoryDir)).toEqual([`${summary.ref.slice('sha256:'.length)}.json`]);

    const database = await openFleetDatabase({ embeddedDir: config.database.embeddedDir });
    try {
      const worker = inventoryStoreOf(database, config);
      expect(worker).toBeInstanceOf(FolderInventoryStore);
      expect(await worker.summary(summary.ref)).toEqual(summary);
    } finally {
      await database.close();
    }
  });
});
