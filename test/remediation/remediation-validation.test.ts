import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOnboarding } from '../../src/client/start-onboarding.js';
import { seedCatalogDemo } from '../../sandbox/catalog-demo.js';
import {
  REMEDIATE_CPU_SATURATION,
  remediationWorkflowId,
  type ProblemNotification,
  type RemediationInput,
  type RemediationResult,
} from '../../src/shared/remediation.js';
import { decideUpdate, progressQuery } from '../../src/workflows/shared/operator-controls.js';
import { problemNotificationSignal } from '../../src/workflows/shared/remediation-signals.js';
import type { RemediateCpuSaturation } from '../../src/workflows/remediate-cpu-saturation.js';
import { startTestbed, type Testbed } from '../helpers/autopilot.js';
import { startTestAws, type TestAws } from '../helpers/aws.js';
import { recordHistory } from '../helpers/temporal.js';
import { FailureType } from '../../src/shared/failure-types.js';

const ENV = 'val-p1';

/**
 * Notifications that must not lead to an AWS write. Each run records why it did nothing; the
 * Service Catalog emulator proves nothing was created.
 */
describe('self-healing validation: what is recorded and left alone', () => {
  let tb: Testbed;
  let aws: TestAws;
  let worker: Worker;
  let running: Promise<void>;
  let instanceOnTop: string;
  let instanceMicro: string;

  beforeAll(async () => {
    aws = await startTestAws();
    tb = await startTestbed({ aws });
    worker = await tb.worker();
    running = worker.run();
    await (
      await startOnboarding(tb.env.client, { customer: 'val', stage: 'p1' }, { taskQueue: tb.taskQueue })
    ).result();
    const small = await seedCatalogDemo({
      aws: aws.clients,
      catalog: aws.catalog,
      bucket: aws.bucket,
      approvedTypesParameter: aws.approvedTypesParameter,
      approvedTypes: ['t3.micro', 't3.small'],
      productName: 'val-app',
      instanceType: 't3.micro',
    });
    instanceMicro = small.instances[0]!.instanceId;
    const large = await seedCatalogDemo({
      aws: aws.clients,
      catalog: aws.catalog,
      bucket: aws.bucket,
      approvedTypesParameter: aws.approvedTypesParameter,
      approvedTypes: ['t3.micro', 't3.small'],
      productName: 'val-big',
      instanceType: 't3.small',
    });
    instanceOnTop = large.instances[0]!.instanceId;
  });
  afterAll(async () => {
    worker.shutdown();
    await running;
    await tb.teardown();
    await aws.stop();
  });

  const addHost = async (hostName: string, awsInstanceId?: string) =>
    (
      await tb.dt.control<{ entityId: string }>(`/environments/${ENV}/hosts`, {
        hostName,
        ...(awsInstanceId ? { awsInstanceId, awsInstanceType: 't3.micro' } : {}),
      })
    ).entityId;

  // Problems opened with a notification target nobody listens on: the test hands them over itself.
  const problem = (hostName: string, kind = 'CPU_SATURATION') =>
    tb.dt.control<{ problemId: string; displayId: string; entityId: string }>('/problems', {
      environmentId: ENV,
      hostName,
      kind,
      notify: { url: 'http://127.0.0.1:9/nobody' },
    });

  const run = async (
    hostEntityId: string,
    notifications: Omit<ProblemNotification, 'hostEntityId' | 'receivedAt'>[],
    threshold = 1,
  ) => {
    const input: RemediationInput = {
      environmentId: ENV,
      hostEntityId,
      policy: { threshold, window: '1 hour', cooldown: '1 second' },
    };
    const workflowId = remediationWorkflowId(ENV, hostEntityId);
    const [first, ...rest] = notifications.map((n) => ({ ...n, hostEntityId, receivedAt: new Date().toISOString() }));
    const handle = await tb.env.client.workflow.signalWithStart<typeof RemediateCpuSaturation, [ProblemNotification]>(
      REMEDIATE_CPU_SATURATION,
      {
        workflowId,
        taskQueue: tb.taskQueue,
        args: [input],
        signal: problemNotificationSignal,
        signalArgs: [first!],
      },
    );
    for (const n of rest) await handle.signal(problemNotificationSignal, n);
    return handle;
  };

  const noAwsWrites = () => {
    const stats = aws.catalog.stats();
    expect(stats.createProvisioningArtifactCalls).toBe(0);
    expect(stats.requestsByOperation.UpdateProvisioningArtifact ?? 0).toBe(0);
  };

  it('a problem that is not CPU saturation is recorded and ignored', async () => {
    const host = await addHost('val-vm-mem', instanceMicro);
    const memory = await problem('val-vm-mem', 'MEMORY_SATURATION');
    const result: RemediationResult = await (
      await run(host, [{ problemId: memory.problemId, state: 'OPEN' }])
    ).result();
    expect(result).toMatchObject({ outcome: 'quiet', occurrences: [] });
    expect(result.ignored[0]!.reason).toMatch(/is not a CPU saturation on a host \(events: MEMORY_SATURATED/);
    noAwsWrites();
  });

  it('a problem resolved before it was checked, a RESOLVED notification, and the test notification id are recorded and ignored', async () => {
    const host = await addHost('val-vm-closed', instanceMicro);
    const closed = await problem('val-vm-closed');
    await tb.dt.control(`/problems/${encodeURIComponent(closed.problemId)}/resolve`, {});
    const result = await (
      await run(host, [
        { problemId: closed.problemId, state: 'OPEN' },
        { problemId: closed.problemId, state: 'RESOLVED' },
        { problemId: '99999', state: 'OPEN' },
      ])
    ).result();
    expect(result.outcome).toBe('quiet');
    expect(result.ignored.map((i) => i.reason)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/was already closed when checked$/),
        'RESOLVED notification: nothing to do',
        `problem 99999 does not exist in ${ENV}`,
      ]),
    );
    noAwsWrites();
  });

  it('a host without an EC2 instance id is not remediable: recorded, and the problem says so', async () => {
    const host = await addHost('val-vm-onprem');
    const cpu = await problem('val-vm-onprem');
    const handle = await run(host, [{ problemId: cpu.problemId, displayId: cpu.displayId, state: 'OPEN' }]);
    const result = await handle.result();
    expect(result).toMatchObject({ outcome: 'not-remediable', hostName: 'val-vm-onprem' });
    expect(result.reason).toBe(
      'val-vm-onprem has no EC2 instance id in Dynatrace (not an EC2 host, or its AWS metadata is missing)',
    );
    const comments = tb.dt.simulator.state.environments.get(ENV)!.problems.get(cpu.problemId)!.comments;
    expect(comments.map((c) => c.content)).toEqual([
      `Dynatrace Autopilot cannot resize val-vm-onprem: ${result.reason}.`,
    ]);
    noAwsWrites();
    await recordHistory(handle, 'remediate-cpu-saturation-not-remediable');
  });

  it('the largest approved type already in use needs attention and changes nothing', async () => {
    const host = await addHost('val-vm-big', instanceOnTop);
    const cpu = await problem('val-vm-big');
    const handle = await run(host, [{ problemId: cpu.problemId, displayId: cpu.displayId, state: 'OPEN' }]);
    const deadline = Date.now() + 30_000;
    let progress = await handle.query(progressQuery);
    while (progress.phase !== 'NeedsAttention') {
      if (Date.now() > deadline) throw new Error(`never needed attention: ${JSON.stringify(progress)}`);
      await new Promise((r) => setTimeout(r, 200));
      progress = await handle.query(progressQuery);
    }
    expect(progress.attention).toMatchObject({
      step: 'plan',
      failureType: FailureType.AtTopOfApprovedTypes,
      allowed: ['retry', 'skip', 'abort'],
    });
    expect(progress.attention!.reason).toBe(
      't3.small is already the largest approved instance type (t3.micro, t3.small): no change made',
    );
    noAwsWrites();
    await handle.executeUpdate(decideUpdate, { args: [{ action: 'skip', reason: 'capacity reviewed manually' }] });
    const result = await handle.result();
    expect(result).toMatchObject({ outcome: 'skipped' });
    noAwsWrites();
  });
});
