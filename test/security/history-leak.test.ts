import { randomBytes } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import proto from '@temporalio/proto';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEnrollment } from '../../src/client/start-enrollment.js';
import { startOnboarding } from '../../src/client/start-onboarding.js';
import { parseCodecKeys } from '../../src/codec/codec-keyring.js';
import { EncryptionCodec, ENCRYPTED_ENCODING, KEY_ID_METADATA } from '../../src/codec/encryption-codec.js';
import { Secret } from '../../src/config/secret.js';
import { createJsonLogger } from '../../src/observability/json-logger.js';
import { seedCatalogDemo } from '../../sandbox/catalog-demo.js';
import { secretRefs } from '../../src/secrets/secret-store.js';
import { remediationPolicySchema, remediationWorkflowId } from '../../src/shared/remediation.js';
import { deriveWebhookKey, WebhookKeys } from '../../src/webhook/webhook-keys.js';
import { createWebhookServer } from '../../src/webhook/webhook-server.js';
import { abortSignal, progressQuery } from '../../src/workflows/shared/operator-controls.js';
import { remediationStatusQuery } from '../../src/workflows/shared/remediation-signals.js';
import { startTestbed, type Testbed } from '../helpers/autopilot.js';
import { until } from '../helpers/until.js';
import { startTestAws, type TestAws } from '../helpers/aws.js';
import { capturedLogLines, TEST_CODEC_KEYS_TEXT, testCodecKeys } from '../helpers/temporal.js';

const { History } = proto.temporal.api.history.v1;
const ENV = 'hlk-p1';
const WEBHOOK_KEY = `hlk-webhook-${randomBytes(12).toString('hex')}`;
const SECRET_STORE_KEY = randomBytes(32);
/** A whole Dynatrace token (the public id alone may appear: reference §0.2). */
const FULL_TOKEN = /dt0[a-z]\d{2}\.[A-Z0-9]{24}\.[A-Z0-9]{64}/;

interface RawPayload {
  path: string;
  metadata: Record<string, string>;
  data: string;
}

interface ExportedRun {
  workflowId: string;
  /** The server's history as protobuf bytes, exactly as a database dump would hold it. */
  bytes: Buffer;
  json: string;
  payloads: RawPayload[];
}

/** Every payload in an exported history with where it sits, so search attributes can be told apart. */
function payloadsOf(node: unknown, at = ''): RawPayload[] {
  if (Array.isArray(node)) return node.flatMap((n, i) => payloadsOf(n, `${at}[${i}]`));
  if (node === null || typeof node !== 'object') return [];
  const record = node as Record<string, unknown>;
  if (record.metadata && typeof record.metadata === 'object' && !Array.isArray(record.metadata)) {
    const metadata = record.metadata as Record<string, unknown>;
    if (Object.values(metadata).every((v) => typeof v === 'string')) {
      return [{ path: at, metadata: metadata as Record<string, string>, data: (record.data as string) ?? '' }];
    }
  }
  return Object.entries(record).flatMap(([k, v]) => payloadsOf(v, `${at}.${k}`));
}

const asPayload = (p: RawPayload) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data, 'base64'),
});

describe('a Temporal history dump after onboarding, enrollment and remediation', () => {
  let tb: Testbed;
  let aws: TestAws;
  let worker: Worker;
  let running: Promise<void>;
  let closeWebhook: () => Promise<void>;
  let runs: ExportedRun[];
  let secrets: Map<string, string>;
  let failedEnrollment: WorkflowHandle;

  beforeAll(async () => {
    aws = await startTestAws();
    tb = await startTestbed({ aws, secretKey: SECRET_STORE_KEY });
    const server = createWebhookServer({
      client: tb.env.client,
      taskQueue: tb.taskQueue,
      keys: new WebhookKeys({ master: new Secret(WEBHOOK_KEY), mode: 'per-environment' }),
      environments: tb.registry,
      policy: remediationPolicySchema.parse({ threshold: 3, window: '1 hour', cooldown: '10 minutes' }),
      maxBodyBytes: 64 * 1024,
      logger: createJsonLogger('ERROR', () => undefined),
    });
    await server.app.listen({ host: '127.0.0.1', port: 0 });
    const webhookUrl = `http://127.0.0.1:${(server.app.server.address() as { port: number }).port}`;
    closeWebhook = () => server.app.close();
    tb.deps.webhook = { publicUrl: webhookUrl, apiKey: new Secret(WEBHOOK_KEY) };
    worker = await tb.worker();
    running = worker.run();

    // Onboarding (tokens minted and stored), enrollment (installer downloaded and run), one failed
    // enrollment an operator aborts (failures in the history), and a remediation through the webhook.
    const onboarding = await startOnboarding(
      tb.env.client,
      { customer: 'hlk', stage: 'p1' },
      { taskQueue: tb.taskQueue },
    );
    expect((await onboarding.result()).notifications.status).toBe('configured');
    const enrolled = await startEnrollment(
      tb.env.client,
      { hostname: 'hlk-vm-1', address: '10.0.0.17', customer: 'hlk', stage: 'p1' },
      { taskQueue: tb.taskQueue },
    );
    expect(await enrolled.result()).toMatchObject({ outcome: 'installed', environmentId: ENV });

    tb.dt.simulator.setKnobs({ failInstallHosts: ['hlk-vm-bad'] });
    failedEnrollment = await startEnrollment(
      tb.env.client,
      { hostname: 'hlk-vm-bad', address: '10.0.0.18', customer: 'hlk', stage: 'p1' },
      { taskQueue: tb.taskQueue },
    );
    await until('the failed install to need attention', async () =>
      (await failedEnrollment.query(progressQuery)).phase === 'NeedsAttention' ? true : undefined,
    );
    await failedEnrollment.signal(abortSignal, { reason: 'hlk-vm-bad is being rebuilt' });
    await expect(failedEnrollment.result()).rejects.toThrow();

    const product = await seedCatalogDemo({
      aws: aws.clients,
      catalog: aws.catalog,
      bucket: aws.bucket,
      approvedTypesParameter: aws.approvedTypesParameter,
      approvedTypes: ['t3.micro', 't3.small', 't3.medium'],
      productName: 'hlk-shop',
      instanceType: 't3.micro',
    });
    const { entityId } = await tb.dt.control<{ entityId: string }>(`/environments/${ENV}/hosts`, {
      hostName: 'hlk-ec2-1',
      awsInstanceId: product.instances[0]!.instanceId,
      awsInstanceType: 't3.micro',
    });
    for (let i = 0; i < 3; i++) {
      const problem = await tb.dt.control<{ problemId: string }>('/problems', {
        environmentId: ENV,
        hostName: 'hlk-ec2-1',
      });
      await until('the notification to arrive', async () =>
        (await tb.dt.stats()).deliveries.some((d) => d.problemId === problem.problemId && d.status === 202)
          ? true
          : undefined,
      );
    }
    const remediation = tb.env.client.workflow.getHandle(remediationWorkflowId(ENV, entityId));
    await until('the roll', async () => {
      const s = await remediation.query(remediationStatusQuery);
      return s.artifact && s.phase === 'Waiting' ? s : undefined;
    });

    // Every secret of the run, collected before anything is exported.
    secrets = new Map<string, string>([
      ['cluster token', tb.dt.clusterToken],
      ['webhook master key', WEBHOOK_KEY],
      [`webhook key of ${ENV}`, deriveWebhookKey(WEBHOOK_KEY, ENV)],
      ['secret-store key (base64)', SECRET_STORE_KEY.toString('base64')],
      ['secret-store key (hex)', SECRET_STORE_KEY.toString('hex')],
      ['payload key', TEST_CODEC_KEYS_TEXT.split(':')[1]!],
      ['payload key (hex)', testCodecKeys.primary.key.toString('hex')],
    ]);
    for (const t of tb.dt.simulator.state.clusterTokens.values()) secrets.set(`cluster token ${t.id}`, t.token);
    const environment = tb.dt.simulator.state.environments.get(ENV)!;
    secrets.set('tenant token', environment.tenantToken);
    for (const t of environment.tokens.values()) secrets.set(`environment token ${t.name}`, t.token);
    // The short-lived token-management tokens revoked themselves; their values must not be anywhere either.
    const revoked = tb.dt.simulator.state.revokedTokenValues;
    expect(revoked.length).toBeGreaterThan(0);
    revoked.forEach((value, i) => secrets.set(`revoked token ${i}`, value));
    expect(await tb.deps.secrets.get(secretRefs.tokenManagementToken(ENV))).toBeUndefined();
    for (const ref of [
      secretRefs.environmentToken(ENV, 'installer-download'),
      secretRefs.environmentToken(ENV, 'automation'),
    ]) {
      const stored = await tb.deps.secrets.get(ref);
      expect(stored, ref).toBeDefined();
      secrets.set(`stored ${ref}`, stored!.value);
    }

    // Raw from the server, without our client's codec: what a database dump or a stolen backup holds.
    const service = tb.env.connection.workflowService;
    const namespace = tb.env.namespace ?? 'default';
    const executions = await until('every run to be visible', async () => {
      const found = [];
      for await (const e of tb.env.client.workflow.list({ query: `TaskQueue = "${tb.taskQueue}"` })) found.push(e);
      // Onboarding, two enrollments (each may start the onboarding child), remediation.
      return found.length >= 4 ? found : undefined;
    });
    runs = [];
    for (const execution of executions) {
      const events: proto.temporal.api.history.v1.IHistoryEvent[] = [];
      let nextPageToken: Uint8Array | undefined;
      do {
        const page = await service.getWorkflowExecutionHistory({
          namespace,
          execution: { workflowId: execution.workflowId, runId: execution.runId },
          ...(nextPageToken ? { nextPageToken } : {}),
        });
        events.push(...(page.history?.events ?? []));
        nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
      } while (nextPageToken);
      const history = History.create({ events });
      const json = historyToJSON(history);
      runs.push({
        workflowId: execution.workflowId,
        bytes: Buffer.from(History.encode(history).finish()),
        json,
        payloads: payloadsOf(JSON.parse(json)),
      });
    }
  }, 240_000);

  afterAll(async () => {
    worker?.shutdown();
    await running;
    await closeWebhook?.();
    await tb?.teardown();
    await aws?.stop();
  });

  it('covers every workflow of the scenario', () => {
    const ids = runs.map((r) => r.workflowId);
    expect(ids).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^onboard:hlk-p1/),
        'enroll:hlk-p1:hlk-vm-1',
        'enroll:hlk-p1:hlk-vm-bad',
        expect.stringMatching(/^remediate:hlk-p1:/),
      ]),
    );
    expect(runs.every((r) => r.payloads.length > 0)).toBe(true);
  });

  it('holds no token or secret, not even in a decrypted payload', async () => {
    expect(secrets.size).toBeGreaterThan(10);
    const codec = new EncryptionCodec(testCodecKeys);
    for (const run of runs) {
      const decoded = (await codec.decode(run.payloads.map(asPayload))).map((p) =>
        Buffer.from(p.data ?? new Uint8Array()).toString('utf8'),
      );
      const views: [string, string][] = [
        ['protobuf bytes', run.bytes.toString('latin1')],
        ['JSON export', run.json],
        [
          'base64-decoded payloads',
          run.payloads.map((p) => Buffer.from(p.data, 'base64').toString('latin1')).join('\n'),
        ],
        ['decrypted payloads', decoded.join('\n')],
      ];
      for (const [view, text] of views) {
        expect(FULL_TOKEN.test(text), `a Dynatrace token in the ${view} of ${run.workflowId}`).toBe(false);
        for (const [name, value] of secrets) {
          expect(text.includes(value), `the ${name} in the ${view} of ${run.workflowId}`).toBe(false);
        }
      }
    }
    // The worker's own logs of the same run.
    for (const [name, value] of secrets) {
      expect(
        capturedLogLines.some((l) => l.includes(value)),
        `the ${name} in the worker logs`,
      ).toBe(false);
    }
  });

  it('keeps every payload except search attributes encrypted under the current key', () => {
    let encrypted = 0;
    for (const run of runs) {
      for (const p of run.payloads) {
        if (/\.searchAttributes\.indexedFields\./.test(p.path)) continue;
        const encoding = Buffer.from(p.metadata.encoding ?? '', 'base64').toString();
        expect(encoding, `${run.workflowId} ${p.path}`).toBe(ENCRYPTED_ENCODING);
        expect(Buffer.from(p.metadata[KEY_ID_METADATA] ?? '', 'base64').toString()).toBe(testCodecKeys.primary.id);
        expect(Object.keys(p.metadata).sort()).toEqual(['encoding', KEY_ID_METADATA]);
        encrypted++;
      }
    }
    expect(encrypted).toBeGreaterThan(50);
  });

  it('shows no customer data without the key: inputs, results, summaries and failure messages are unreadable', () => {
    const dump = runs.map((r) => `${r.bytes.toString('latin1')}\n${r.json}`).join('\n');
    // Values that live only in payloads (IDs and search attributes are readable by design).
    for (const plain of [
      '10.0.0.17',
      'hlk-vm-bad is being rebuilt',
      'Simulated installation failure',
      'hlk-shop',
      't3.small',
      '"customer"',
    ]) {
      expect(dump.includes(plain), plain).toBe(false);
    }
  });

  it('cannot be decrypted with another key, and tampering is detected', async () => {
    const sample = asPayload(runs[0]!.payloads.find((p) => !p.path.includes('searchAttributes'))!);
    const otherId = new EncryptionCodec(parseCodecKeys(`other:${randomBytes(32).toString('base64')}`, 'TEST'));
    await expect(otherId.decode([sample])).rejects.toThrow(/encrypted with key "test-2026", which is not in/);
    const sameIdOtherKey = new EncryptionCodec(
      parseCodecKeys(`test-2026:${randomBytes(32).toString('base64')}`, 'TEST'),
    );
    await expect(sameIdOtherKey.decode([sample])).rejects.toThrow(/failed authentication/);
    const tampered = { ...sample, data: Buffer.from(sample.data) };
    tampered.data[20] = tampered.data[20]! ^ 1;
    await expect(new EncryptionCodec(testCodecKeys).decode([tampered])).rejects.toThrow(/failed authentication/);
  });

  it('decodes with the key to what the workflows saw', async () => {
    const codec = new EncryptionCodec(testCodecKeys);
    const texts = async (run: ExportedRun) =>
      (await codec.decode(run.payloads.map(asPayload))).map((p) => Buffer.from(p.data ?? new Uint8Array()).toString());
    const enrollment = await texts(runs.find((r) => r.workflowId === 'enroll:hlk-p1:hlk-vm-1')!);
    expect(enrollment.some((t) => t.includes('"address":"10.0.0.17"'))).toBe(true);
    expect(enrollment.some((t) => t.includes('"outcome":"installed"'))).toBe(true);
    const failed = await texts(runs.find((r) => r.workflowId === 'enroll:hlk-p1:hlk-vm-bad')!);
    expect(failed.some((t) => t.includes('Simulated installation failure on hlk-vm-bad'))).toBe(true);
    expect(failed.some((t) => t.includes('hlk-vm-bad is being rebuilt'))).toBe(true);
    const remediation = await texts(runs.find((r) => r.workflowId.startsWith('remediate:hlk-p1:'))!);
    expect(remediation.some((t) => t.includes('t3.small'))).toBe(true);

    // The client with the codec reads the same history as plain values, summaries included.
    const described = await failedEnrollment.describe();
    expect(await described.staticSummary()).toMatch(/hlk-vm-bad/);
    const failure = await failedEnrollment.result().then(
      () => new Error('completed'),
      (e: unknown) => e as Error,
    );
    expect(`${failure.message} ${failure.cause instanceof Error ? failure.cause.message : ''}`).toMatch(
      /hlk-vm-bad is being rebuilt|abort/i,
    );
  });
});
