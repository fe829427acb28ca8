import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFleet } from '../../src/client/start-fleet.js';
import { HOST_ENROLLMENT } from '../../src/shared/enrollment.js';
import type { FleetHost } from '../../src/shared/fleet.js';
import { fleetTaskQueue } from '../../src/shared/task-queues.js';
import { ONBOARD_CUSTOMER } from '../../src/shared/onboarding.js';
import { fleetProgressQuery } from '../../src/workflows/shared/fleet-signals.js';
import { startTestbed, type Testbed } from '../helpers/autopilot.js';
import { recordHistory } from '../helpers/temporal.js';

const ENVIRONMENTS = 20;
const HOSTS_PER_ENVIRONMENT = 25;
const HISTORY_LIMIT = 500;

describe('EnrollFleet: 500 hosts across 20 environments with the local executor', () => {
  let tb: Testbed;
  beforeAll(async () => {
    tb = await startTestbed();
  });
  afterAll(async () => {
    await tb.teardown();
  });

  it(
    'onboards each environment once, downloads each installer once, mints no per-host token, and bounds its history',
    { timeout: 300_000 },
    async () => {
      const hosts: FleetHost[] = [];
      for (let e = 1; e <= ENVIRONMENTS; e++) {
        for (let h = 1; h <= HOSTS_PER_ENVIRONMENT; h++) {
          hosts.push({
            hostname: `f${e}-vm-${h}`,
            address: '127.0.0.1',
            customer: `fleet${e}`,
            stage: 'p1',
            os: 'linux',
          });
        }
      }
      // Inventory order interleaves environments, as a CMDB export would.
      hosts.sort(
        (a, b) =>
          a.hostname.split('-vm-')[1]!.localeCompare(b.hostname.split('-vm-')[1]!) ||
          a.hostname.localeCompare(b.hostname),
      );
      const inventory = await tb.deps.inventories.put(hosts);
      expect(inventory).toMatchObject({ total: 500 });
      expect(Object.keys(inventory.environments)).toHaveLength(20);

      const worker = await tb.worker();
      const started = Date.now();
      const { report, progress, runs } = await worker.runUntil(async () => {
        const handle = await startFleet(tb.env.client, inventory, {
          taskQueue: tb.taskQueue,
          executor: 'local',
          concurrency: { global: 60, perEnvironment: 10 },
          pageSize: 100,
          historyLimit: HISTORY_LIMIT,
        });
        const again = await startFleet(tb.env.client, inventory, { taskQueue: tb.taskQueue, executor: 'local' });
        expect(again.firstExecutionRunId).toBe(handle.firstExecutionRunId);
        const result = await handle.result();
        const finalProgress = await tb.env.client.workflow.getHandle(handle.workflowId).query(fleetProgressQuery);
        const executions = [];
        for await (const run of tb.env.client.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` }))
          executions.push(run);
        return { report: result, progress: finalProgress, runs: executions };
      });
      const seconds = (Date.now() - started) / 1000;

      expect(report).toMatchObject({
        total: 500,
        done: 500,
        failed: 0,
        needsAttention: 0,
        running: 0,
        phase: 'Completed',
      });
      for (const [env, tally] of Object.entries(report.perEnvironment)) {
        expect(tally, env).toMatchObject({ total: 25, done: 25, installed: 25, failed: 0 });
      }
      expect(progress).toMatchObject({ done: report.done, failed: report.failed, total: report.total });

      // Continue-as-new kept every run's history bounded.
      expect(report.runs).toBeGreaterThan(1);
      expect(runs).toHaveLength(report.runs);
      for (const run of runs) expect(run.historyLength).toBeLessThanOrEqual(HISTORY_LIMIT + 400);
      // The fleet coordinates from its own queue; its hosts run on the main one.
      for (const run of runs) expect(run.taskQueue).toBe(fleetTaskQueue(tb.taskQueue));
      const hostRuns = [];
      for await (const run of tb.env.client.workflow.list({ query: `WorkflowType = '${HOST_ENROLLMENT}'` }))
        if (run.workflowId.startsWith('enroll:fleet')) hostRuns.push(run.taskQueue);
      expect(hostRuns).toHaveLength(500);
      expect(new Set(hostRuns)).toEqual(new Set([tb.taskQueue]));

      const stats = await tb.dt.stats();
      expect(stats.created.environments).toBe(20);
      expect(stats.installerDownloads).toBe(20);
      // Two tokens per environment (installer download, automation), none per host.
      expect(stats.created.apiTokens).toBe(40);
      expect(stats.hostsConnected).toBe(500);
      const onboardings = [];
      for await (const run of tb.env.client.workflow.list({ query: `WorkflowType = '${ONBOARD_CUSTOMER}'` })) {
        if (run.workflowId.startsWith('onboard:fleet')) {
          onboardings.push(run.workflowId);
          expect(run.taskQueue, run.workflowId).toBe(tb.taskQueue);
        }
      }
      expect(onboardings).toHaveLength(20);
      expect(new Set(onboardings).size).toBe(20);

      // Speed and API economy are measured by `npm run bench`; this records what the test run saw.
      console.info(
        `fleet of 500 hosts: ${seconds.toFixed(1)} s, ${report.runs} runs, ${stats.apiRequests} Dynatrace API calls (${(stats.apiRequests / 500).toFixed(2)} per host)`,
      );
    },
  );

  it('waits for a host that needs attention, shows it, and finishes once an operator retries it', async () => {
    tb.dt.simulator.setKnobs({ failInstallHosts: ['att-vm-2'] });
    const hosts: FleetHost[] = [1, 2, 3, 4].map((n) => ({
      hostname: `att-vm-${n}`,
      address: '127.0.0.1',
      customer: n % 2 ? 'fla' : 'flb',
      stage: 'p1',
      os: 'linux',
    }));
    const inventory = await tb.deps.inventories.put(hosts);
    const worker = await tb.worker();
    await worker.runUntil(async () => {
      const handle = await startFleet(tb.env.client, inventory, {
        taskQueue: tb.taskQueue,
        executor: 'local',
        historyLimit: 200,
        pageSize: 10,
      });
      const latest = tb.env.client.workflow.getHandle(handle.workflowId);
      const deadline = Date.now() + 60_000;
      let progress = await latest.query(fleetProgressQuery);
      while (progress.phase !== 'NeedsAttention') {
        if (Date.now() > deadline) throw new Error(`the fleet never waited for attention: ${JSON.stringify(progress)}`);
        await new Promise((r) => setTimeout(r, 250));
        progress = await latest.query(fleetProgressQuery);
      }
      expect(progress).toMatchObject({ done: 3, running: 0, needsAttention: 1, failed: 0 });
      expect(progress.attention).toEqual([
        expect.objectContaining({
          workflowId: 'enroll:flb-p1:att-vm-2',
          reason: expect.stringContaining('Simulated installation failure on att-vm-2'),
        }),
      ]);
      expect(progress.perEnvironment['flb-p1']).toMatchObject({ total: 2, done: 1, needsAttention: 1 });

      tb.dt.simulator.setKnobs({ failInstallHosts: [] });
      await tb.env.client.workflow.getHandle('enroll:flb-p1:att-vm-2').signal('retry', { reason: 'fixed' });
      const report = await handle.result();
      expect(report).toMatchObject({ total: 4, done: 4, failed: 0, needsAttention: 0, phase: 'Completed' });
      await recordHistory(latest, 'enroll-fleet-attention-retry');
    });
  });
});
