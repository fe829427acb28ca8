import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createActivities } from '../../src/activities/index.js';
import { startOnboarding } from '../../src/client/start-onboarding.js';
import { seedCatalogDemo } from '../../sandbox/catalog-demo.js';
import {
  REMEDIATE_CPU_SATURATION,
  remediationWorkflowId,
  type ProblemNotification,
} from '../../src/shared/remediation.js';
import type { RemediateCpuSaturation } from '../../src/workflows/remediate-cpu-saturation.js';
import { problemNotificationSignal, remediationStatusQuery } from '../../src/workflows/shared/remediation-signals.js';
import { startTestbed, type Testbed } from '../helpers/autopilot.js';
import { startTestAws, type TestAws } from '../helpers/aws.js';
import { cleanEnv, spawnEntryPoint, type SpawnedProcess } from '../helpers/processes.js';
import { createTestWorker, TEST_CODEC_KEYS_TEXT, uniqueTaskQueue } from '../helpers/temporal.js';

const ENV = 'crs-p1';

describe('a worker killed in the middle of a roll', () => {
  let tb: Testbed;
  let aws: TestAws;
  let child: SpawnedProcess | undefined;
  const key = randomBytes(32);

  beforeAll(async () => {
    aws = await startTestAws();
    tb = await startTestbed({ aws, secretKey: key, tls: true });
    const onboarding = await tb.worker();
    await onboarding.runUntil(async () =>
      (await startOnboarding(tb.env.client, { customer: 'crs', stage: 'p1' }, { taskQueue: tb.taskQueue })).result(),
    );
  });
  afterAll(async () => {
    child?.child.kill('SIGKILL');
    await tb.teardown();
    await aws.stop();
  });

  it('resumes on a new worker and leaves exactly one new version', async () => {
    const product = await seedCatalogDemo({
      aws: aws.clients,
      catalog: aws.catalog,
      bucket: aws.bucket,
      approvedTypesParameter: aws.approvedTypesParameter,
      approvedTypes: ['t3.micro', 't3.small', 't3.medium'],
      productName: 'crash-app',
      instanceType: 't3.micro',
    });
    const { entityId } = await tb.dt.control<{ entityId: string }>(`/environments/${ENV}/hosts`, {
      hostName: 'crs-vm-1',
      awsInstanceId: product.instances[0]!.instanceId,
    });
    // The new version stays CREATING while the first worker waits on it.
    aws.catalog.configure({ artifactReadyAfterMs: null });

    const taskQueue = uniqueTaskQueue('remediation-crash');
    child = spawnEntryPoint(
      'src/workers/main.ts',
      cleanEnv({
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        AUTOPILOT_CODEC_KEYS: TEST_CODEC_KEYS_TEXT,
        AUTOPILOT_TASK_QUEUE: taskQueue,
        AUTOPILOT_METRICS_ADDRESS: 'off',
        DT_CLUSTER_URL: tb.dt.simulator.url,
        DT_CA_CERT_FILE: tb.dt.simulator.caFile!,
        DT_CLUSTER_TOKEN: tb.dt.clusterToken,
        AUTOPILOT_SECRET_KEY: key.toString('base64'),
        AUTOPILOT_SECRETS_DIR: path.join(tb.dir, 'secrets'),
        AUTOPILOT_INSTALLER_CACHE_DIR: path.join(tb.dir, 'installers'),
        // The testbed owns its embedded database; this worker has its own (one owner per database).
        AUTOPILOT_EMBEDDED_DATABASE_DIR: path.join(tb.dir, 'worker-fleet-db'),
        AWS_REGION: 'us-east-1',
        AWS_ENDPOINT_URL: inject('motoUrl'),
        AWS_ENDPOINT_URL_SERVICE_CATALOG: aws.catalog.url,
        AWS_ACCESS_KEY_ID: 'testing',
        AWS_SECRET_ACCESS_KEY: 'testing',
        REMEDIATION_TEMPLATE_BUCKET: aws.bucket,
        REMEDIATION_APPROVED_TYPES_PARAMETER: aws.approvedTypesParameter,
      }),
    );
    await child.waitForOutput(/"msg":"Worker started"/, 60_000);

    const notifications: ProblemNotification[] = [];
    for (let i = 0; i < 3; i++) {
      const p = await tb.dt.control<{ problemId: string; displayId: string }>('/problems', {
        environmentId: ENV,
        hostName: 'crs-vm-1',
        notify: { url: 'http://127.0.0.1:9/nobody' },
      });
      notifications.push({
        problemId: p.problemId,
        displayId: p.displayId,
        state: 'OPEN',
        hostEntityId: entityId,
        receivedAt: new Date().toISOString(),
      });
    }
    const workflowId = remediationWorkflowId(ENV, entityId);
    const handle = await tb.env.client.workflow.signalWithStart<typeof RemediateCpuSaturation, [ProblemNotification]>(
      REMEDIATE_CPU_SATURATION,
      {
        workflowId,
        taskQueue,
        args: [
          {
            environmentId: ENV,
            hostEntityId: entityId,
            policy: { threshold: 3, window: '1 hour', cooldown: '1 minute' },
          },
        ],
        signal: problemNotificationSignal,
        signalArgs: [notifications[0]!],
      },
    );
    await handle.signal(problemNotificationSignal, notifications[1]!);
    await handle.signal(problemNotificationSignal, notifications[2]!);

    // Killed while it waits for the new version: the create call itself has no heartbeat, and a
    // kill before its completion was recorded would wait out its 1-minute start-to-close.
    const waitingForVersion = async () =>
      (await handle.describe()).raw.pendingActivities?.some((a) => a.activityType?.name === 'awaitArtifactAvailable') ??
      false;
    const deadline = Date.now() + 60_000;
    while (aws.catalog.listArtifacts(product.productId).length < 2 || !(await waitingForVersion())) {
      if (Date.now() > deadline) throw new Error(`the roll never started:\n${child.stdout().slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    child.child.kill('SIGKILL');
    await child.exit;
    const pending = aws.catalog.listArtifacts(product.productId).find((a) => a.id !== product.provisioningArtifactId)!;
    expect(pending.status).toBe('CREATING');
    aws.catalog.settleArtifact(pending.id);

    const replacement = await createTestWorker(tb.env, { taskQueue, activities: createActivities(tb.deps) });
    const status = await replacement.runUntil(async () => {
      const end = Date.now() + 60_000;
      for (;;) {
        const s = await handle.query(remediationStatusQuery);
        // The comments follow the roll: stopping the worker before them would race the workflow.
        const commented = notifications.every((n) =>
          tb.dt.simulator.state.environments
            .get(ENV)!
            .problems.get(n.problemId)!
            .comments.some((c) => c.context === 'dynatrace-autopilot'),
        );
        if (s.artifact && commented) return s;
        if (Date.now() > end) throw new Error(`no roll after the restart: ${JSON.stringify(s)}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    });
    expect(status.artifact).toMatchObject({ artifactId: pending.id, toType: 't3.small', created: true });
    expect(aws.catalog.listArtifacts(product.productId)).toHaveLength(2);
    expect(aws.catalog.stats().provisioningArtifactsCreated).toBe(1);
    for (const n of notifications) {
      const comments = tb.dt.simulator.state.environments.get(ENV)!.problems.get(n.problemId)!.comments;
      expect(comments.filter((c) => c.context === 'dynatrace-autopilot')).toHaveLength(1);
    }
    await handle.terminate('test done');
  });
});
