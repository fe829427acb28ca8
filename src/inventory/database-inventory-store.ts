import type { Kysely } from 'kysely';
import type { FleetSchema } from '../database/fleet-schema.js';
import type { FleetHost } from '../shared/fleet.js';
import { decodeInventory, encodeInventory, hashOfRef, summarizeInventory } from './inventory-content.js';
import type { InventoryStore, InventorySummary } from './inventory-store.js';
import { RecentInventories } from './recent-inventories.js';

/**
 * Inventories in the fleet database: the CLI stores one wherever it runs, and any worker that
 * connects to the database can run the fleet.
 */
export class DatabaseInventoryStore implements InventoryStore {
  private readonly recent = new RecentInventories();

  constructor(private readonly db: Kysely<FleetSchema>) {}

  async put(hosts: FleetHost[]): Promise<InventorySummary> {
    const { ref, content } = encodeInventory(hosts);
    await this.db
      .insertInto('inventories')
      .values({ ref, content, hosts: hosts.length })
      .onConflict((oc) => oc.column('ref').doNothing())
      .execute();
    return summarizeInventory(ref, hosts);
  }

  async page(ref: string, offset: number, limit: number): Promise<FleetHost[]> {
    return (await this.recent.get(ref, (r) => this.load(r))).slice(offset, offset + limit);
  }

  async summary(ref: string): Promise<InventorySummary> {
    return summarizeInventory(ref, await this.recent.get(ref, (r) => this.load(r)));
  }

  private async load(ref: string): Promise<FleetHost[]> {
    hashOfRef(ref);
    const row = await this.db.selectFrom('inventories').select('content').where('ref', '=', ref).executeTakeFirst();
    if (!row) throw new Error(`inventory ${ref} is not in the fleet database`);
    return decodeInventory(ref, row.content);
  }
}
