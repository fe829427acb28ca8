import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FleetHost } from '../shared/fleet.js';
import { decodeInventory, encodeInventory, hashOfRef, summarizeInventory } from './inventory-content.js';
import type { InventorySummary } from './inventory-store.js';
import { CachedInventoryStore } from './cached-inventory-store.js';

/**
 * Inventories as files in a folder, for the single-process sandbox only: its embedded database
 * belongs to the worker, so the CLI cannot store an inventory there and both use this folder.
 */
export class FolderInventoryStore extends CachedInventoryStore {
  constructor(private readonly dir: string) {
    super();
  }

  async put(hosts: FleetHost[]): Promise<InventorySummary> {
    const { ref, hash, content } = encodeInventory(hosts);
    mkdirSync(this.dir, { recursive: true });
    const file = path.join(this.dir, `${hash}.json`);
    if (!existsSync(file)) {
      writeFileSync(`${file}.tmp`, content);
      renameSync(`${file}.tmp`, file);
    }
    return summarizeInventory(ref, hosts);
  }

  protected async load(ref: string): Promise<FleetHost[]> {
    const file = path.join(this.dir, `${hashOfRef(ref)}.json`);
    if (!existsSync(file)) throw new Error(`inventory ${ref} is not in ${this.dir}`);
    return decodeInventory(ref, readFileSync(file, 'utf8'));
  }
}
