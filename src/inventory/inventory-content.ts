import { createHash } from 'node:crypto';
import type { FleetHost } from '../shared/fleet.js';
import { environmentIdOf } from '../shared/environment-id.js';
import type { InventorySummary } from './inventory-store.js';

/** An inventory as stored: its exact JSON text and the reference its SHA-256 makes of it. */
export function encodeInventory(hosts: FleetHost[]): { ref: string; hash: string; content: string } {
  const content = JSON.stringify(hosts);
  const hash = sha256(content);
  return { ref: `sha256:${hash}`, hash, content };
}

/** The hash a reference names; anything else is refused before a store is asked. */
export function hashOfRef(ref: string): string {
  const hash = /^sha256:([0-9a-f]{64})$/.exec(ref)?.[1];
  if (!hash) throw new Error(`invalid inventory reference ${ref}`);
  return hash;
}

/** The hosts of stored content, once the content is shown to be what its reference names. */
export function decodeInventory(ref: string, content: string): FleetHost[] {
  if (sha256(content) !== hashOfRef(ref)) throw new Error(`inventory ${ref} is corrupt`);
  return JSON.parse(content) as FleetHost[];
}

export function summarizeInventory(ref: string, hosts: FleetHost[]): InventorySummary {
  const environments: Record<string, number> = {};
  for (const h of hosts) environments[environmentIdOf(h)] = (environments[environmentIdOf(h)] ?? 0) + 1;
  return { ref, total: hosts.length, environments };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
