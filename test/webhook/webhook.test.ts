import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../../src/config/secret.js';
import { createJsonLogger } from '../../src/observability/json-logger.js';
import { remediationPolicySchema } from '../../src/shared/remediation.js';
import { WEBHOOK_KEY_HEADER } from '../../src/shared/webhook.js';
import { createWebhookServer } from '../../src/webhook/webhook-server.js';
import { connectToTestServer, uniqueTaskQueue } from '../helpers/temporal.js';

const KEY = 'test-webhook-key-0123456789';
const HOST = 'HOST-0123456789ABCDEF';

const cpuNotification = (pid: string, state = 'OPEN') => ({
  State: state,
  PID: pid,
  ProblemID: 'P-2401',
  ProblemTitle: 'CPU saturation',
  ImpactedEntities: [{ type: 'HOST', name: 'vm-1', entity: HOST }],
  ProblemDetailsJSON: { id: pid },
});

describe('webhook receiver', () => {
  let env: TestWorkflowEnvironment;
  let url: string;
  let close: () => Promise<void>;
  let metrics: ReturnType<typeof createWebhookServer>['metrics'];
  const taskQueue = uniqueTaskQueue('webhook');
  const environmentId = `whk-${Date.now()}`;

  beforeAll(async () => {
    env = await connectToTestServer();
    const server = createWebhookServer({
      client: env.client,
      taskQueue,
      apiKey: new Secret(KEY),
      policy: remediationPolicySchema.parse({}),
      maxBodyBytes: 16 * 1024,
      logger: createJsonLogger('ERROR', () => undefined),
    });
    metrics = server.metrics;
    await server.app.listen({ host: '127.0.0.1', port: 0 });
    const address = server.app.server.address() as { port: number };
    url = `http://127.0.0.1:${address.port}`;
    close = () => server.app.close();
  });
  afterAll(async () => {
    await close();
    await env.teardown();
  });

  const post = (body: string, headers: Record<string, string> = {}, path = `/webhooks/dynatrace/${environmentId}`) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', [WEBHOOK_KEY_HEADER]: KEY, ...headers },
      body,
    });

  const workflowsOfEnvironment = async () => {
    const ids: string[] = [];
    for await (const run of env.client.workflow.list({ query: `DtEnvironmentId = '${environmentId}'` }))
      ids.push(run.workflowId);
    return ids;
  };

  it('answers bad requests with a 4xx and a reason, and starts nothing', async () => {
    const cases: [string, Promise<Response>, number, string][] = [
      [
        'no key',
        fetch(`${url}/webhooks/dynatrace/${environmentId}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: '{}',
        }),
        401,
        'unauthorized',
      ],
      [
        'wrong key',
        post(JSON.stringify(cpuNotification('-1_1V2')), { [WEBHOOK_KEY_HEADER]: 'nope' }),
        401,
        'unauthorized',
      ],
      [
        'wrong content type',
        post('State=OPEN', { 'Content-Type': 'application/x-www-form-urlencoded' }),
        415,
        'unsupported-media-type',
      ],
      ['malformed JSON', post('{"State":'), 400, 'malformed-json'],
      [
        'oversize body',
        post(JSON.stringify({ ...cpuNotification('-1_1V2'), padding: 'x'.repeat(20_000) })),
        413,
        'payload-too-large',
      ],
      ['missing fields', post(JSON.stringify({ State: 'OPEN' })), 400, 'invalid-payload'],
      ['not an object', post('[1,2]'), 400, 'invalid-payload'],
      [
        'bad environment id',
        post(JSON.stringify(cpuNotification('-1_1V2')), {}, '/webhooks/dynatrace/abc%20p1'),
        400,
        'invalid-environment',
      ],
    ];
    for (const [name, response, status, error] of cases) {
      const r = await response;
      expect(r.status, name).toBe(status);
      const body = (await r.json()) as { error: string; message: string };
      expect(body.error, name).toBe(error);
      expect(body.message.length, name).toBeGreaterThan(5);
    }
    const missing = (await (await post(JSON.stringify({ State: 'OPEN' }))).json()) as { message: string };
    expect(missing.message).toBe('missing or invalid field(s): PID, ImpactedEntities');
    expect(await workflowsOfEnvironment()).toEqual([]);
  });

  it('recognises the test notification: 200, no API call, no workflow', async () => {
    const response = await post(
      JSON.stringify({
        State: 'OPEN',
        PID: '99999',
        ProblemID: '999',
        ProblemTitle: 'Dynatrace problem notification test run',
        ImpactedEntities: [{ type: 'HOST', name: 'MyHost1', entity: 'HOST-XXXXXXXXXXXXX' }],
        ProblemDetailsJSON: { id: '99999' },
      }),
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'test-notification-received' });
    expect(metrics.count('test')).toBe(1);
    expect(await workflowsOfEnvironment()).toEqual([]);
  });

  it('hands a notification to the host remediation with signal-with-start, once per problem and state', async () => {
    const first = await post(JSON.stringify(cpuNotification('-4711_1717000000000V2')));
    expect(first.status).toBe(202);
    const workflowId = `remediate:${environmentId}:${HOST}`;
    expect(await first.json()).toEqual({ status: 'accepted', workflowIds: [workflowId], duplicates: 0 });

    const again = await post(JSON.stringify(cpuNotification('-4711_1717000000000V2')));
    expect(await again.json()).toEqual({ status: 'duplicate', workflowIds: [], duplicates: 1 });
    await post(JSON.stringify(cpuNotification('-4711_1717000000000V2', 'RESOLVED')));
    await post(JSON.stringify(cpuNotification('-4712_1717000000001V2')));

    const handle = env.client.workflow.getHandle(workflowId);
    const description = await handle.describe();
    expect(description.type).toBe('RemediateCpuSaturation');
    expect(description.typedSearchAttributes.get({ name: 'DtEnvironmentId', type: 'KEYWORD' })).toBe(environmentId);
    const history = await handle.fetchHistory();
    const signals = (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes);
    expect(signals).toHaveLength(3);
    expect(await workflowsOfEnvironment()).toEqual([workflowId]);
    await handle.terminate('test done');
  });

  it('ignores a notification without a HOST among the impacted entities', async () => {
    const response = await post(
      JSON.stringify({
        State: 'OPEN',
        PID: '-5_5V2',
        ImpactedEntities: [{ type: 'SERVICE', name: 'checkout', entity: 'SERVICE-0123456789ABCDEF' }],
      }),
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ignored', reason: 'no HOST among the impacted entities' });
  });

  it('serves health, readiness and metrics', async () => {
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${url}/readyz`)).json()).toEqual({ status: 'ready' });
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toContain('autopilot_webhook_responses_total{status="401"} 2');
    expect(text).toContain('autopilot_webhook_notifications_total{outcome="accepted"} 3');
    expect(text).toMatch(/autopilot_webhook_request_duration_ms_count \d+/);
  });
});
