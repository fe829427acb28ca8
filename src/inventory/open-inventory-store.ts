import type { AutopilotConfig } from '../config/config.js';
import { openFleetDatabase, type FleetDatabase } from '../database/open-fleet-database.js';
import { DatabaseInventoryStore } from './database-inventory-store.js';
import { FolderInventoryStore } from './folder-inventory-store.js';
import type { InventoryStore } from './inventory-store.js';

type InventorySettings = Pick<AutopilotConfig, 'database' | 'inventoryDir'>;

/**
 * Where inventories live: in the fleet database when it is PostgreSQL, which every process reaches.
 * The embedded database belongs to the one sandbox process, so with it the CLI and the worker share
 * the inventory folder instead.
 */
export function inventoryStoreOf(
  database: Pick<FleetDatabase, 'db' | 'kind'>,
  config: Pick<InventorySettings, 'inventoryDir'>,
): InventoryStore {
  return database.kind === 'postgresql'
    ? new DatabaseInventoryStore(database.db)
    : new FolderInventoryStore(config.inventoryDir);
}

/** The same choice for a process without the fleet database open (the CLI); close it when done. */
export async function openInventoryStore(
  config: InventorySettings,
): Promise<{ store: InventoryStore; close(): Promise<void> }> {
  if (!config.database.url) {
    return { store: new FolderInventoryStore(config.inventoryDir), close: async () => undefined };
  }
  const database = await openFleetDatabase({
    url: config.database.url.reveal(),
    embeddedDir: config.database.embeddedDir,
  });
  return { store: inventoryStoreOf(database, config), close: () => database.close() };
}
