import type { FleetHost } from '../shared/fleet.js';

export interface InventorySummary {
  ref: string;
  total: number;
  /** Hosts per environment id. */
  environments: Record<string, number>;
}

/**
 * Validated fleet inventories, addressed by the SHA-256 of their content (`sha256:<hex>`): the same
 * inventory submitted twice is the same fleet. 12,000 hosts do not fit a workflow input (2 MB payload
 * limit); the fleet reads its inventory page by page from here.
 */
export interface InventoryStore {
  /** Idempotent: the same inventory is stored once. */
  put(hosts: FleetHost[]): Promise<InventorySummary>;
  page(ref: string, offset: number, limit: number): Promise<FleetHost[]>;
  summary(ref: string): Promise<InventorySummary>;
}
