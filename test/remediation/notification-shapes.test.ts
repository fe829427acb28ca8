import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOnboarding } from '../../src/client/start-onboarding.js';
import { Secret } from '../../src/config/secret.js';
import { secretRefs } from '../../src/secrets/secret-store.js';
import { problemRoutingWorkflowId, type ProblemRoutingResult } from '../../src/shared/problem-routing.js';
import {
  REMEDIATE_CPU_SATURATION,
  remediationWorkflowId,
  rolledArtifactName,
  type RemediationStatus,
} from '../../src/shared/remediation.js';
import { progressQuery } from '../../src/workflows/shared/operator-controls.js';
import { startTestAws, type TestAws } from '../helpers/aws.js';
import { startTestbed, type Testbed } from '../helpers/autopilot.js';
import { selfHealingKit, startTestReceiver } from '../helpers/self-healing.js';
import { recordHistory } from '../helpers/temporal.js';
import { until } from '../helpers/until.js';

const KEY = 'notification-shapes-key-0123456789';
/** The self-healing guide's custom integration, exactly as its readers configure it. */
const SEED_PAYLOAD = '{"State":"{State}","PID":"{PID}","ProblemTitle":"{ProblemTitle}"}';
/** An environment configured by its admin, following the guide (our onboarding configures no webhook there). */
const SEED_ENV = 'shp-p1';
/** An environment whose notifications onboarding configured (the full payload, with entities). */
const FULL_ENV = 'shp-p2';

/**
 * Notifications as Dynatrace users really configure them end to end: the simulator's problem →
 * the environment's webhook over real HTTP → the receiver → a problem lookup → the host's
 * remediation → moto and the Service Catalog emulator.
 */
describe('notifications without entities, and hosts behind a service, reach the host remediation', () => {
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
    kit = selfHealingKit(tb, aws);
    // The guide's one key in every environment: the shared mode kept for such set-ups.
    const receiver = await startTestReceiver(tb, { key: KEY, keyHeader: 'X-API-KEY', keyMode: 'shared' });
    webhookUrl = receiver.url;
    closeWebhook = receiver.close;
    worker = await tb.worker();
    running = worker.run();

    // The guide's environment: onboarded without our notifications, then configured by hand.
    const seed = await startOnboarding(tb.env.client, { customer: 'shp', stage: 'p1' }, { taskQueue: tb.taskQueue });
    expect((await seed.result()).notifications.status).toBe('skipped');
    await configureSeedWebhook();

    // Onboarding configures the header the receiver expects.
    tb.deps.webhook = { publicUrl: webhookUrl, apiKey: new Secret(KEY), keyHeader: 'X-API-KEY', keyMode: 'shared' };
    worker.shutdown();
    await running;
    worker = await tb.worker();
    running = worker.run();
    const full = await startOnboarding(tb.env.client, { customer: 'shp', stage: 'p2' }, { taskQueue: tb.taskQueue });
    expect((await full.result()).notifications.status).toBe('configured');
  });
  afterAll(async () => {
    worker.shutdown();
    await running;
    await closeWebhook();
    await tb.teardown();
    await aws.stop();
  });

  /** What a reader of the guide does in the environment's settings: an immediate profile and the webhook. */
  const configureSeedWebhook = async () => {
    const token = (await tb.deps.secrets.get(secretRefs.environmentToken(SEED_ENV, 'automation')))!.value;
    const settings = tb.dt.client.environment(SEED_ENV, token).settings;
    const [profile] = await settings.create([
      {
        schemaId: 'builtin:alerting.profile',
        scope: 'environment',
        value: {
          name: 'Self-healing: CPU saturation',
          severityRules: [{ severityLevel: 'RESOURCE_CONTENTION', delayInMinutes: 0, tagFilterIncludeMode: 'NONE' }],
          eventFilters: [{ type: 'PREDEFINED', predefinedFilter: { eventType: 'OSI_HIGH_CPU', negate: false } }],
        },
      },
    ]);
    await settings.create([
      {
        schemaId: 'builtin:problem.notifications',
        scope: 'environment',
        value: {
          enabled: true,
          type: 'WEBHOOK',
          displayName: 'Self-healing Lambda',
          alertingProfile: profile!,
          webHookNotification: {
            url: `${webhookUrl}/webhooks/dynatrace/${SEED_ENV}`,
            headers: [{ name: 'X-API-KEY', secret: true, secretValue: KEY }],
            payload: SEED_PAYLOAD,
          },
        },
      },
    ]);
  };

  const rolled = (environmentId: string, hostEntityId: string) =>
    until('the roll', async () => {
      const s: RemediationStatus = await kit.status(environmentId, hostEntityId);
      return s.artifact && s.phase === 'Waiting' ? s : undefined;
    });

  const routing = (environmentId: string, problemId: string, state = 'OPEN') =>
    tb.env.client.workflow
      .getHandle(problemRoutingWorkflowId(environmentId, problemId, state))
      .result() as Promise<ProblemRoutingResult>;

  const remediationsOf = async (environmentId: string) => {
    const ids: string[] = [];
    for await (const run of tb.env.client.workflow.list({
      query: `WorkflowType = '${REMEDIATE_CPU_SATURATION}' AND DtEnvironmentId = '${environmentId}'`,
    }))
      ids.push(run.workflowId);
    return ids;
  };

  it("the guide's payload (State, PID, ProblemTitle) with X-API-KEY: one new version and a comment per problem", async () => {
    const product = await kit.seedProduct('shp-web');
    const host = await kit.addHost(SEED_ENV, 'shp-vm-1', product.instances[0]!.instanceId);
    const problems = [];
    for (let i = 0; i < 3; i++) problems.push(await kit.raise(SEED_ENV, 'shp-vm-1'));
    const done = await rolled(SEED_ENV, host);
    expect(done.artifact).toMatchObject({ fromType: 't3.micro', toType: 't3.small', created: true });
    // The three notifications are delivered at once, so they may be counted in any order.
    expect(done.occurrences.map((o) => o.displayId).sort()).toEqual(problems.map((p) => p.displayId).sort());

    const versions = aws.catalog.listArtifacts(product.productId);
    expect(versions).toHaveLength(2);
    const version = versions.find((v) => v.id === done.artifact!.artifactId)!;
    expect(version.name).toBe(rolledArtifactName('t3.small'));
    expect(version.name).not.toMatch(/\s/);
    for (const p of problems) {
      const comments = kit.autopilotComments(SEED_ENV, p.problemId);
      expect(comments, p.displayId).toHaveLength(1);
      expect(comments[0]!.content).toContain(`Created version "t3.small-dynatrace-autopilot" (${version.id})`);
      expect(comments[0]!.content).toContain('t3.micro → t3.small');
      const routed = await routing(SEED_ENV, p.problemId);
      expect(routed).toMatchObject({ outcome: 'routed', workflowIds: [remediationWorkflowId(SEED_ENV, host)] });
    }
    // The deliveries carried nothing but the guide's three fields.
    const delivered = (await tb.dt.stats()).deliveries.filter((d) => d.environmentId === SEED_ENV);
    expect(delivered.length).toBeGreaterThanOrEqual(3);
    await recordHistory(
      tb.env.client.workflow.getHandle(problemRoutingWorkflowId(SEED_ENV, problems[0]!.problemId, 'OPEN')),
      'route-problem-notification-routed',
    );
  });

  it('a CPU saturation that impacts a service, with the host only as root cause, rolls the host', async () => {
    const product = await kit.seedProduct('shp-api');
    const host = await kit.addHost(FULL_ENV, 'shp-api-1', product.instances[0]!.instanceId);
    const problems = [];
    for (let i = 0; i < 3; i++) {
      problems.push(await kit.raise(FULL_ENV, 'shp-api-1', { impact: 'service', impactedName: 'checkout' }));
    }
    const done = await rolled(FULL_ENV, host);
    expect(done.artifact).toMatchObject({ toType: 't3.small', created: true });
    expect(aws.catalog.listArtifacts(product.productId)).toHaveLength(2);
    for (const p of problems) expect(kit.autopilotComments(FULL_ENV, p.problemId), p.displayId).toHaveLength(1);
    // The payload named only the service: the host came from the problem's root cause.
    const routed = await routing(FULL_ENV, problems[0]!.problemId);
    expect(routed.hosts).toEqual([{ entityId: host, name: 'shp-api-1' }]);
  });

  it('a host among the affected entities only, with the v2 evidence named OSI_HIGH_CPU, is routed too', async () => {
    const product = await kit.seedProduct('shp-batch');
    const host = await kit.addHost(FULL_ENV, 'shp-batch-1', product.instances[0]!.instanceId);
    const problem = await kit.raise(FULL_ENV, 'shp-batch-1', {
      impact: 'application',
      hostRole: 'affected',
      evidence: 'osi',
    });
    const routed = await routing(FULL_ENV, problem.problemId);
    expect(routed).toMatchObject({ outcome: 'routed', hosts: [{ entityId: host }] });
    const counted = await until('the occurrence to count', async () => {
      const s = await kit.status(FULL_ENV, host);
      return s.occurrences.length === 1 ? s : undefined;
    });
    expect(counted.occurrences[0]!.problemId).toBe(problem.problemId);
    // Its first occurrence looks the instance up in AWS; let that finish before the next test counts calls.
    await until('the instance lookup', async () => {
      const progress = await tb.env.client.workflow
        .getHandle(remediationWorkflowId(FULL_ENV, host))
        .query(progressQuery);
      return progress.steps.find((s) => s.name === 'resolve')?.status === 'done' ? true : undefined;
    });
  });

  it('no such problem, not a CPU saturation, or no host: 202, a recorded reason, no remediation, no AWS call', async () => {
    const product = await kit.seedProduct('shp-quiet');
    await kit.addHost(SEED_ENV, 'shp-quiet-1', product.instances[0]!.instanceId);
    const memory = await tb.dt.control<{ problemId: string; displayId: string }>('/problems', {
      environmentId: SEED_ENV,
      hostName: 'shp-quiet-1',
      kind: 'MEMORY_SATURATION',
    });
    const monitor = await tb.dt.control<{ problemId: string; displayId: string }>('/problems', {
      environmentId: SEED_ENV,
      kind: 'SYNTHETIC_OUTAGE',
    });
    const remediationsBefore = await remediationsOf(SEED_ENV);
    const awsCallsBefore = aws.catalog.requests().length;
    const send = (pid: string, title: string) =>
      fetch(`${webhookUrl}/webhooks/dynatrace/${SEED_ENV}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-API-KEY': KEY },
        body: JSON.stringify({ State: 'OPEN', PID: pid, ProblemTitle: title }),
      });
    const cases: [string, string, string, RegExp][] = [
      ['-1234567890123456789_1717000000000V2', 'CPU saturation', 'problem-not-found', /does not exist in shp-p1/],
      [
        memory.problemId,
        'Memory saturation',
        'not-cpu-saturation',
        /is not a CPU saturation \(events: MEMORY_SATURATED/,
      ],
      [monitor.problemId, 'Browser monitor global outage', 'no-host', /names no host/],
    ];
    for (const [pid, title, outcome, reason] of cases) {
      const response = await send(pid, title);
      expect(response.status, outcome).toBe(202);
      const result = await routing(SEED_ENV, pid);
      expect(result.outcome).toBe(outcome);
      expect(result.reason).toMatch(reason);
      expect(result.workflowIds).toEqual([]);
    }
    expect(await remediationsOf(SEED_ENV)).toEqual(remediationsBefore);
    expect(aws.catalog.requests()).toHaveLength(awsCallsBefore);
  });
});
