import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeInstanceType } from '../../src/aws/instance-type-template.js';
import { secretRefs } from '../../src/secrets/secret-store.js';
import { TOKEN_PURPOSES } from '../../src/shared/registry.js';
import { REGISTRY_REQUEST, type RegistryRequestResult } from '../../src/shared/environments.js';
import { remediationWorkflowId, type RemediationStatus } from '../../src/shared/remediation.js';
import { webhookPath } from '../../src/shared/webhook.js';
import { remediationStatusQuery } from '../../src/workflows/shared/remediation-signals.js';
import { startTestbed, type Testbed } from '../helpers/autopilot.js';
import { startTestAws, type TestAws } from '../helpers/aws.js';
import { APPROVED_TYPES, startTestReceiver } from '../helpers/self-healing.js';
import { startTestSaasEnvironment, type TestSaasEnvironment } from '../helpers/simulator.js';
import { until } from '../helpers/until.js';
import { seedCatalogDemo } from '../../sandbox/catalog-demo.js';

const KEY = 'saas-seed-webhook-key';
const ENV = 'abc12345';
const AUTOMATION_SCOPES = TOKEN_PURPOSES.automation;

/**
 * The self-healing guide this project follows, on a Dynatrace SaaS environment registered by hand:
 * a custom integration sends exactly `{"State","PID","ProblemTitle"}` with the key in `X-API-KEY`,
 * and the rest (validation, the new catalog version, the comments) goes through `/api/v2/...`.
 */
describe('self-healing on a hand-registered SaaS environment, with the seed payload', () => {
  let tb: Testbed;
  let aws: TestAws;
  let saas: TestSaasEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  let closeWebhook: () => Promise<void>;

  beforeAll(async () => {
    aws = await startTestAws();
    // The SaaS simulator is `abc12345.localhost`: its domain is configured beside Dynatrace's.
    tb = await startTestbed({ aws, saasDomains: ['live.dynatrace.com', 'localhost'] });
    saas = await startTestSaasEnvironment({ environmentId: ENV });
    // The guide's one key in every environment: the shared mode kept for such set-ups.
    const receiver = await startTestReceiver(tb, { key: KEY, keyHeader: 'X-API-KEY', keyMode: 'shared' });
    closeWebhook = receiver.close;
    worker = await tb.worker();
    running = worker.run();

    // Registered as `autopilot environments add` does: the token staged in the secret store.
    const staged = secretRefs.registrationStaging();
    await tb.deps.secrets.put(staged, await saas.token([...AUTOMATION_SCOPES, 'apiTokens.read']), {});
    const added = (await tb.env.client.workflow.execute(REGISTRY_REQUEST, {
      taskQueue: tb.taskQueue,
      workflowId: `registry-add:${ENV}`,
      args: [{ op: 'add', environment: { id: ENV, apiUrl: saas.url, kind: 'saas', stagedSecretRef: staged } }],
    })) as RegistryRequestResult;
    expect(added).toMatchObject({ op: 'add', environment: { id: ENV, kind: 'saas', source: 'registered' } });

    // The environment's own set-up, as the guide has its admin click it: an immediate CPU profile
    // and a custom integration with the seed payload.
    const settings = saas.client.environment(ENV, await saas.token(['settings.read', 'settings.write'])).settings;
    const [profile] = await settings.create([
      {
        schemaId: 'builtin:alerting.profile',
        scope: 'environment',
        value: {
          name: 'CPU saturation, at once',
          managementZone: null,
          severityRules: [{ severityLevel: 'RESOURCE_CONTENTION', delayInMinutes: 0, tagFilterIncludeMode: 'NONE' }],
          eventFilters: [],
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
          displayName: 'Self-healing (seed)',
          alertingProfile: profile!,
          webHookNotification: {
            url: `${receiver.url}${webhookPath(ENV)}`,
            acceptAnyCertificate: false,
            notifyEventMergesEnabled: false,
            notifyClosedProblems: false,
            headers: [{ name: 'X-API-KEY', secret: true, secretValue: KEY }],
            payload: '{ "State": "{State}", "PID": "{PID}", "ProblemTitle": "{ProblemTitle}" }',
          },
        },
      },
    ]);
  }, 120_000);
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await closeWebhook?.();
    await saas?.stop();
    await tb?.teardown();
    await aws?.stop();
  });

  it('counts three saturations, rolls the product to the next larger type and comments each problem', async () => {
    const product = await seedCatalogDemo({
      aws: aws.clients,
      catalog: aws.catalog,
      bucket: aws.bucket,
      approvedTypesParameter: aws.approvedTypesParameter,
      approvedTypes: APPROVED_TYPES,
      productName: 'saas-shop',
      instanceType: 't3.micro',
      instances: 1,
      templateFormat: 'yaml',
    });
    const { entityId } = await saas.control<{ entityId: string }>(`/environments/${ENV}/hosts`, {
      hostName: 'saas-vm-1',
      awsInstanceId: product.instances[0]!.instanceId,
      awsInstanceType: 't3.micro',
    });
    const problems = [];
    for (let i = 0; i < 3; i++) {
      const problem = await saas.control<{ problemId: string }>('/problems', {
        environmentId: ENV,
        hostName: 'saas-vm-1',
      });
      await until('the seed notification to be accepted', async () =>
        (await saas.stats()).deliveries.some((d) => d.problemId === problem.problemId && d.status === 202)
          ? true
          : undefined,
      );
      problems.push(problem);
      await until(`occurrence ${i + 1} to count`, async () => {
        const s = await tb.env.client.workflow
          .getHandle(remediationWorkflowId(ENV, entityId))
          .query(remediationStatusQuery)
          .catch(() => undefined);
        return s && s.occurrences.length === i + 1 ? s : undefined;
      });
    }
    const done: RemediationStatus = await until('the roll', async () => {
      const s = await tb.env.client.workflow
        .getHandle(remediationWorkflowId(ENV, entityId))
        .query(remediationStatusQuery);
      return s.artifact && s.phase === 'Waiting' ? s : undefined;
    });
    expect(done.artifact).toMatchObject({ productId: product.productId, fromType: 't3.micro', toType: 't3.small' });
    const versions = aws.catalog.listArtifacts(product.productId);
    expect(versions).toHaveLength(2);
    expect(
      analyzeInstanceType(versions.find((v) => v.id === done.artifact!.artifactId)!.templateText).currentType,
    ).toBe('t3.small');
    const environment = saas.simulator.state.environments.get(ENV)!;
    for (const p of problems) {
      const comments = environment.problems
        .get(p.problemId)!
        .comments.filter((c) => c.context === 'dynatrace-autopilot');
      expect(comments).toHaveLength(1);
      expect(comments[0]!.content).toContain('t3.micro → t3.small');
    }
    // Everything went through the SaaS paths: no cluster, no /e/ prefix, nothing refused.
    const routes = Object.entries((await saas.stats()).requests).filter(([r]) => /^[A-Z]+ \//.test(r));
    expect(routes.filter(([, s]) => (s['401'] ?? 0) + (s['403'] ?? 0) + (s['404'] ?? 0) > 0)).toEqual([]);
  }, 180_000);
});
