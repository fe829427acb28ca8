import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FleetHost } from '../shared/fleet.js';
import { environmentIdOf } from '../shared/environment-id.js';

export interface InventorySummary {
  ref: string;
  total: number;
  /** Hosts per environment id. */
  environments: Record<string, number>;
}

/**
 * Validated fleet inventories, addressed by the SHA-256 of their content: the same inventory
 * submitted twice is the same fleet. 12,000 hosts do not fit a workflow input (2 MB payload limit);
 * the fleet reads its inventory page by page from here.
 */
export class InventoryStore {
  /** A fleet reads its inventory a page at a time: keep the last ones parsed. */
  private readonly recent = new Map<string, FleetHost[]>();

  constructor(private readonly dir: string) {}

  put(hosts: FleetHost[]): InventorySummary {
    const content = JSON.stringify(hosts);
    const hash = createHash('sha256').update(content).digest('hex');
    mkdirSync(this.dir, { recursive: true });
    const file = path.join(this.dir, `${hash}.json`);
    if (!existsSync(file)) {
      writeFileSync(`${file}.tmp`, content);
      renameSync(`${file}.tmp`, file);
    }
    return summarize(`sha256:${hash}`, hosts);
  }

  page(ref: string, offset: number, limit: number): FleetHost[] {
    return this.load(ref).slice(offset, offset + limit);
  }

  summary(ref: string): InventorySummary {
    return summarize(ref, this.load(ref));
  }

  private load(ref: string): FleetHost[] {
    const cached = this.recent.get(ref);
    if (cached) return cached;
    const hash = /^sha256:([0-9a-f]{64})$/.exec(ref)?.[1];
    if (!hash) throw new Error(`invalid inventory reference ${ref}`);
    const file = path.join(this.dir, `${hash}.json`);
    if (!existsSync(file)) throw new Error(`inventory ${ref} is not in ${this.dir}`);
    const content = readFileSync(file, 'utf8');
    if (createHash('sha256').update(content).digest('hex') !== hash) throw new Error(`inventory ${ref} is corrupt`);
    const hosts = JSON.parse(content) as FleetHost[];
    this.recent.set(ref, hosts);
    if (this.recent.size > 4) this.recent.delete(this.recent.keys().next().value!);
    return hosts;
  }
}

function summarize(ref: string, hosts: FleetHost[]): InventorySummary {
  const environments: Record<string, number> = {};
  for (const h of hosts) environments[environmentIdOf(h)] = (environments[environmentIdOf(h)] ?? 0) + 1;
  return { ref, total: hosts.length, environments };
}
