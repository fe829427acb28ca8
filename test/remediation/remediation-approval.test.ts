import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, WorkflowUpdateFailedError } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities, type ActivityDeps } from '../../src/activities/index.js';
import { seedCatalogDemo } from '../../sandbox/catalog-demo.js';
import { EncryptionCodec } from '../../src/codec/encryption-codec.js';
import { secretRefs } from '../../src/secrets/secret-store.js';
import { FailureType } from '../../src/shared/failure-types.js';
import {
  REMEDIATE_CPU_SATURATION,
  remediationWorkflowId,
  type ProblemNotification,
  type RemediationResult,
} from '../../src/shared/remediation.js';
import type { RemediateCpuSaturation } from '../../src/workflows/remediate-cpu-saturation.js';
import {
  approvalUpdate,
  approveSignal,
  problemNotificationSignal,
  remediationStatusQuery,
} from '../../src/workflows/shared/remediation-signals.js';
import { testActivityDeps, testFleetDatabase } from '../helpers/autopilot.js';
import { startTestAws, type TestAws } from '../helpers/aws.js';
import { startTestCluster, type TestCluster } from '../helpers/simulator.js';
import {
  createTestWorker,
  createTimeSkippingEnv,
  testCodecKeys,
  testDataConverter,
  uniqueTaskQueue,
} from '../helpers/temporal.js';

const ENV = 'apr-p1';
const { EventType } = proto.temporal.api.enums.v1;

/** REMEDIATION_APPROVAL=required: hours of waiting pass in moments on the time-skipping server. */
describe('self-healing with approval (time-skipping server)', () => {
  let env: TestWorkflowEnvironment;
  let dt: TestCluster;
  let aws: TestAws;
  let deps: ActivityDeps;
  let worker: Worker;
  let running: Promise<void>;
  let database: Awaited<ReturnType<typeof testFleetDatabase>>;
  const taskQueue = uniqueTaskQueue('approval');

  beforeAll(async () => {
    env = await createTimeSkippingEnv();
    dt = await startTestCluster();
    aws = await startTestAws();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-approval-'));
    database = await testFleetDatabase(dir);
    deps = testActivityDeps({ dt, dir, registry: database.registry, aws });
    // The environment is ready as onboarding would leave it: its automation token in the secret store.
    const { token } = await dt.environment(ENV);
    await deps.secrets.put(secretRefs.environmentToken(ENV, 'automation'), token, { tokenId: 'test' });
    worker = await createTestWorker(env, { taskQueue, activities: createActivities(deps) });
    running = worker.run();
  });
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await env.teardown();
    await dt.stop();
    await aws.stop();
    await database.close();
  });

  const prepare = async (name: string) => {
    const product = await seedCatalogDemo({
      aws: aws.clients,
      catalog: aws.catalog,
      bucket: aws.bucket,
      approvedTypesParameter: aws.approvedTypesParameter,
      approvedTypes: ['t3.micro', 't3.small'],
      productName: name,
      instanceType: 't3.micro',
    });
    const { entityId } = await dt.control<{ entityId: string }>(`/environments/${ENV}/hosts`, {
      hostName: name,
      awsInstanceId: product.instances[0]!.instanceId,
    });
    const problem = await dt.control<{ problemId: string; displayId: string }>('/problems', {
      environmentId: ENV,
      hostName: name,
      notify: { url: 'http://127.0.0.1:9/nobody' },
    });
    const handle = await env.client.workflow.signalWithStart<typeof RemediateCpuSaturation, [ProblemNotification]>(
      REMEDIATE_CPU_SATURATION,
      {
        workflowId: remediationWorkflowId(ENV, entityId),
        taskQueue,
        args: [
          {
            environmentId: ENV,
            hostEntityId: entityId,
            policy: {
              threshold: 1,
              window: '1 day',
              approval: 'required',
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
            receivedAt: new Date().toISOString(),
          },
        ],
      },
    );
    const deadline = Date.now() + 30_000;
    while (!(await handle.query(remediationStatusQuery)).awaitingApproval) {
      if (Date.now() > deadline) throw new Error('never waited for approval');
      await new Promise((r) => setTimeout(r, 200));
    }
    const description = await handle.describe();
    expect(description.typedSearchAttributes.get({ name: 'AutopilotPhase', type: 'KEYWORD' })).toBe('AwaitingApproval');
    return { handle, product, problem };
  };

  const comments = (problemId: string) =>
    dt.simulator.state.environments
      .get(ENV)!
      .problems.get(problemId)!
      .comments.map((c) => c.content);

  it('an approval that never comes expires after its timeout, with a comment and no change', async () => {
    const { handle, product, problem } = await prepare('apr-expire');
    const started = Date.now();
    const result: RemediationResult = await handle.result();
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(result).toMatchObject({ outcome: 'approval-expired', reason: 'no approval within 6 hours' });
    expect(aws.catalog.listArtifacts(product.productId)).toHaveLength(1);
    expect(comments(problem.problemId)).toEqual([
      expect.stringContaining('nobody approved it within 6 hours: nothing was changed'),
    ]);
  });

  it('an approved change is rolled out; a decision after the fact is refused', async () => {
    const { handle, product, problem } = await prepare('apr-ok');
    expect(await handle.executeUpdate(approvalUpdate, { args: ['approve', { by: 'alice' }] })).toEqual({
      decision: 'approve',
    });
    const result = await handle.result();
    expect(result).toMatchObject({
      outcome: 'remediated',
      artifact: { fromType: 't3.micro', toType: 't3.small', created: true },
    });
    expect(aws.catalog.listArtifacts(product.productId)).toHaveLength(2);
    expect(comments(problem.problemId)).toEqual([
      expect.stringContaining('Created version "t3.small-dynatrace-autopilot"'),
    ]);
  });

  it('an approval from a client without the codec key changes nothing: the signal is dropped, the update refused', async () => {
    const { handle, product } = await prepare('apr-forged');
    // What anyone who reaches the frontend can send (`temporal workflow signal --name approve`).
    const plain = new Client({ connection: env.connection, namespace: env.namespace ?? 'default' });
    const forged = plain.workflow.getHandle(handle.workflowId);
    await forged.signal(approveSignal);
    await forged.signal(approveSignal, { by: 'mallory' });
    // The update is refused. Its reason travels encrypted; read here with the key, as an operator's UI does.
    const readsWithTheKey = new Client({
      connection: env.connection,
      namespace: env.namespace ?? 'default',
      dataConverter: {
        payloadCodecs: [{ encode: async (p) => p, decode: (p) => new EncryptionCodec(testCodecKeys).decode(p) }],
        failureConverterPath: testDataConverter.failureConverterPath,
      },
    });
    const refusal = await readsWithTheKey.workflow
      .getHandle(handle.workflowId)
      .executeUpdate(approvalUpdate, { args: ['approve', { by: 'mallory' }] })
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(refusal).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((refusal as WorkflowUpdateFailedError).cause).toMatchObject({
      type: FailureType.UnsealedPayload,
      message: expect.stringContaining('Update approval carries payloads that are not sealed'),
    });
    // The signals were delivered and dropped: the run still waits, and nothing was created.
    const signalled = (await handle.fetchHistory()).events!.filter(
      (e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
    ).length;
    expect(signalled).toBe(3);
    expect(await handle.query(remediationStatusQuery)).toMatchObject({ awaitingApproval: true });
    expect(aws.catalog.listArtifacts(product.productId)).toHaveLength(1);
    // The operator's own approval, sealed, still works.
    await handle.signal(approveSignal, { by: 'alice' });
    expect(await handle.result()).toMatchObject({ outcome: 'remediated' });
  });

  it('a rejected change is commented and nothing is created', async () => {
    const { handle, product, problem } = await prepare('apr-no');
    await handle.executeUpdate(approvalUpdate, {
      args: ['reject', { by: 'bob', reason: 'load test, not real traffic' }],
    });
    const result = await handle.result();
    expect(result).toMatchObject({ outcome: 'rejected', reason: 'rejected: load test, not real traffic' });
    expect(aws.catalog.listArtifacts(product.productId)).toHaveLength(1);
    expect(comments(problem.problemId)[0]).toContain('the change was rejected by bob (load test, not real traffic)');
  });
});
