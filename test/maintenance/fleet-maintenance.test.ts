import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedCatalogDemo } from '../../sandbox/catalog-demo.js';
import { createActivities, type ActivityDeps } from '../../src/activities/index.js';
import {
  FLEET_MAINTENANCE,
  type EnvironmentMaintenance,
  type MaintenancePage,
  type MaintenanceReport,
} from '../../src/shared/maintenance.js';
import { TOKEN_PURPOSES } from '../../src/shared/registry.js';
import {
  REMEDIATE_CPU_SATURATION,
  remediationWorkflowId,
  type ProblemNotification,
  type RemediationStatus,
} from '../../src/shared/remediation.js';
import type { RemediateCpuSaturation } from '../../src/workflows/remediate-cpu-saturation.js';
import { problemNotificationSignal, remediationStatusQuery } from '../../src/workflows/shared/remediation-signals.js';
import { startTestAws, type TestAws } from '../helpers/aws.js';
import { quietActivityEnvironment, testActivityDeps, testFleetDatabase } from '../helpers/autopilot.js';
import { startTestCluster, type TestCluster } from '../helpers/simulator.js';
import { createTestWorker, createTimeSkippingEnv, uniqueTaskQueue } from '../helpers/temporal.js';

const DAY_MS = 86_400_000;
const ENVIRONMENTS = Array.from({ length: 20 }, (_, i) => `mnt${String(i).padStart(2, '0')}-p1`);

/**
 * The maintenance schedule's runs over 120 simulated days (the Java time-skipping server runs no
 * Schedules, so the test starts one FleetMaintenance a day, as the daily tick would): the workflow's
 * clock and the simulator's move together, so an expired token would really be refused.
 */
describe('fleet maintenance over 120 simulated days on a 20-environment fleet', () => {
  let env: TestWorkflowEnvironment;
  let dt: TestCluster;
  let deps: ActivityDeps;
  let aws: TestAws;
  let database: Awaited<ReturnType<typeof testFleetDatabase>>;
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = uniqueTaskQueue('maintenance');
  const activity = quietActivityEnvironment();
  const reports: MaintenanceReport[] = [];
  const expiredSeen: string[] = [];
  let selfHealingCheckedOnDay100 = false;

  beforeAll(async () => {
    env = await createTimeSkippingEnv();
    dt = await startTestCluster();
    aws = await startTestAws();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-maintenance-'));
    database = await testFleetDatabase(dir);
    deps = {
      ...testActivityDeps({ dt, dir, registry: database.registry, aws }),
      maintenance: { scopeCheckHours: 72 },
    };
    const acts = createActivities(deps);
    for (const id of ENVIRONMENTS) {
      await activity.run(() => acts.ensureEnvironment({ environmentId: id, name: id, tags: [] }));
      for (const purpose of Object.keys(TOKEN_PURPOSES) as (keyof typeof TOKEN_PURPOSES)[]) {
        await activity.run(() =>
          acts.ensureEnvironmentToken({ environmentId: id, purpose, validityDays: 30, rotateBeforeDays: 7 }),
        );
      }
    }
    worker = await createTestWorker(env, { taskQueue, activities: acts });
    running = worker.run();
  }, 120_000);
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await env?.teardown();
    await dt?.stop();
    await aws?.stop();
    await database?.close();
  });

  /** The simulator's clock set to the test server's, so tokens expire on simulated days. */
  const syncClocks = async () => {
    const now = await env.currentTimeMs();
    dt.simulator.setKnobs({ clockOffsetMs: now - Date.now() });
    return now;
  };

  /**
   * On day 100 a remediation runs as the webhook would start it: it validates the problem, rolls
   * the product to the next larger type and comments, with tokens maintenance has rotated.
   */
  const selfHealingCallsWork = async () => {
    const environmentId = ENVIRONMENTS[3]!;
    const before = structuredClone(dt.simulator.stats.requests);
    const product = await seedCatalogDemo({
      aws: aws.clients,
      catalog: aws.catalog,
      bucket: aws.bucket,
      approvedTypesParameter: aws.approvedTypesParameter,
      approvedTypes: ['t3.micro', 't3.small'],
      productName: 'day-100',
      instanceType: 't3.micro',
    });
    const { entityId } = await dt.control<{ entityId: string }>(`/environments/${environmentId}/hosts`, {
      hostName: 'day-100-host',
      awsInstanceId: product.instances[0]!.instanceId,
    });
    const problem = await dt.control<{ problemId: string; displayId: string }>('/problems', {
      environmentId,
      hostName: 'day-100-host',
      notify: { url: 'http://127.0.0.1:9/nobody' },
    });
    const handle = await env.client.workflow.signalWithStart<typeof RemediateCpuSaturation, [ProblemNotification]>(
      REMEDIATE_CPU_SATURATION,
      {
        workflowId: remediationWorkflowId(environmentId, entityId),
        taskQueue,
        args: [
          {
            environmentId,
            hostEntityId: entityId,
            policy: {
              threshold: 1,
              window: '1 day',
              approval: 'auto',
              approvalTimeout: '6 hours',
              cooldown: '2 hours',
            },
          },
        ],
        signal: problemNotificationSignal,
        signalArgs: [
          {
            problemId: problem.problemId,
            displayId: problem.displayId,
            state: 'OPEN',
            hostEntityId: entityId,
            receivedAt: new Date(await env.currentTimeMs()).toISOString(),
          },
        ],
      },
    );
    let status: RemediationStatus | undefined;
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(200)) {
      status = await handle.query(remediationStatusQuery);
      if (status.artifact && status.phase === 'Waiting') break;
    }
    expect(status?.artifact).toMatchObject({ fromType: 't3.micro', toType: 't3.small', created: true });
    const comments = dt.simulator.state.environments.get(environmentId)!.problems.get(problem.problemId)!.comments;
    expect(comments.filter((c) => c.context === 'dynatrace-autopilot')).toHaveLength(1);
    const refused = Object.entries(dt.simulator.stats.requests).filter(
      ([route, statuses]) => (statuses['401'] ?? 0) > (before[route]?.['401'] ?? 0),
    );
    expect(refused).toEqual([]);
    selfHealingCheckedOnDay100 = true;
  };

  it('rotates every token before it expires, revokes exactly the ones it replaced, and self-healing works on day 100', async () => {
    for (let day = 1; day <= 120; day++) {
      await env.sleep(DAY_MS);
      const now = await syncClocks();
      const report = await env.client.workflow.execute(FLEET_MAINTENANCE, {
        taskQueue,
        workflowId: `fleet-maintenance-test-day-${day}`,
        args: [{ batchSize: 8 }],
      });
      reports.push(report as MaintenanceReport);
      if (day === 100) await selfHealingCallsWork();
      for (const e of await database.registry.list()) {
        for (const t of e.tokens.filter((t) => t.state === 'current')) {
          if (!t.expiresAt || Date.parse(t.expiresAt) <= now + DAY_MS)
            expiredSeen.push(`${e.id} ${t.purpose} day ${day}`);
        }
      }
    }
    expect(expiredSeen).toEqual([]);
    expect(selfHealingCheckedOnDay100).toBe(true);
    expect(reports.every((r) => r.needsAttention === 0 && r.failed === 0)).toBe(true);
    // 30-day tokens rotated 7 days before expiry: every 23 days, five times in 120 days.
    const rotated = reports.reduce((n, r) => n + r.rotated, 0);
    expect(rotated).toBe(ENVIRONMENTS.length * 2 * 5);

    const rotations = await database.registry.rotations(undefined, 10_000);
    const replaced = rotations.filter((r) => r.old_token_id !== null && r.reason === 'maintenance: expiring');
    expect(replaced).toHaveLength(rotated);
    const revokedByMaintenance = reports.reduce((n, r) => n + r.revoked, 0);
    // Every replaced token is revoked once its grace is over (the last day's may still be in grace).
    const stillInGrace = (await database.registry.list()).flatMap((e) =>
      e.tokens.filter((t) => t.state === 'superseded'),
    );
    expect(revokedByMaintenance + stillInGrace.length).toBe(replaced.length);
    for (const environmentId of ENVIRONMENTS) {
      const state = dt.simulator.state.environments.get(environmentId)!;
      const live = [...state.tokens.values()]
        .filter((t) => t.kind === 'api')
        .map((t) => t.id)
        .sort();
      const record = await database.registry.get(environmentId);
      // In Dynatrace exactly the tokens the registry holds: the replaced ones are gone, nothing else is.
      expect(live).toEqual(record!.tokens.map((t) => t.tokenId).sort());
      for (const r of replaced.filter((r) => r.environment_id === environmentId)) {
        if (!stillInGrace.some((t) => t.tokenId === r.old_token_id)) expect(live).not.toContain(r.old_token_id);
      }
    }
    // A run with nothing due made no Dynatrace call.
    expect(reports.filter((r) => r.environmentsDue === 0).length).toBeGreaterThan(0);
  }, 600_000);
});

/** Maintenance and token replacement, activity by activity, against the simulator. */
describe('tokens that change behind Autopilot’s back', () => {
  let dt: TestCluster;
  let deps: ActivityDeps;
  let database: Awaited<ReturnType<typeof testFleetDatabase>>;
  const activity = quietActivityEnvironment();

  beforeAll(async () => {
    dt = await startTestCluster();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-tokens-'));
    database = await testFleetDatabase(dir);
    deps = testActivityDeps({ dt, dir, registry: database.registry });
  });
  afterAll(async () => {
    await dt?.stop();
    await database?.close();
  });

  it('a revoked token is replaced on first use, and the step that hit the 401 completes', async () => {
    const acts = createActivities(deps);
    const environmentId = 'rvk-p1';
    await activity.run(() => acts.ensureEnvironment({ environmentId, name: environmentId, tags: [] }));
    await activity.run(() =>
      acts.ensureEnvironmentToken({ environmentId, purpose: 'automation', validityDays: 30, rotateBeforeDays: 7 }),
    );
    const { entityId } = await dt.control<{ entityId: string }>(`/environments/${environmentId}/hosts`, {
      hostName: 'rvk-host',
    });
    const { problemId } = await dt.control<{ problemId: string }>('/problems', { environmentId, hostName: 'rvk-host' });
    // Used once, so the worker holds it; then an administrator revokes it in the console.
    await activity.run(() =>
      acts.validateProblemOccurrence({
        environmentId,
        problemId,
        hostEntityId: entityId,
        cpuEventTypes: ['CPU_SATURATED'],
      }),
    );
    const revoked = (await database.registry.currentToken(environmentId, 'automation'))!.tokenId;
    await dt.control(`/environments/${environmentId}/tokens/${revoked}/revoke`, {});

    expect(
      await activity.run(() =>
        acts.commentOnProblems({ environmentId, problemIds: [problemId], message: 'resized', marker: 'rvk' }),
      ),
    ).toEqual({ commented: [problemId], alreadyCommented: [] });
    const replacement = await database.registry.currentToken(environmentId, 'automation');
    expect(replacement!.tokenId).not.toBe(revoked);
    const [rotation] = await database.registry.rotations(environmentId, 1);
    expect(rotation).toMatchObject({
      old_token_id: revoked,
      new_token_id: replacement!.tokenId,
      reason: 'refused with 401',
    });
    // The next maintenance finds the refused token gone and records it revoked; nothing stays stuck.
    const report = await activity.run(() =>
      acts.maintainEnvironments({
        asOf: new Date(Date.now() + 3 * 3_600_000).toISOString(),
        due: [{ environmentId, rotate: [], revoke: [revoked], scopeCheck: true }],
      }),
    );
    expect(report).toEqual([
      expect.objectContaining({ environmentId, outcome: 'maintained', revoked: [revoked], scopesChecked: true }),
    ]);
    expect((await database.registry.get(environmentId))!.tokens.map((t) => t.tokenId)).toEqual([replacement!.tokenId]);
  });

  it('the daily scope check puts an environment whose token lost a scope in needs-attention; the rest go on', async () => {
    const acts = createActivities(deps);
    for (const environmentId of ['scp-p1', 'scp-p2']) {
      await activity.run(() => acts.ensureEnvironment({ environmentId, name: environmentId, tags: [] }));
      await activity.run(() =>
        acts.ensureEnvironmentToken({ environmentId, purpose: 'automation', validityDays: 30, rotateBeforeDays: 7 }),
      );
    }
    // An administrator narrows the token in the console.
    const narrowed = (await database.registry.currentToken('scp-p1', 'automation'))!.tokenId;
    const token = dt.simulator.state.environments.get('scp-p1')!.tokens.get(narrowed)!;
    token.scopes = token.scopes.filter((s) => s !== 'problems.write');

    const page: MaintenancePage = await activity.run(() =>
      acts.planMaintenance({ asOf: new Date().toISOString(), limit: 10 }),
    );
    expect(page.due.map((d) => [d.environmentId, d.scopeCheck])).toEqual([
      ['scp-p1', true],
      ['scp-p2', true],
    ]);
    const results: EnvironmentMaintenance[] = await activity.run(() =>
      acts.maintainEnvironments({ asOf: new Date().toISOString(), due: page.due }),
    );
    expect(results.map((r) => [r.environmentId, r.outcome, r.reason])).toEqual([
      ['scp-p1', 'needs-attention', `the automation token ${narrowed} lacks problems.write`],
      ['scp-p2', 'maintained', undefined],
    ]);
    expect(await database.registry.get('scp-p1')).toMatchObject({
      state: 'needs-attention',
      attention: `the automation token ${narrowed} lacks problems.write`,
    });
    expect((await database.registry.get('scp-p2'))!.state).toBe('active');
    // Checked, so the next run finds nothing due in either.
    const next: MaintenancePage = await activity.run(() =>
      acts.planMaintenance({ asOf: new Date().toISOString(), limit: 10 }),
    );
    expect(next.due).toEqual([]);
  });
});
