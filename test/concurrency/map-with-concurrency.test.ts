import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { mapWithConcurrency } from '../../src/concurrency/map-with-concurrency.js';

describe('mapWithConcurrency', () => {
  it('keeps at most the given number of calls in flight and returns results in input order', async () => {
    let inFlight = 0;
    let most = 0;
    const items = Array.from({ length: 40 }, (_, i) => i);
    const results = await mapWithConcurrency(items, 5, async (item, index) => {
      inFlight++;
      most = Math.max(most, inFlight);
      // Later items finish first: the order of results must not follow the order of completion.
      await sleep(((40 - item) % 7) + 1);
      inFlight--;
      return `${item}@${index}`;
    });
    expect(most).toBe(5);
    expect(results).toEqual(items.map((i) => `${i}@${i}`));
  });

  it('starts nothing more once a call fails, and rejects with that failure', async () => {
    const started: number[] = [];
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const run = mapWithConcurrency([0, 1, 2, 3, 4, 5], 2, async (item) => {
      started.push(item);
      if (item === 0) throw new Error('item 0 refused');
      await held;
      return item;
    });
    await expect(run).rejects.toThrow('item 0 refused');
    // The other lane's call was in flight when 0 failed; once it ends, that lane takes nothing more.
    release();
    await sleep(10);
    expect(started).toEqual([0, 1]);
  });

  it('does nothing for no items and refuses a concurrency that is not a positive integer', async () => {
    await expect(mapWithConcurrency([], 3, () => Promise.resolve(1))).resolves.toEqual([]);
    await expect(mapWithConcurrency([1], 0, () => Promise.resolve(1))).rejects.toThrow(
      'concurrency must be a positive integer, got 0',
    );
  });
});
