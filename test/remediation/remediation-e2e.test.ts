import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeInstanceType } from '../../src/aws/instance-type-template.js';
import { startOnboarding } from '../../src/client/start-onboarding.js';
import { Secret } from '../../src/config/secret.js';
import { remediationWorkflowId, type RemediationStatus } from '../../src/shared/remediation.js';
import { DEFAULT_WEBHOOK_KEY_HEADER } from '../../src/shared/webhook.js';
import { deriveWebhookKey } from '../../src/webhook/webhook-keys.js';
import { startTestbed, type Testbed } from '../helpers/autopilot.js';
import { selfHealingKit, startTestReceiver } from '../helpers/self-healing.js';
import { until } from '../helpers/until.js';
import { startTestAws, type TestAws } from '../helpers/aws.js';
import { recordHistory } from '../helpers/temporal.js';

const KEY = 'remediation-e2e-webhook-key';
const ENV = 'rem-p1';

describe('self-healing end to end: simulator → webhook → workflow → moto + Service Catalog emulator', () => {
  let tb: Testbed;
  let aws: TestAws;
  let worker: Worker;
  let running: Promise<void>;
  let webhookUrl: string;
  let closeWebhook: () => Promise<void>;
  let kit: ReturnType<typeof selfHealingKit>;

  beforeAll(async () => {
    aws = await startTestAws();
    tb = await startTestbed({ aws });
    const receiver = await startTestReceiver(tb, { key: KEY, maxBodyBytes: 64 * 1024 });
    webhookUrl = receiver.url;
    closeWebhook = receiver.close;
    // Onboarding points the environment's problem notifications at our receiver.
    tb.deps.webhook = { publicUrl: webhookUrl, apiKey: new Secret(KEY) };
    worker = await tb.worker();
    running = worker.run();
    const onboarding = await startOnboarding(
      tb.env.client,
      { customer: 'rem', stage: 'p1' },
      { taskQueue: tb.taskQueue },
    );
    expect((await onboarding.result()).notifications.status).toBe('configured');
    kit = selfHealingKit(tb, aws);
  });
  afterAll(async () => {
    worker.shutdown();
    await running;
    await closeWebhook();
    await tb.teardown();
    await aws.stop();
  });

  const seedProduct = (productName: string, instances: number) => kit.seedProduct(productName, instances);
  const addHost = (hostName: string, instanceId: string) => kit.addHost(ENV, hostName, instanceId);
  /** One CPU-saturation problem, delivered by the simulator through the environment's webhook. */
  const saturate = (hostName: string) => kit.raise(ENV, hostName);
  const status = (hostEntityId: string) => kit.status(ENV, hostEntityId);
  const autopilotComments = (problemId: string) => kit.autopilotComments(ENV, problemId);

  it('after the third occurrence: one new version with the next larger type, one comment per problem', async () => {
    const product = await seedProduct('shop-web', 1);
    const host = await addHost('rem-vm-1', product.instances[0]!.instanceId);
    const problems = [];
    for (let i = 0; i < 3; i++) {
      problems.push(await saturate('rem-vm-1'));
      if (i < 2) {
        const partial = await until('the occurrence to count', async () => {
          const s = await status(host);
          return s.occurrences.length === i + 1 ? s : undefined;
        });
        expect(partial.artifact).toBeUndefined();
        expect(aws.catalog.listArtifacts(product.productId)).toHaveLength(1);
      }
    }
    const done: RemediationStatus = await until('the roll', async () => {
      const s = await status(host);
      return s.artifact && s.phase === 'Waiting' ? s : undefined;
    });
    expect(done.artifact).toMatchObject({
      productId: product.productId,
      fromType: 't3.micro',
      toType: 't3.small',
      created: true,
    });

    const versions = aws.catalog.listArtifacts(product.productId);
    expect(versions).toHaveLength(2);
    const rolled = versions.find((v) => v.id === done.artifact!.artifactId)!;
    expect(rolled.status).toBe('AVAILABLE');
    expect(analyzeInstanceType(rolled.templateText).currentType).toBe('t3.small');
    expect(rolled.templateText).toContain('!Ref InstanceType');
    expect(versions.find((v) => v.id === product.provisioningArtifactId)?.guidance).toBe('DEPRECATED');

    for (const p of problems) {
      const comments = autopilotComments(p.problemId);
      expect(comments, p.displayId).toHaveLength(1);
      expect(comments[0]!.content).toContain(`Created version "t3.small-dynatrace-autopilot" (${rolled.id})`);
      expect(comments[0]!.content).toContain('t3.micro → t3.small');
    }
    await recordHistory(
      tb.env.client.workflow.getHandle(remediationWorkflowId(ENV, host)),
      'remediate-cpu-saturation-roll',
    );

    // Duplicate deliveries, and saturation during the cooldown: answered, no second version.
    const duplicate = await fetch(`${webhookUrl}/webhooks/dynatrace/${ENV}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', [DEFAULT_WEBHOOK_KEY_HEADER]: deriveWebhookKey(KEY, ENV) },
      body: JSON.stringify({
        State: 'OPEN',
        PID: problems[0]!.problemId,
        ImpactedEntities: [{ type: 'HOST', name: 'rem-vm-1', entity: host }],
      }),
    });
    expect((await duplicate.json()) as object).toMatchObject({ status: 'duplicate' });
    const later = await saturate('rem-vm-1');
    await until('the cooldown answer', async () =>
      autopilotComments(later.problemId).length === 1 ? true : undefined,
    );
    expect(autopilotComments(later.problemId)[0]!.content).toContain('already got a larger size');
    expect(aws.catalog.listArtifacts(product.productId)).toHaveLength(2);
    expect(autopilotComments(problems[0]!.problemId)).toHaveLength(1);
  });

  it('two hosts of one product saturating at once still yield one new version', async () => {
    const product = await seedProduct('shop-api', 2);
    const [a, b] = await Promise.all([
      addHost('rem-api-1', product.instances[0]!.instanceId),
      addHost('rem-api-2', product.instances[1]!.instanceId),
    ]);
    for (let i = 0; i < 3; i++) await Promise.all([saturate('rem-api-1'), saturate('rem-api-2')]);
    const rolled = await Promise.all(
      [a, b].map((h) =>
        until(`the roll of ${h}`, async () => {
          const s = await status(h);
          return s.artifact;
        }),
      ),
    );
    expect(rolled[0]!.artifactId).toBe(rolled[1]!.artifactId);
    expect(aws.catalog.listArtifacts(product.productId)).toHaveLength(2);
    const created = rolled.filter((r) => r.created).length;
    expect(created).toBeGreaterThanOrEqual(1);
  });
});
