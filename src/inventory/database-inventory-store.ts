import type { Kysely } from 'kysely';
import type { FleetSchema } from '../database/fleet-schema.js';
import type { FleetHost } from '../shared/fleet.js';
import { decodeInventory, encodeInventory, hashOfRef, summarizeInventory } from './inventory-content.js';
import type { InventorySummary } from './inventory-store.js';
import { CachedInventoryStore } from './cached-inventory-store.js';

/**
 * Inventories in the fleet database: the CLI stores one wherever it runs, and any worker that
 * connects to the database can run the fleet.
 */
export class DatabaseInventoryStore extends CachedInventoryStore {
  constructor(private readonly db: Kysely<FleetSchema>) {
    super();
  }

  async put(hosts: FleetHost[]): Promise<InventorySummary> {
    const { ref, content } = encodeInventory(hosts);
    await this.db
      .insertInto('inventories')
      .values({ ref, content, hosts: hosts.length })
      .onConflict((oc) => oc.column('ref').doNothing())
      .execute();
    return summarizeInventory(ref, hosts);
  }

  protected async load(ref: string): Promise<FleetHost[]> {
    hashOfRef(ref);
    const row = await this.db.selectFrom('inventories').select('content').where('ref', '=', ref).executeTakeFirst();
    if (!row) throw new Error(`inventory ${ref} is not in the fleet database`);
    return decodeInventory(ref, row.content);
  }
}
