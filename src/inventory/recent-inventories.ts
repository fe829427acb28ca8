import type { FleetHost } from '../shared/fleet.js';

/** A fleet reads its inventory a page at a time: the last few parsed are kept, not re-read per page. */
export class RecentInventories {
  private readonly recent = new Map<string, FleetHost[]>();

  constructor(private readonly keep = 4) {}

  async get(ref: string, load: (ref: string) => Promise<FleetHost[]>): Promise<FleetHost[]> {
    const cached = this.recent.get(ref);
    if (cached) return cached;
    const hosts = await load(ref);
    this.recent.set(ref, hosts);
    if (this.recent.size > this.keep) this.recent.delete(this.recent.keys().next().value!);
    return hosts;
  }
}
