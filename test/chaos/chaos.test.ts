import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHAOS_FAULTS, runChaos } from '../../bench/chaos/chaos-run.js';

describe('chaos (small): a fleet roll-out through faults, a worker SIGKILL and a Temporal server restart', () => {
  it(
    'enrolls every host, with each environment, group, token, download and install exactly once',
    { timeout: 600_000 },
    async () => {
      const result = await runChaos({
        dir: mkdtempSync(path.join(os.tmpdir(), 'autopilot-chaos-test-')),
        hosts: 120,
        environments: 12,
        installMs: 1_500,
        concurrency: { global: 40, perEnvironment: 5 },
        workerKills: 1,
        serverRestarts: 1,
        faults: CHAOS_FAULTS,
        log: (line) => console.info(line),
      });
      const failed = result.checks.filter((c) => !c.ok);
      expect(failed, JSON.stringify(failed)).toEqual([]);
      expect(result.rollout.counts.faultsInjected).toBeGreaterThan(0);
      expect(result.disruptions).toHaveLength(2);
      for (const d of result.disruptions) expect(d.recoverySeconds).toBeGreaterThan(0);
    },
  );
});
