import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedCatalogDemo } from '../../sandbox/catalog-demo.js';
import { startProductionCluster, type ProductionCluster } from '../../sandbox/cluster/production-cluster.js';
import { autopilotDataConverter } from '../../src/codec/data-converter.js';
import { projectRoot } from '../../src/config/config.js';
import { startOnboarding } from '../../src/client/start-onboarding.js';
import type { FleetProgress, FleetReport } from '../../src/shared/fleet.js';
import { remediationWorkflowId } from '../../src/shared/remediation.js';
import { fleetProgressQuery } from '../../src/workflows/shared/fleet-signals.js';
import { remediationStatusQuery } from '../../src/workflows/shared/remediation-signals.js';
import { simulatorControl } from '../helpers/simulator.js';
import { installTestRuntime } from '../helpers/temporal.js';
import { until } from '../helpers/until.js';

const run = promisify(execFile);
const ENVIRONMENTS = 10;
const HOSTS = 300;

/**
 * Acceptance of the production topology: `npm run cluster`'s processes — the Temporal server built
 * from its Go module on PostgreSQL, three production-build workers with no folder in common, the
 * webhook, codec and fleet servers — through two worker SIGKILLs and a server restart.
 */
describe('the production topology: three workers on a Temporal server on PostgreSQL, sharing nothing', () => {
  let cluster: ProductionCluster;
  let dir: string;
  const events: string[] = [];

  beforeAll(async () => {
    // The processes run the production build, as the image does.
    await run('npm', ['run', '--silent', 'build'], { cwd: projectRoot, maxBuffer: 64 * 1024 * 1024 });
    dir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-cluster-test-'));
    cluster = await startProductionCluster({
      projectRoot,
      dir,
      workers: 3,
      workerEnv: { AUTOPILOT_LOCAL_INSTALL_MS: '1000', AUTOPILOT_LOG_LEVEL: 'WARN' },
      log: (line) => events.push(line),
    });
  }, 420_000);
  afterAll(async () => {
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('create-namespace.sh exits 0 on the fresh server, and again on a second run', async () => {
    expect(cluster.temporal.firstNamespaceRun).toMatchObject({ code: 0 });
    expect(cluster.temporal.firstNamespaceRun.output).toContain(`namespace ${cluster.namespace} is ready`);
    const again = await cluster.temporal.createNamespace();
    expect(again.output).toContain(`namespace ${cluster.namespace} is ready`);
    expect(again.code).toBe(0);
  });

  it(
    'onboards 10 environments and enrolls 300 hosts through two worker SIGKILLs and a server restart, everything once',
    { timeout: 900_000 },
    async () => {
      const customers = Array.from({ length: ENVIRONMENTS }, (_, i) => `tc${i + 1}`);
      const onboarded = await Promise.all(
        customers.map(async (customer) =>
          (await startOnboarding(cluster.client, { customer, stage: 'p1' }, { taskQueue: cluster.taskQueue })).result(),
        ),
      );
      expect(onboarded.map((o) => o.environmentId).sort()).toEqual(customers.map((c) => `${c}-p1`).sort());

      // The fleet starts from a fourth process, the CLI, which stores the inventory where every
      // worker finds it: in the fleet database.
      const csv = path.join(dir, 'hosts.csv');
      const rows = Array.from({ length: HOSTS }, (_, i) => {
        const customer = customers[i % ENVIRONMENTS]!;
        return `${customer}-vm-${Math.floor(i / ENVIRONMENTS) + 1},127.0.0.1,${customer},p1,linux`;
      });
      writeFileSync(csv, ['hostname,address,customer,stage,os', ...rows].join('\n') + '\n');
      const cli = await run(
        process.execPath,
        [
          path.join(projectRoot, 'dist/cli/main.js'),
          'enroll-fleet',
          '--inventory',
          csv,
          '--concurrency',
          '60',
          '--per-environment',
          '10',
          '--no-wait',
          '--json',
        ],
        { cwd: dir, env: cluster.processEnv() },
      );
      const { workflowId } = JSON.parse(cli.stdout) as { workflowId: string };
      const fleet = cluster.client.workflow.getHandle(workflowId);
      const progress = async (): Promise<FleetProgress | undefined> =>
        fleet.query(fleetProgressQuery).catch(() => undefined);
      const reachDone = async (goal: number) => {
        await until(
          `${goal} hosts enrolled`,
          async () => ((await progress())?.done ?? 0) >= goal || undefined,
          300_000,
        );
      };

      const [w1, w2] = [cluster.workers[0]!, cluster.workers[1]!];
      await reachDone(50);
      expect(await w1.kill('SIGKILL')).toBe(137);
      await sleep(3_000);
      await w1.start();
      await reachDone(140);
      await cluster.temporal.restart();
      await reachDone(220);
      expect(await w2.kill('SIGKILL')).toBe(137);
      await w2.start();

      const report = (await fleet.result()) as FleetReport;
      expect(report).toMatchObject({ total: HOSTS, done: HOSTS, failed: 0, needsAttention: 0 });

      // Each thing once, as the cluster (the simulator) counted it.
      const stats = cluster.simulator.stats.snapshot();
      const sum = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
      expect(stats.created.environments).toBe(ENVIRONMENTS);
      expect(stats.created.groups).toBe(2 * ENVIRONMENTS);
      expect(sum(stats.duplicateCreateAttempts)).toBe(0);
      expect(stats.installerDownloads).toBe(ENVIRONMENTS);
      expect(stats.hostsConnected).toBe(HOSTS);
      expect(stats.agentConnects).toBe(HOSTS);
      let liveTokens = 0;
      for (const [id, environment] of cluster.simulator.state.environments) {
        if (!id.startsWith('tc')) continue;
        for (const token of environment.tokens.values()) if (token.kind === 'api' && token.enabled) liveTokens++;
      }
      expect(liveTokens).toBe(2 * ENVIRONMENTS);

      // The installers the workers staged came from the one shared bucket: one object per environment.
      const objects = await cluster.aws.clients.s3.send(new ListObjectsV2Command({ Bucket: cluster.installerBucket }));
      const installers = (objects.Contents ?? []).filter((o) => o.Key?.endsWith('.sh'));
      expect(installers).toHaveLength(ENVIRONMENTS);
      // ... and more than one worker staged its own copies of them, in its own folder.
      const staged = cluster.workers.map((w) => {
        const folder = path.join(dir, w.name, 'installers');
        if (!existsSync(folder)) return 0;
        return readdirSync(folder, { recursive: true }).filter((f) => String(f).endsWith('.sh')).length;
      });
      expect(
        staged.filter((count) => count > 0).length,
        `installers staged per worker: ${staged.join(', ')}`,
      ).toBeGreaterThan(1);

      // Visibility on PostgreSQL answers by our search attributes.
      const enrollments = await cluster.client.workflow.count(`WorkflowType = "HostEnrollment"`);
      expect(enrollments.count).toBe(HOSTS);
      const completed = await cluster.client.workflow.count(
        `WorkflowType = "HostEnrollment" AND ExecutionStatus = "Completed"`,
      );
      expect(completed.count).toBe(HOSTS);
      const ofOne = await cluster.client.workflow.count(
        `WorkflowType = "HostEnrollment" AND DtEnvironmentId = "tc1-p1"`,
      );
      expect(ofOne.count).toBe(HOSTS / ENVIRONMENTS);

      // Histories read back from the server replay against the code that made them, across the
      // kills and the restart.
      const sample: { workflowId: string; history: Awaited<ReturnType<typeof fleet.fetchHistory>> }[] = [];
      for await (const execution of cluster.client.workflow.list({ query: `WorkflowType = "HostEnrollment"` })) {
        sample.push({
          workflowId: execution.workflowId,
          history: await cluster.client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory(),
        });
        if (sample.length === 40) break;
      }
      sample.push({ workflowId, history: await fleet.fetchHistory() });
      installTestRuntime();
      const failures: string[] = [];
      for await (const result of Worker.runReplayHistories(
        {
          workflowBundle: { codePath: path.join(projectRoot, 'dist/workflow-bundle.js') },
          dataConverter: autopilotDataConverter(cluster.codecKeys),
        },
        sample,
      )) {
        if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
      }
      expect(failures).toEqual([]);
      expect((await fleet.describe()).status.name).toBe('COMPLETED');
    },
  );

  it(
    'remediates through the webhook process: three notifications, one new Service Catalog version',
    { timeout: 300_000 },
    async () => {
      const environmentId = 'tc1-p1';
      const product = await seedCatalogDemo({
        aws: cluster.aws.clients,
        catalog: cluster.aws.catalog,
        bucket: cluster.aws.bucket,
        approvedTypesParameter: cluster.aws.approvedTypesParameter,
        approvedTypes: ['t3.micro', 't3.small', 't3.medium'],
        productName: 'cluster-web',
        instanceType: 't3.micro',
        templateFormat: 'yaml',
      });
      // The simulator serves https (production processes take no plain-http cluster).
      const control = simulatorControl(cluster.simulator);
      const { entityId } = await control<{ entityId: string }>(`/environments/${environmentId}/hosts`, {
        hostName: 'cluster-web-1',
        awsInstanceId: product.instances[0]!.instanceId,
      });
      const problems: string[] = [];
      for (let i = 0; i < 3; i++) {
        // Delivered by the simulator through the problem notification onboarding configured, to the
        // webhook process.
        const p = await control<{ problemId: string }>('/problems', { environmentId, hostName: 'cluster-web-1' });
        problems.push(p.problemId);
        await until(
          'the notification to be accepted',
          async () =>
            cluster.simulator.stats.deliveries.some((d) => d.problemId === p.problemId && d.status === 202) ||
            undefined,
        );
      }
      const handle = cluster.client.workflow.getHandle(remediationWorkflowId(environmentId, entityId));
      const status = await until(
        'the roll',
        async () => {
          const s = await handle.query(remediationStatusQuery).catch(() => undefined);
          return s?.artifact ? s : undefined;
        },
        180_000,
      );
      expect(status.artifact).toMatchObject({ fromType: 't3.micro', toType: 't3.small', created: true });
      expect(cluster.aws.catalog.listArtifacts(product.productId)).toHaveLength(2);
      expect(cluster.aws.catalog.stats().provisioningArtifactsCreated).toBe(1);
      expect(problems).toHaveLength(3);
    },
  );
});
