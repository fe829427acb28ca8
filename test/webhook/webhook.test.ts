import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ENCRYPTED_ENCODING } from '../../src/codec/encryption-codec.js';
import { ConfigError } from '../../src/config/config.js';
import { Secret } from '../../src/config/secret.js';
import { createJsonLogger } from '../../src/observability/json-logger.js';
import { REMEDIATE_CPU_SATURATION, remediationPolicySchema } from '../../src/shared/remediation.js';
import { ROUTE_PROBLEM_NOTIFICATION } from '../../src/shared/problem-routing.js';
import { DEFAULT_WEBHOOK_KEY_HEADER } from '../../src/shared/webhook.js';
import { requireWebhookKey, startWebhookReceiver } from '../../src/webhook/start-webhook.js';
import { openFleetDatabase, openReadOnlyFleetDatabase } from '../../src/database/open-fleet-database.js';
import { EnvironmentRegistry } from '../../src/registry/environment-registry.js';
import { deriveWebhookKey, WebhookKeys } from '../../src/webhook/webhook-keys.js';
import { createWebhookServer } from '../../src/webhook/webhook-server.js';
import { startPostgresServer, type PostgresServer } from '../../sandbox/postgres-server.js';
import { testFleetDatabase } from '../helpers/autopilot.js';
import { cleanEnv, freePort, spawnEntryPoint, type SpawnedProcess } from '../helpers/processes.js';
import {
  connectToTestServer,
  historyText,
  TEST_CODEC_KEYS_TEXT,
  testConfig,
  uniqueTaskQueue,
} from '../helpers/temporal.js';
import { until } from '../helpers/until.js';
import { missingSecurityHeaders } from './bad-requests.js';

const KEY = 'test-webhook-key-0123456789';
const HOST = 'HOST-0123456789ABCDEF';

/** The file's fleet database (opened once: an embedded one takes seconds to create). */
let fleetDatabase: ReturnType<typeof testFleetDatabase> | undefined;
afterAll(async () => {
  await (await fleetDatabase)?.close();
});

/** The file's registry, with these environments registered. */
async function registryWith(...ids: string[]): Promise<EnvironmentRegistry> {
  fleetDatabase ??= testFleetDatabase(mkdtempSync(path.join(os.tmpdir(), 'webhook-registry-')));
  const { registry } = await fleetDatabase;
  for (const id of ids) {
    await registry.record({ id, kind: 'saas', apiUrl: `https://${id}.live.dynatrace.com`, source: 'registered' });
  }
  return registry;
}

const securityHeadersMissingFrom = (response: Response) => missingSecurityHeaders(Object.fromEntries(response.headers));

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
  let registry: EnvironmentRegistry;
  const taskQueue = uniqueTaskQueue('webhook');
  const environmentId = `whk-${Date.now()}`;
  /** The environment's own key, derived from the master key. */
  const environmentKey = deriveWebhookKey(KEY, environmentId);

  beforeAll(async () => {
    env = await connectToTestServer();
    registry = await registryWith(environmentId);
    const server = createWebhookServer({
      client: env.client,
      taskQueue,
      keys: new WebhookKeys({ master: new Secret(KEY), mode: 'per-environment' }),
      environments: registry,
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
      headers: { 'Content-Type': 'application/json', [DEFAULT_WEBHOOK_KEY_HEADER]: environmentKey, ...headers },
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
        post(JSON.stringify(cpuNotification('-1_1V2')), { [DEFAULT_WEBHOOK_KEY_HEADER]: 'nope' }),
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
        'the master key instead of the environment key',
        post(JSON.stringify(cpuNotification('-1_1V2')), { [DEFAULT_WEBHOOK_KEY_HEADER]: KEY }),
        401,
        'unauthorized',
      ],
      [
        // With the key that id would have: the id itself is what is wrong.
        'bad environment id',
        post(
          JSON.stringify(cpuNotification('-1_1V2')),
          { [DEFAULT_WEBHOOK_KEY_HEADER]: deriveWebhookKey(KEY, 'abc p1') },
          '/webhooks/dynatrace/abc%20p1',
        ),
        400,
        'invalid-environment',
      ],
    ];
    for (const [name, response, status, error] of cases) {
      const r = await response;
      expect(r.status, name).toBe(status);
      expect(securityHeadersMissingFrom(r), name).toEqual([]);
      const body = (await r.json()) as { error: string; message: string };
      expect(body.error, name).toBe(error);
      expect(body.message.length, name).toBeGreaterThan(5);
    }
    const missing = (await (await post(JSON.stringify({ State: 'OPEN' }))).json()) as { message: string };
    expect(missing.message).toBe('missing or invalid field(s): PID');
    expect(await workflowsOfEnvironment()).toEqual([]);
  });

  it('names invalid fields by our schema only, never by what the sender wrote', async () => {
    const marker = 'ZqxEchoMarker';
    const response = await post(
      JSON.stringify({
        State: 'OPEN',
        PID: `${marker} <script>`,
        ImpactedEntities: [{ type: 'HOST', entity: 7, [marker]: marker }, marker],
        [marker]: { [marker]: marker },
      }),
    );
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(text).not.toContain(marker);
    expect(JSON.parse(text)).toEqual({
      error: 'invalid-payload',
      message: 'missing or invalid field(s): PID, ImpactedEntities.0.entity, ImpactedEntities.1',
    });
    const deep = await post(JSON.stringify({ ...cpuNotification('-1_2V2'), ProblemDetailsJSON: nest(40) }));
    expect(deep.status).toBe(400);
    expect(await deep.json()).toEqual({
      error: 'too-deeply-nested',
      message: 'the body nests arrays and objects deeper than 32',
    });
    const poisoned = await post(`{"__proto__":{"isAdmin":true},${JSON.stringify(cpuNotification('-1_3V2')).slice(1)}`);
    expect(poisoned.status).toBe(400);
    expect(((await poisoned.json()) as { error: string }).error).toBe('forbidden-property');
    const plain = await post(JSON.stringify(cpuNotification('-1_4V2')), { 'Content-Type': 'text/plain' });
    expect(plain.status).toBe(415);
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
    expect(securityHeadersMissingFrom(response)).toEqual([]);
    expect(await response.json()).toEqual({ status: 'test-notification-received' });
    expect(metrics.count('test')).toBe(1);
    expect(await workflowsOfEnvironment()).toEqual([]);
  });

  it('hands a notification to the host remediation with signal-with-start, once per problem and state', async () => {
    const first = await post(JSON.stringify(cpuNotification('-4711_1717000000000V2')));
    expect(first.status).toBe(202);
    expect(securityHeadersMissingFrom(first)).toEqual([]);
    const workflowId = `remediate:${environmentId}:${HOST}`;
    expect(await first.json()).toEqual({ status: 'accepted', workflowIds: [workflowId], duplicates: 0 });

    const again = await post(JSON.stringify(cpuNotification('-4711_1717000000000V2')));
    expect(await again.json()).toEqual({ status: 'duplicate', workflowIds: [], duplicates: 1 });
    await post(JSON.stringify(cpuNotification('-4711_1717000000000V2', 'RESOLVED')));
    await post(JSON.stringify(cpuNotification('-4712_1717000000001V2')));

    const handle = env.client.workflow.getHandle(workflowId);
    const description = await handle.describe();
    expect(description.type).toBe(REMEDIATE_CPU_SATURATION);
    expect(description.typedSearchAttributes.get({ name: 'DtEnvironmentId', type: 'KEYWORD' })).toBe(environmentId);
    const history = await handle.fetchHistory();
    const signals = (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes);
    expect(signals).toHaveLength(3);
    expect(await workflowsOfEnvironment()).toEqual([workflowId]);
    await handle.terminate('test done');
  });

  it('hands a notification without a HOST to a problem lookup, once per problem and state', async () => {
    const service = await post(
      JSON.stringify({
        State: 'OPEN',
        PID: '-5_5V2',
        ImpactedEntities: [{ type: 'SERVICE', name: 'checkout', entity: 'SERVICE-0123456789ABCDEF' }],
      }),
    );
    expect(service.status).toBe(202);
    const lookupId = `route-problem:${environmentId}:-5_5V2:OPEN`;
    expect(await service.json()).toEqual({
      status: 'accepted',
      workflowIds: [lookupId],
      duplicates: 0,
      via: 'problem-lookup',
    });
    // The self-healing guide's payload: State, PID and ProblemTitle, nothing else.
    const seed = await post(JSON.stringify({ State: 'OPEN', PID: '-6_6V2', ProblemTitle: 'CPU saturation' }));
    expect(seed.status).toBe(202);
    const again = await post(JSON.stringify({ State: 'OPEN', PID: '-6_6V2', ProblemTitle: 'CPU saturation' }));
    expect(await again.json()).toEqual({ status: 'duplicate', workflowIds: [], duplicates: 1, via: 'problem-lookup' });

    const handle = env.client.workflow.getHandle(`route-problem:${environmentId}:-6_6V2:OPEN`);
    const description = await handle.describe();
    expect(description.type).toBe(ROUTE_PROBLEM_NOTIFICATION);
    expect(description.typedSearchAttributes.get({ name: 'DtProblemId', type: 'KEYWORD' })).toBe('-6_6V2');
    // The receiver holds no Dynatrace credentials: the run reads the problem, the input says which.
    expect(await historyText(handle)).toContain('"problemId":"-6_6V2"');
    for (const id of [lookupId, handle.workflowId]) await env.client.workflow.getHandle(id).terminate('test done');
  });

  it('accepts a body that starts with a UTF-8 byte order mark', async () => {
    const response = await post(`\uFEFF${JSON.stringify(cpuNotification('-4713_1717000000002V2'))}`);
    expect(response.status).toBe(202);
    const workflowId = `remediate:${environmentId}:${HOST}`;
    expect(await response.json()).toEqual({ status: 'accepted', workflowIds: [workflowId], duplicates: 0 });
    await env.client.workflow.getHandle(workflowId).terminate('test done');
  });

  it('serves health, readiness and metrics', async () => {
    for (const endpoint of ['/healthz', '/readyz', '/metrics']) {
      expect(securityHeadersMissingFrom(await fetch(`${url}${endpoint}`)), endpoint).toEqual([]);
    }
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' });
    expect(await (await fetch(`${url}/readyz`)).json()).toEqual({ status: 'ready' });
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toContain('autopilot_webhook_responses_total{status="401"} 3');
    expect(text).toContain('autopilot_webhook_responses_total{status="415"} 2');
    expect(text).toContain('autopilot_webhook_notifications_total{outcome="accepted"} 4');
    expect(text).toContain('autopilot_webhook_notifications_total{outcome="lookup"} 2');
    expect(text).toMatch(/autopilot_webhook_request_duration_ms_count \d+/);
    expect(text).toMatch(/autopilot_webhook_authenticated_total\{key="current"\} \d+/);
  });
});

describe('a receiver taking over an existing X-API-KEY set-up (AUTOPILOT_WEBHOOK_KEY_HEADER, shared key)', () => {
  it('takes the one shared key from the configured header only, with the same refusals', async () => {
    const env = await connectToTestServer();
    const config = testConfig({
      AUTOPILOT_WEBHOOK_KEY_HEADER: 'X-API-KEY',
      AUTOPILOT_WEBHOOK_KEY_MODE: 'shared',
      WEBHOOK_API_KEY: KEY,
    });
    expect(config.webhook.keyHeader).toBe('X-API-KEY');
    expect(config.webhook.keyMode).toBe('shared');
    const environmentId = `whk-xkey-${Date.now()}`;
    const registry = await registryWith(environmentId);
    const server = createWebhookServer({
      client: env.client,
      taskQueue: uniqueTaskQueue('webhook-x-api-key'),
      keys: new WebhookKeys({ master: config.webhook.apiKey!, mode: config.webhook.keyMode }),
      environments: registry,
      keyHeader: config.webhook.keyHeader,
      policy: remediationPolicySchema.parse({}),
      maxBodyBytes: config.webhook.maxBodyBytes,
      logger: createJsonLogger('ERROR', () => undefined),
    });
    await server.app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(server.app.server.address() as { port: number }).port}`;
    const send = (headers: Record<string, string>) =>
      fetch(`${base}/webhooks/dynatrace/${environmentId}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...headers },
        body: JSON.stringify({ State: 'OPEN', PID: '-9_9V2', ProblemTitle: 'CPU saturation' }),
      });
    try {
      const ours = await send({ [DEFAULT_WEBHOOK_KEY_HEADER]: KEY });
      expect(ours.status).toBe(401);
      expect(await ours.json()).toEqual({ error: 'unauthorized', message: 'missing or wrong X-API-KEY header' });
      expect((await send({ 'X-API-KEY': 'wrong-key-0123456789' })).status).toBe(401);
      const accepted = await send({ 'x-api-key': KEY });
      expect(accepted.status).toBe(202);
      const { workflowIds } = (await accepted.json()) as { workflowIds: string[] };
      await env.client.workflow.getHandle(workflowIds[0]!).terminate('test done');
    } finally {
      await server.app.close();
      await env.teardown();
    }
  });

  it('refuses a header name HTTP itself uses or that is not a header name, naming the variable', () => {
    for (const name of ['Content-Type', 'host', 'X API KEY', 'X-Key:']) {
      expect(() => testConfig({ AUTOPILOT_WEBHOOK_KEY_HEADER: name }), name).toThrow(
        /^Invalid configuration: AUTOPILOT_WEBHOOK_KEY_HEADER must /,
      );
    }
    expect(testConfig().webhook.keyHeader).toBe(DEFAULT_WEBHOOK_KEY_HEADER);
    // Real payloads with {ProblemDetailsHTML} or {ProblemDetailsJSON} run to hundreds of KB.
    expect(testConfig().webhook.maxBodyBytes).toBe(1024 * 1024);
  });
});

const nest = (depth: number): unknown => (depth === 0 ? 'leaf' : { next: nest(depth - 1) });

describe('webhook receiver start-up', () => {
  const started: SpawnedProcess[] = [];
  afterAll(() => {
    for (const p of started.splice(0)) p.child.kill('SIGKILL');
  });

  /** The service's environment without any webhook key this machine's shell may have. */
  const serviceEnv = (extra: Record<string, string>) => {
    const env = cleanEnv({ AUTOPILOT_METRICS_ADDRESS: 'off' });
    for (const name of Object.keys(env)) if (name.startsWith('WEBHOOK_')) delete env[name];
    return { ...env, ...extra };
  };

  it('refuses a configuration without a key of at least 16 characters, naming the variable', async () => {
    expect(() => requireWebhookKey(testConfig())).toThrow(ConfigError);
    expect(() => requireWebhookKey(testConfig())).toThrow(
      /^Invalid configuration: WEBHOOK_API_KEY \(or WEBHOOK_API_KEY_FILE\) is required outside the sandbox/,
    );
    expect(() => requireWebhookKey(testConfig({ WEBHOOK_API_KEY: 'fifteen-chars!!' }))).toThrow(
      /^Invalid configuration: WEBHOOK_API_KEY must hold a key of at least 16 characters/,
    );
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'webhook-key-')), 'key');
    writeFileSync(file, 'short\n');
    expect(() => requireWebhookKey(testConfig({ WEBHOOK_API_KEY_FILE: file }))).toThrow(
      /^Invalid configuration: WEBHOOK_API_KEY_FILE must hold a key of at least 16 characters/,
    );
    expect(requireWebhookKey(testConfig({ WEBHOOK_API_KEY: KEY })).reveal()).toBe(KEY);
    // Nothing listens when the key is missing.
    const port = await freePort();
    await expect(
      startWebhookReceiver(
        testConfig({ AUTOPILOT_WEBHOOK_PORT: String(port) }),
        {} as Client,
        createJsonLogger('ERROR', () => undefined),
      ),
    ).rejects.toThrow(/WEBHOOK_API_KEY/);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });

  it('the service exits at once with one line naming WEBHOOK_API_KEY, before trying Temporal', async () => {
    const unused = await freePort();
    const proc = spawnEntryPoint(
      'src/webhook/main.ts',
      serviceEnv({ TEMPORAL_ADDRESS: `127.0.0.1:${unused}`, AUTOPILOT_CODEC_KEYS: TEST_CODEC_KEYS_TEXT }),
    );
    started.push(proc);
    expect((await proc.exit).code).toBe(2);
    const lines = proc.stderr().trim().split('\n');
    expect(lines).toEqual([expect.stringMatching(/^autopilot webhook: Invalid configuration: WEBHOOK_API_KEY /)]);
    expect(proc.stderr()).not.toContain('Temporal');
  });

  it('the service on its own needs the fleet database for the registry, and says so before trying Temporal', async () => {
    const unused = await freePort();
    const proc = spawnEntryPoint(
      'src/webhook/main.ts',
      serviceEnv({
        TEMPORAL_ADDRESS: `127.0.0.1:${unused}`,
        AUTOPILOT_CODEC_KEYS: TEST_CODEC_KEYS_TEXT,
        WEBHOOK_API_KEY: KEY,
      }),
    );
    started.push(proc);
    expect((await proc.exit).code).toBe(2);
    expect(proc.stderr().trim().split('\n')).toEqual([
      expect.stringMatching(/^autopilot webhook: Invalid configuration: AUTOPILOT_DATABASE_URL .*registry/),
    ]);
    // A list of earlier keys with an entry too short to be one is refused, naming the variable.
    expect(() => testConfig({ WEBHOOK_PREVIOUS_API_KEYS: `${KEY}-old,short` })).toThrow(
      /^Invalid configuration: WEBHOOK_PREVIOUS_API_KEYS entry 2 is shorter than 16 characters/,
    );
    expect(() => testConfig({ AUTOPILOT_WEBHOOK_KEY_MODE: 'per-tenant' })).toThrow(
      /^Invalid configuration: AUTOPILOT_WEBHOOK_KEY_MODE must be per-environment or shared/,
    );
  });

  describe('on its own, with the registry in PostgreSQL', () => {
    let postgres: PostgresServer;
    let databaseUrl: string;
    beforeAll(async () => {
      postgres = await startPostgresServer();
      databaseUrl = await postgres.database('webhook_main');
    });
    afterAll(async () => {
      await postgres?.stop();
    });

    it("hands registered environments' notifications to Temporal encrypted, refuses unregistered ones, and only reads the database", async () => {
      const env = await connectToTestServer();
      const port = await freePort();
      const environmentId = `whk-main-${Date.now()}`;
      const unregistered = `whk-ghost-${Date.now()}`;
      // The workers own the schema and the registry; the receiver only reads them.
      const fleet = await openFleetDatabase({ url: databaseUrl, embeddedDir: '' });
      await new EnvironmentRegistry(fleet.db).record({
        id: environmentId,
        kind: 'saas',
        apiUrl: `https://${environmentId}.live.dynatrace.com`,
        source: 'registered',
      });
      await fleet.close();
      const taskQueue = uniqueTaskQueue('webhook-main');
      const proc = spawnEntryPoint(
        'src/webhook/main.ts',
        serviceEnv({
          TEMPORAL_ADDRESS: inject('temporalAddress'),
          TEMPORAL_NAMESPACE: inject('temporalNamespace'),
          AUTOPILOT_CODEC_KEYS: TEST_CODEC_KEYS_TEXT,
          AUTOPILOT_TASK_QUEUE: taskQueue,
          AUTOPILOT_WEBHOOK_PORT: String(port),
          AUTOPILOT_DATABASE_URL: databaseUrl,
          WEBHOOK_API_KEY: KEY,
        }),
      );
      started.push(proc);
      const send = (id: string, pid: string) =>
        fetch(`http://127.0.0.1:${port}/webhooks/dynatrace/${id}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', [DEFAULT_WEBHOOK_KEY_HEADER]: deriveWebhookKey(KEY, id) },
          body: JSON.stringify(cpuNotification(pid)),
        });
      try {
        await proc.waitForOutput(/Webhook receiver started/, 30_000);
        const refused = await send(unregistered, '-78_1717000000000V2');
        expect(refused.status).toBe(404);
        expect(await refused.json()).toEqual({
          error: 'unknown-environment',
          message: 'the environment in the path is not registered with Autopilot',
        });
        const response = await send(environmentId, '-77_1717000000000V2');
        expect(response.status).toBe(202);
        expect(securityHeadersMissingFrom(response)).toEqual([]);
        const handle = env.client.workflow.getHandle(`remediate:${environmentId}:${HOST}`);
        const history = await handle.fetchHistory();
        const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
        expect(Buffer.from(input?.metadata?.encoding ?? []).toString()).toBe(ENCRYPTED_ENCODING);
        expect(await historyText(handle)).toContain('-77_1717000000000V2');
        await handle.terminate('test done');
        // Once the accepted one is listed, it is the only run the receiver started.
        const runs = await until('the run to be listed', async () => {
          const ids: string[] = [];
          for await (const run of env.client.workflow.list({ query: `TaskQueue = '${taskQueue}'` }))
            ids.push(run.workflowId);
          return ids.length > 0 ? ids : undefined;
        });
        expect(runs).toEqual([handle.workflowId]);
        // The receiver's sessions cannot write, whatever a bug in it would try.
        const readOnly = openReadOnlyFleetDatabase(databaseUrl);
        try {
          expect(await readOnly.db.selectFrom('environments').select('id').execute()).toEqual([{ id: environmentId }]);
          await expect(
            readOnly.db.deleteFrom('environments').where('id', '=', environmentId).execute(),
          ).rejects.toThrow(/read-only transaction/);
        } finally {
          await readOnly.close();
        }
        proc.child.kill('SIGTERM');
        expect((await proc.exit).code).toBe(0);
      } finally {
        await env.teardown();
      }
    });
  });
});
