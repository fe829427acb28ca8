import { readFileSync } from 'node:fs';

/** Resident and peak-resident memory of a process from /proc (Linux), in bytes; undefined once it is gone. */
export function processMemory(pid: number): { rss: number; peak: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { rss: kib('VmRSS'), peak: kib('VmHWM') };
  } catch {
    return undefined;
  }
}

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks. */
const TICKS_PER_SECOND = 100;

/**
 * CPU seconds (user + system, all threads) a process has used so far; undefined once it is gone.
 * `withReapedChildren` adds what its exited children used, once it has waited for them.
 */
export function processCpuSeconds(pid: number, options: { withReapedChildren?: boolean } = {}): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const [utime, stime, cutime, cstime] = fields.slice(11, 15).map(Number) as [number, number, number, number];
    return (utime + stime + (options.withReapedChildren ? cutime + cstime : 0)) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

export interface ProcessUsage {
  peakMemoryBytes: Record<string, number>;
  /** CPU seconds used during the sampling, per role; a restarted process's pids are added up. */
  cpuSeconds: Record<string, number>;
}

/**
 * Samples a set of processes (by role: worker, server, …) every `intervalMs` for their peak memory
 * and the CPU they use, which is what says whether a run was limited by CPU or by waiting. VmHWM
 * alone would do for one process, but a worker that is killed and restarted is a new pid.
 */
export class ProcessUsageSampler {
  private readonly peaks = new Map<string, number>();
  /** CPU seconds per pid: at the first sample, and at the latest. */
  private readonly cpu = new Map<number, { role: string; first: number; last: number }>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly processes: () => Record<string, number | undefined>,
    intervalMs = 1000,
  ) {
    this.sample(true);
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  /** `atStart`: what processes have used before now is not this run's. */
  sample(atStart = false): void {
    for (const [role, pid] of Object.entries(this.processes())) {
      if (pid === undefined) continue;
      const memory = processMemory(pid);
      if (memory) this.peaks.set(role, Math.max(this.peaks.get(role) ?? 0, memory.peak, memory.rss));
      const cpu = processCpuSeconds(pid);
      if (cpu === undefined) continue;
      const seen = this.cpu.get(pid);
      if (seen) seen.last = cpu;
      // A process first seen mid-run (a restarted worker or server) started during the run.
      else this.cpu.set(pid, { role, first: atStart ? cpu : 0, last: cpu });
    }
  }

  stop(): ProcessUsage {
    this.sample();
    clearInterval(this.timer);
    const cpuSeconds: Record<string, number> = {};
    for (const { role, first, last } of this.cpu.values()) cpuSeconds[role] = (cpuSeconds[role] ?? 0) + last - first;
    return { peakMemoryBytes: Object.fromEntries(this.peaks), cpuSeconds };
  }
}
