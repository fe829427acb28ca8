import type { FleetHost } from '../shared/fleet.js';
import { summarizeInventory } from './inventory-content.js';
import type { InventoryStore, InventorySummary } from './inventory-store.js';

/**
 * What every inventory store shares: a fleet reads its inventory a page at a time, so the last few
 * parsed are kept instead of being read and hash-checked again for each page.
 */
export abstract class CachedInventoryStore implements InventoryStore {
  private readonly recent = new Map<string, FleetHost[]>();

  constructor(private readonly keep = 4) {}

  abstract put(hosts: FleetHost[]): Promise<InventorySummary>;

  /** The inventory's hosts, its content checked against the hash its reference names. */
  protected abstract load(ref: string): Promise<FleetHost[]>;

  async page(ref: string, offset: number, limit: number): Promise<FleetHost[]> {
    return (await this.hosts(ref)).slice(offset, offset + limit);
  }

  async summary(ref: string): Promise<InventorySummary> {
    return summarizeInventory(ref, await this.hosts(ref));
  }

  private async hosts(ref: string): Promise<FleetHost[]> {
    const cached = this.recent.get(ref);
    if (cached) return cached;
    const hosts = await this.load(ref);
    this.recent.set(ref, hosts);
    if (this.recent.size > this.keep) this.recent.delete(this.recent.keys().next().value!);
    return hosts;
  }
}
