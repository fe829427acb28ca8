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

/**
 * Samples a set of processes every `intervalMs` and keeps each one's peak. VmHWM alone would do for
 * one process, but a worker that is killed and restarted is a new pid with a new high-water mark.
 */
export class MemorySampler {
  readonly peaks = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly processes: () => Record<string, number | undefined>,
    intervalMs = 1000,
  ) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  sample(): void {
    for (const [name, pid] of Object.entries(this.processes())) {
      if (pid === undefined) continue;
      const memory = processMemory(pid);
      if (!memory) continue;
      this.peaks.set(name, Math.max(this.peaks.get(name) ?? 0, memory.peak, memory.rss));
    }
  }

  stop(): Record<string, number> {
    this.sample();
    clearInterval(this.timer);
    return Object.fromEntries(this.peaks);
  }
}
