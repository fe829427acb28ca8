import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FleetHost } from '../shared/fleet.js';
import { decodeInventory, encodeInventory, hashOfRef, summarizeInventory } from './inventory-content.js';
import type { InventoryStore, InventorySummary } from './inventory-store.js';
import { RecentInventories } from './recent-inventories.js';

/**
 * Inventories as files in a folder, for the single-process sandbox only: its embedded database
 * belongs to the worker, so the CLI cannot store an inventory there and both use this folder.
 */
export class FolderInventoryStore implements InventoryStore {
  private readonly recent = new RecentInventories();

  constructor(private readonly dir: string) {}

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

  async page(ref: string, offset: number, limit: number): Promise<FleetHost[]> {
    return (await this.recent.get(ref, (r) => this.load(r))).slice(offset, offset + limit);
  }

  async summary(ref: string): Promise<InventorySummary> {
    return summarizeInventory(ref, await this.recent.get(ref, (r) => this.load(r)));
  }

  private async load(ref: string): Promise<FleetHost[]> {
    const file = path.join(this.dir, `${hashOfRef(ref)}.json`);
    if (!existsSync(file)) throw new Error(`inventory ${ref} is not in ${this.dir}`);
    return decodeInventory(ref, readFileSync(file, 'utf8'));
  }
}
