import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { processCpuSeconds, ProcessUsageSampler } from '../../bench/harness/process-usage.js';

/** A child that spins on a core for `ms`, then idles until killed. */
function spinner(ms: number) {
  return spawn(
    process.execPath,
    ['-e', `const end = Date.now() + ${ms}; while (Date.now() < end); setInterval(() => {}, 1000);`],
    {
      stdio: 'ignore',
    },
  );
}

describe('benchmark process usage', () => {
  it('reads CPU seconds from /proc and is undefined for a process that is gone', async () => {
    const child = spinner(0);
    await once(child, 'spawn');
    expect(processCpuSeconds(child.pid!)).toBeGreaterThanOrEqual(0);
    child.kill('SIGKILL');
    await once(child, 'exit');
    expect(processCpuSeconds(child.pid!)).toBeUndefined();
  });

  it('counts the CPU of exited children only when asked to', async () => {
    const child = spawn(process.execPath, ['-e', 'while (process.cpuUsage().user < 400_000);'], {
      stdio: 'ignore',
    });
    await once(child, 'exit');
    const own = processCpuSeconds(process.pid)!;
    const withChildren = processCpuSeconds(process.pid, { withReapedChildren: true })!;
    // The child used 0.4 s of CPU and has been waited for, so its CPU is in ours-with-children.
    expect(withChildren - own).toBeGreaterThanOrEqual(0.3);
  });

  it('adds up the CPU of a role across restarts and keeps each role’s peak memory', async () => {
    let current = spinner(600);
    await once(current, 'spawn');
    const sampler = new ProcessUsageSampler(() => ({ worker: current.pid }), 100);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    current.kill('SIGKILL');
    await once(current, 'exit');
    // The replacement is first seen mid-run: all of its CPU counts.
    current = spinner(600);
    await once(current, 'spawn');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const usage = sampler.stop();
    current.kill('SIGKILL');

    // Two spins of 0.6 s; the first may have begun before the sampler's first look.
    expect(usage.cpuSeconds.worker).toBeGreaterThan(0.6);
    expect(usage.cpuSeconds.worker).toBeLessThan(3);
    expect(usage.peakMemoryBytes.worker).toBeGreaterThan(10 * 1024 * 1024);
  });
});
