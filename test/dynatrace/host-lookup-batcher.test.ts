import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HostLookupBatcher, type ReportingHost } from '../../src/dynatrace/host-lookup-batcher.js';

const WINDOW_MS = 100;
const GATHER_MS = 5_000;
const INSTALL_MS = 40_000;

/** A batcher whose lookups are recorded; every asked host reports. */
function recordingBatcher(gatherMs = GATHER_MS) {
  const queries: { environmentId: string; names: string[]; at: number }[] = [];
  const batcher = new HostLookupBatcher(
    (environmentId, names) => {
      queries.push({ environmentId, names: [...names].sort(), at: Date.now() });
      return Promise.resolve(
        names.map((n): ReportingHost => ({ entityId: `HOST-${n}`, displayName: n, installerVersion: '1.0' })),
      );
    },
    WINDOW_MS,
    gatherMs,
  );
  return { batcher, queries };
}

describe('host lookups after installs: one query for the hosts of an environment that finish together', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits for the installs of its environment due to end soon, and asks as soon as the last one has', async () => {
    const { batcher, queries } = recordingBatcher();
    const start = Date.now();
    const ends = ['a', 'b', 'c'].map(() => batcher.installStarted('env-1'));
    await vi.advanceTimersByTimeAsync(800);
    // Another environment's install ends at the same time: it is asked apart, after the window.
    const otherEnded = batcher.installStarted('env-2');

    await vi.advanceTimersByTimeAsync(INSTALL_MS - 800);
    const a = batcher.find('env-1', 'a', { installMs: Date.now() - start });
    ends[0]!();
    await vi.advanceTimersByTimeAsync(1_500);
    const b = batcher.find('env-1', 'b', { installMs: Date.now() - start });
    ends[1]!();
    const other = batcher.find('env-2', 'x', { installMs: INSTALL_MS - 800 });
    otherEnded();
    await vi.advanceTimersByTimeAsync(1_500);
    expect(queries.filter((q) => q.environmentId === 'env-1')).toHaveLength(0);
    const c = batcher.find('env-1', 'c', { installMs: Date.now() - start });
    ends[2]!();
    await vi.advanceTimersByTimeAsync(0);

    expect(queries).toEqual([
      { environmentId: 'env-2', names: ['x'], at: start + INSTALL_MS + 1_500 + WINDOW_MS },
      // a asked 3 s before; c was the last of them, so the query went out at once.
      { environmentId: 'env-1', names: ['a', 'b', 'c'], at: start + INSTALL_MS + 3_000 },
    ]);
    await expect(Promise.all([a, b, c, other])).resolves.toEqual([
      expect.objectContaining({ entityId: 'HOST-a' }),
      expect.objectContaining({ entityId: 'HOST-b' }),
      expect.objectContaining({ entityId: 'HOST-c' }),
      expect.objectContaining({ entityId: 'HOST-x' }),
    ]);
  });

  it('does not wait for installs that started too late to end within the gathering time', async () => {
    const { batcher, queries } = recordingBatcher();
    const end = batcher.installStarted('env-1');
    await vi.advanceTimersByTimeAsync(INSTALL_MS);
    const late = batcher.installStarted('env-1');
    const asked = Date.now();
    const found = batcher.find('env-1', 'a', { installMs: INSTALL_MS });
    end();
    await vi.advanceTimersByTimeAsync(WINDOW_MS);

    expect(queries).toEqual([{ environmentId: 'env-1', names: ['a'], at: asked + WINDOW_MS }]);
    await expect(found).resolves.toMatchObject({ entityId: 'HOST-a' });
    late();
  });

  /** Two installs of one environment start together; the first ends and asks, the other is still running. */
  async function oneOfTwoAsked() {
    const { batcher, queries } = recordingBatcher();
    const first = batcher.installStarted('env-1');
    const other = batcher.installStarted('env-1');
    await vi.advanceTimersByTimeAsync(INSTALL_MS);
    const asked = Date.now();
    const found = batcher.find('env-1', 'a', { installMs: INSTALL_MS });
    first();
    return { queries, asked, found, other };
  }

  it('asks at the end of the gathering time when an install due by then has not ended', async () => {
    const { queries, asked, found, other: stuck } = await oneOfTwoAsked();
    await vi.advanceTimersByTimeAsync(GATHER_MS - 1);
    expect(queries).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);

    expect(queries).toEqual([{ environmentId: 'env-1', names: ['a'], at: asked + GATHER_MS }]);
    await expect(found).resolves.toMatchObject({ entityId: 'HOST-a' });
    stuck();
  });

  it('asks at once when the install it waited for fails without asking', async () => {
    const { queries, found, other: failing } = await oneOfTwoAsked();
    await vi.advanceTimersByTimeAsync(2_000);
    failing();
    await vi.advanceTimersByTimeAsync(0);

    expect(queries).toEqual([{ environmentId: 'env-1', names: ['a'], at: Date.now() }]);
    await expect(found).resolves.toMatchObject({ entityId: 'HOST-a' });
  });

  it('keeps the plain window for polls, and for every question when gathering is off', async () => {
    for (const gatherMs of [GATHER_MS, 0]) {
      const { batcher, queries } = recordingBatcher(gatherMs);
      const running = batcher.installStarted('env-1');
      await vi.advanceTimersByTimeAsync(INSTALL_MS - 1_000);
      const asked = Date.now();
      const poll = batcher.find('env-1', 'p');
      const afterInstall = gatherMs === 0 ? batcher.find('env-1', 'q', { installMs: INSTALL_MS }) : undefined;
      await vi.advanceTimersByTimeAsync(WINDOW_MS);

      expect(queries).toEqual([
        { environmentId: 'env-1', names: gatherMs === 0 ? ['p', 'q'] : ['p'], at: asked + WINDOW_MS },
      ]);
      await expect(poll).resolves.toMatchObject({ entityId: 'HOST-p' });
      if (afterInstall) await expect(afterInstall).resolves.toMatchObject({ entityId: 'HOST-q' });
      running();
    }
  });
});
