import type { FleetHost } from '../../src/shared/fleet.js';

/**
 * `hosts` hosts spread evenly over `environments` environments (customer `<prefix><n>`, stage
 * `p1`), in the interleaved order a CMDB export has: consecutive rows rarely share an environment.
 */
export function fleetHosts(prefix: string, hosts: number, environments: number): FleetHost[] {
  const out: FleetHost[] = [];
  for (let i = 0; i < hosts; i++) {
    const e = (i % environments) + 1;
    const n = Math.floor(i / environments) + 1;
    out.push({
      hostname: `${prefix}${e}-vm-${n}`,
      address: '127.0.0.1',
      customer: `${prefix}${e}`,
      stage: 'p1',
      os: 'linux',
    });
  }
  return out;
}
