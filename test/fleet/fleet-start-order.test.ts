import { describe, expect, it } from 'vitest';
import type { HostEnrollmentInput } from '../../src/shared/enrollment.js';
import type { FleetHost } from '../../src/shared/fleet.js';
import { FleetState } from '../../src/workflows/fleet/fleet-state.js';

/** `perEnvironment` hosts in each of `environments`, interleaved as a CMDB export lists them. */
function interleaved(environments: number, perEnvironment: number): FleetHost[] {
  const hosts: FleetHost[] = [];
  for (let n = 1; n <= perEnvironment; n++)
    for (let e = 1; e <= environments; e++)
      hosts.push({ hostname: `c${e}-vm-${n}`, address: '127.0.0.1', customer: `c${e}`, stage: 'p1', os: 'linux' });
  return hosts;
}

function fleetWithReadyEnvironments(hosts: FleetHost[]): FleetState {
  const state = new FleetState();
  state.admit(hosts);
  const environments = [...new Set(hosts.map((h) => `${h.customer}-${h.stage}`))];
  state.onboardingChecked(environments.map((environmentId) => ({ environmentId, state: 'ready' })));
  return state;
}

const inputFor = (h: FleetHost): HostEnrollmentInput => ({
  hostname: h.hostname,
  address: h.address,
  customer: h.customer,
  stage: h.stage,
});
const limits = { global: 12, perEnvironment: 4 };

describe('the order a fleet starts its hosts in', () => {
  it("starts the window's hosts of one environment together, a group of each environment after another", () => {
    const state = fleetWithReadyEnvironments(interleaved(5, 6));
    const first = state.takeStartable(limits, inputFor, 3).map((s) => s.input.hostname);
    expect(first).toEqual([
      ...['c1-vm-1', 'c1-vm-2', 'c1-vm-3'],
      ...['c2-vm-1', 'c2-vm-2', 'c2-vm-3'],
      ...['c3-vm-1', 'c3-vm-2', 'c3-vm-3'],
      ...['c4-vm-1', 'c4-vm-2', 'c4-vm-3'],
    ]);

    // Two of the first environment finish: the next group waits until it fits whole.
    const done = (host: string) =>
      state.report({
        workflowId: `enroll:c1-p1:${host}`,
        environmentId: 'c1-p1',
        hostname: host,
        status: 'done',
        outcome: 'installed',
      });
    done('c1-vm-1');
    done('c1-vm-2');
    expect(state.progress(30).done).toBe(2);
    expect(state.takeStartable(limits, inputFor, 3)).toEqual([]);
    done('c1-vm-3');
    expect(state.takeStartable(limits, inputFor, 3).map((s) => s.input.hostname)).toEqual([
      'c5-vm-1',
      'c5-vm-2',
      'c5-vm-3',
    ]);
    // The window keeps the inventory's order for what is left.
    expect(state.carried.window.slice(0, 3).map((h) => h.hostname)).toEqual(['c1-vm-4', 'c2-vm-4', 'c3-vm-4']);
  });

  it("takes every environment's first group before any environment's second", () => {
    const state = fleetWithReadyEnvironments(interleaved(3, 6));
    const started = state.takeStartable({ global: 13, perEnvironment: 6 }, inputFor, 3).map((s) => s.input.hostname);
    // c2's second group does not fit whole in the one place left: it waits.
    expect(started.slice(9)).toEqual(['c1-vm-4', 'c1-vm-5', 'c1-vm-6']);
  });

  it('starts in inventory order for runs from before the change', () => {
    const state = fleetWithReadyEnvironments(interleaved(5, 6));
    const first = state.takeStartable(limits, inputFor).map((s) => s.input.hostname);
    expect(first.slice(0, 6)).toEqual(['c1-vm-1', 'c2-vm-1', 'c3-vm-1', 'c4-vm-1', 'c5-vm-1', 'c1-vm-2']);
    expect(first).toHaveLength(12);
  });

  it('reads ahead as far as it is asked to, at least a page', () => {
    const state = fleetWithReadyEnvironments(interleaved(5, 6).slice(0, 10));
    expect(state.wantsMoreHosts(100, 10)).toBe(false);
    expect(state.wantsMoreHosts(100, 10, 20)).toBe(true);
    expect(state.wantsMoreHosts(100, 10, 5)).toBe(false);
    expect(state.wantsMoreHosts(10, 10, 20)).toBe(false);
  });
});
