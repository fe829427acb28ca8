import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFleetDatabase, type FleetDatabase } from '../../src/database/open-fleet-database.js';
import { InstallPace } from '../../src/fleet/install-pace.js';
import { InstallSlots, type InstallSlotRequest } from '../../src/fleet/install-slots.js';
import { DatabaseLeaseBook, MemoryLeaseBook } from '../../src/fleet/install-slot-leases.js';

describe('install slots: a fleet-wide and per-environment limit on installs, shared through the fleet database', () => {
  let dir: string;
  let database: FleetDatabase;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'install-slots-'));
    database = await openFleetDatabase({ embeddedDir: path.join(dir, 'db') });
  });
  afterAll(async () => {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const request = (pool: string, holder: string, environmentId: string): InstallSlotRequest => ({
    pool,
    holder,
    environmentId,
    global: 3,
    perEnvironment: 2,
  });

  /** Holds a slot until `release` is called; `taken` resolves when it got one. */
  function hold(slots: InstallSlots, r: InstallSlotRequest, order: string[]) {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let taken!: () => void;
    const got = new Promise<void>((resolve) => (taken = resolve));
    const done = slots.withSlot(r, async () => {
      order.push(r.holder);
      taken();
      await released;
    });
    return { got, release, done };
  }

  it.each([
    ['in memory (embedded database)', () => new MemoryLeaseBook()],
    ['in the fleet database', () => new DatabaseLeaseBook(database.db)],
  ])(
    '%s: never lets more install than the limits allow, and hands a freed slot to the next waiter at once',
    async (_, book) => {
      const slots = new InstallSlots(book());
      const order: string[] = [];
      const a1 = hold(slots, request('fleet-a', 'h1', 'env-1'), order);
      const a2 = hold(slots, request('fleet-a', 'h2', 'env-1'), order);
      await Promise.all([a1.got, a2.got]);
      // env-1 is full (2), the fleet has one slot left: env-2's host takes it, env-1's third waits.
      const a3 = hold(slots, request('fleet-a', 'h3', 'env-1'), order);
      const a4 = hold(slots, request('fleet-a', 'h4', 'env-2'), order);
      await a4.got;
      const a5 = hold(slots, request('fleet-a', 'h5', 'env-3'), order);
      await sleep(50);
      expect(order).toEqual(['h1', 'h2', 'h4']);
      expect(slots.waiting).toBe(2);
      expect(await slots.usage('fleet-a')).toEqual({ total: 3, perEnvironment: { 'env-1': 2, 'env-2': 1 } });
      // Another fleet has slots of its own.
      const b1 = hold(slots, request('fleet-b', 'b1', 'env-1'), order);
      await b1.got;

      const freedAt = Date.now();
      a1.release();
      await a1.done;
      await a3.got;
      // Handed over in this process without waiting for the recheck timer.
      expect(Date.now() - freedAt).toBeLessThan(500);
      expect(order).toEqual(['h1', 'h2', 'h4', 'b1', 'h3']);
      a4.release();
      await a5.got;
      for (const h of [a2, a3, a5, b1]) h.release();
      await Promise.all([a2.done, a3.done, a5.done, b1.done]);
      expect(await slots.usage('fleet-a')).toEqual({ total: 0, perEnvironment: {} });
      slots.stop();
    },
  );

  it('counts slots across workers, gives a retried install its own lease back, and frees a dead worker’s leases when they expire', async () => {
    const timings = { refreshMs: 300, recheckMs: 100 };
    const dead = new InstallSlots(new DatabaseLeaseBook(database.db, 1_500), timings);
    const alive = new InstallSlots(new DatabaseLeaseBook(database.db, 1_500), timings);
    const order: string[] = [];
    const r = (holder: string) => ({ ...request('fleet-c', holder, `env-${holder}`), global: 2 });
    const d1 = hold(dead, r('d1'), order);
    const d2 = hold(dead, r('d2'), order);
    await Promise.all([d1.got, d2.got]);
    // The worker dies: its refresh timer stops, its work never finishes.
    dead.stop();
    // The retried install of d1 on the other worker takes its own lease back at once.
    const retried = hold(alive, r('d1'), order);
    await retried.got;
    const waiting = hold(alive, r('w1'), order);
    await sleep(500);
    expect(order).toEqual(['d1', 'd2', 'd1']);
    // d2's lease was not refreshed: after it expires, w1 gets the slot.
    await waiting.got;
    expect(order).toEqual(['d1', 'd2', 'd1', 'w1']);
    retried.release();
    waiting.release();
    await Promise.all([retried.done, waiting.done]);
    alive.stop();
  });

  it('stops waiting when the activity is cancelled, without taking a slot', async () => {
    const slots = new InstallSlots(new MemoryLeaseBook());
    const order: string[] = [];
    const r = (holder: string) => ({ ...request('fleet-d', holder, 'env-1'), global: 1 });
    const first = hold(slots, r('x1'), order);
    await first.got;
    const cancel = new AbortController();
    const waited = slots.withSlot(r('x2'), async () => order.push('x2'), cancel.signal);
    cancel.abort(new Error('cancelled'));
    await expect(waited).rejects.toThrow('cancelled');
    expect(slots.waiting).toBe(0);
    first.release();
    await first.done;
    expect(order).toEqual(['x1']);
    expect(await slots.usage('fleet-d')).toEqual({ total: 0, perEnvironment: {} });
    slots.stop();
  });

  it('learns a pool’s typical install time and paces fresh grants at its sustained rate', () => {
    const pace = new InstallPace();
    // Not paced until it has seen enough installs of its own.
    for (let i = 0; i < 7; i++) pace.held('fleet-e', 1_000);
    expect(pace.allowance('fleet-e', 10, 0)).toEqual({ grants: Number.POSITIVE_INFINITY });
    pace.held('fleet-e', 1_000);
    // 10 slots of 1 s installs: one fresh grant per 50 ms, twice as fast as slots free.
    expect(pace.intervalMs('fleet-e', 10)).toBe(50);
    expect(pace.allowance('fleet-e', 10, 5_000)).toEqual({ grants: 1 });
    pace.granted('fleet-e', 10, 1, 5_000);
    expect(pace.allowance('fleet-e', 10, 5_030)).toEqual({ grants: 0, nextAt: 5_050 });
    expect(pace.allowance('fleet-e', 10, 5_050)).toEqual({ grants: 1 });
    // The typical time is the median of recent installs: one stuck install does not slow the pace.
    pace.held('fleet-e', 600_000);
    expect(pace.intervalMs('fleet-e', 10)).toBe(50);
    // Another pool keeps its own pace.
    expect(pace.allowance('fleet-f', 10, 5_050)).toEqual({ grants: Number.POSITIVE_INFINITY });
  });

  it('spreads a wave of freed slots over half an install time instead of starting every waiter at once', async () => {
    const slots = new InstallSlots(new MemoryLeaseBook());
    const r = (holder: string) => ({ ...request('fleet-g', holder, `env-${holder}`), global: 4, perEnvironment: 1 });
    // Eight installs of about 200 ms teach the pool its pace: 0.5 × 200 ms / 4 slots = 25 ms.
    for (let round = 0; round < 2; round++) {
      await Promise.all([0, 1, 2, 3].map((i) => slots.withSlot(r(`learn-${round}-${i}`), () => sleep(200))));
    }
    const order: string[] = [];
    const wave = [0, 1, 2, 3].map((i) => hold(slots, r(`wave-${i}`), order));
    await Promise.all(wave.map((h) => h.got));
    const grantedAt: number[] = [];
    const next = [0, 1, 2, 3].map((i) =>
      slots.withSlot(r(`next-${i}`), () => {
        grantedAt.push(Date.now());
        return Promise.resolve();
      }),
    );
    await sleep(20);
    expect(grantedAt).toEqual([]);
    const freedAt = Date.now();
    for (const h of wave) h.release();
    await Promise.all([...wave.map((h) => h.done), ...next]);
    // All four are taken again, the first at once, the others one pace apart (never closer).
    expect(grantedAt).toHaveLength(4);
    expect(grantedAt[0]! - freedAt).toBeLessThan(1_000);
    for (let i = 1; i < 4; i++) expect(grantedAt[i]! - grantedAt[i - 1]!).toBeGreaterThanOrEqual(20);
    expect(await slots.usage('fleet-g')).toEqual({ total: 0, perEnvironment: {} });
    slots.stop();
  });
});
