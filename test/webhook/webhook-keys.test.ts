import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOnboarding } from '../../src/client/start-onboarding.js';
import { runStandardsPlan, startStandardsApply } from '../../src/client/start-standards.js';
import { FileSecret, Secret } from '../../src/config/secret.js';
import { createJsonLogger } from '../../src/observability/json-logger.js';
import { problemRoutingWorkflowId } from '../../src/shared/problem-routing.js';
import {
  REMEDIATE_CPU_SATURATION,
  remediationPolicySchema,
  remediationWorkflowId,
  type RemediationResult,
} from '../../src/shared/remediation.js';
import { DEFAULT_WEBHOOK_KEY_HEADER, WEBHOOK_KEY_ID_HEADER } from '../../src/shared/webhook.js';
import { SELF_HEALING_SET } from '../../src/standards/builtin-standards.js';
import { openReadOnlyFleetDatabase } from '../../src/database/open-fleet-database.js';
import { EnvironmentRegistry } from '../../src/registry/environment-registry.js';
import { RegisteredEnvironments } from '../../src/webhook/registered-environments.js';
import { deriveWebhookKey, webhookKeyId, WebhookKeys } from '../../src/webhook/webhook-keys.js';
import { createWebhookServer } from '../../src/webhook/webhook-server.js';
import { startTestbed, testFleetDatabase, type Testbed } from '../helpers/autopilot.js';
import { freePort } from '../helpers/processes.js';
import { connectToTestServer, uniqueTaskQueue, workflowExists } from '../helpers/temporal.js';
import { until } from '../helpers/until.js';

const secret = (text: string) => new Secret(text);
const master = (label: string) => `${label}-${randomBytes(12).toString('base64url')}`;

/** One fleet database for the receivers below that need a registry but no worker. */
let database: Awaited<ReturnType<typeof testFleetDatabase>>;
beforeAll(async () => {
  database = await testFleetDatabase(mkdtempSync(path.join(os.tmpdir(), 'webhook-keys-registry-')));
  await database.registry.record({
    id: 'known-p1',
    kind: 'saas',
    apiUrl: 'https://known-p1.live.dynatrace.com',
    source: 'registered',
  });
});
afterAll(async () => {
  await database?.close();
});

describe('webhook keys', () => {
  const M1 = master('first-master');
  const M2 = master('second-master');

  it('derive a key per environment from the master key: deterministic, distinct, and not the master', () => {
    const a = deriveWebhookKey(M1, 'abc-p1');
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(deriveWebhookKey(M1, 'abc-p1')).toBe(a);
    expect(deriveWebhookKey(M1, 'abc-p2')).not.toBe(a);
    expect(deriveWebhookKey(M2, 'abc-p1')).not.toBe(a);
    expect(a).not.toContain(M1);
    expect(webhookKeyId(a)).toMatch(/^[0-9a-f]{12}$/);
    expect(webhookKeyId(a)).not.toBe(webhookKeyId(deriveWebhookKey(M1, 'abc-p2')));
  });

  it("per environment: a key opens its own environment's path only, never another's, and the master opens none", () => {
    const keys = new WebhookKeys({ master: secret(M1), mode: 'per-environment' });
    const a = keys.keyFor('abc-p1');
    expect(keys.match('abc-p1', a)).toBe('current');
    expect(keys.match('abc-p2', a)).toBeUndefined();
    expect(keys.match('abc-p1', M1)).toBeUndefined();
    // A path without an environment has no key at all.
    expect(keys.match(undefined, a)).toBeUndefined();
    expect(keys.match(undefined, M1)).toBeUndefined();
    expect(keys.keyIdFor('abc-p1')).toBe(webhookKeyId(a));
    expect(JSON.stringify({ keys })).not.toContain(M1);
  });

  it('shared: the one master key on every path, as set-ups that already use one expect', () => {
    const keys = new WebhookKeys({ master: secret(M1), mode: 'shared' });
    expect(keys.keyFor('abc-p1')).toBe(M1);
    expect(keys.match('abc-p1', M1)).toBe('current');
    expect(keys.match('xyz-p9', M1)).toBe('current');
    expect(keys.match(undefined, M1)).toBe('current');
    expect(keys.match('abc-p1', deriveWebhookKey(M1, 'abc-p1'))).toBeUndefined();
    // Unchanged fingerprint for the seed's key: switching the code does not rewrite anyone's webhook.
    expect(keys.keyIdFor('abc-p1')).toBe(webhookKeyId(M1));
  });

  it('earlier masters are accepted as previous while listed; short entries never match', () => {
    const previous = `# rotated in March\n${M1}\n\nshort-entry\n`;
    const keys = new WebhookKeys({ master: secret(M2), mode: 'per-environment', previous: secret(previous) });
    expect(keys.keyFor('abc-p1')).toBe(deriveWebhookKey(M2, 'abc-p1'));
    expect(keys.match('abc-p1', deriveWebhookKey(M2, 'abc-p1'))).toBe('current');
    expect(keys.match('abc-p1', deriveWebhookKey(M1, 'abc-p1'))).toBe('previous');
    expect(keys.match('abc-p2', deriveWebhookKey(M1, 'abc-p1'))).toBeUndefined();
    expect(keys.match('abc-p1', deriveWebhookKey('short-entry', 'abc-p1'))).toBeUndefined();
    const shared = new WebhookKeys({ master: secret(M2), mode: 'shared', previous: secret(`${M1},short-entry`) });
    expect(shared.match('abc-p1', M1)).toBe('previous');
    expect(shared.match('abc-p1', 'short-entry')).toBeUndefined();
    // A master rotated to something too short fails closed.
    expect(
      new WebhookKeys({ master: secret('too-short'), mode: 'shared' }).match('abc-p1', 'too-short'),
    ).toBeUndefined();
  });
});

describe("the receiver's registry cache", () => {
  const asked: string[] = [];
  /** The real registry, counting what is asked of the database. */
  const counted = { has: (id: string) => (asked.push(id), database.registry.has(id)) };

  it('asks once for a burst about one environment, keeps yes and no, and forgets the oldest beyond its bound', async () => {
    asked.length = 0;
    const cache = new RegisteredEnvironments(counted, { ttlMs: 600_000, maxEntries: 3 });
    const burst = await Promise.all(Array.from({ length: 50 }, () => cache.isRegistered('ghost-p1')));
    expect(burst.every((r) => r === false)).toBe(true);
    expect(asked).toEqual(['ghost-p1']);
    expect(await cache.isRegistered('ghost-p1')).toBe(false);
    expect(await cache.isRegistered('known-p1')).toBe(true);
    expect(await cache.isRegistered('known-p1')).toBe(true);
    expect(asked).toEqual(['ghost-p1', 'known-p1']);
    for (const id of ['other-p1', 'other-p2']) await cache.isRegistered(id);
    // Four environments in a cache of three: the first answer was dropped, the newest kept.
    await cache.isRegistered('ghost-p1');
    await cache.isRegistered('other-p2');
    expect(asked).toEqual(['ghost-p1', 'known-p1', 'other-p1', 'other-p2', 'ghost-p1']);
  });

  it('asks again once an answer is older than its time to live, so a new environment is seen', async () => {
    asked.length = 0;
    const cache = new RegisteredEnvironments(counted, { ttlMs: 200, maxEntries: 100 });
    expect(await cache.isRegistered('late-p1')).toBe(false);
    await database.registry.record({
      id: 'late-p1',
      kind: 'saas',
      apiUrl: 'https://late-p1.live.dynatrace.com',
      source: 'registered',
    });
    await until('the new environment to be seen', async () =>
      (await cache.isRegistered('late-p1')) ? true : undefined,
    );
    expect(asked.length).toBeGreaterThanOrEqual(2);
  });

  it('keeps no answer when the database fails: the next request asks again', async () => {
    // A PostgreSQL URL where nothing listens: every query fails to connect.
    const unreachable = openReadOnlyFleetDatabase(`postgres://autopilot@127.0.0.1:${await freePort()}/autopilot`);
    const registry = new EnvironmentRegistry(unreachable.db);
    let lookups = 0;
    const cache = new RegisteredEnvironments(
      { has: (id) => (lookups++, registry.has(id)) },
      { ttlMs: 600_000, maxEntries: 100 },
    );
    try {
      await expect(cache.isRegistered('known-p1')).rejects.toThrow(/ECONNREFUSED/);
      await expect(cache.isRegistered('known-p1')).rejects.toThrow(/ECONNREFUSED/);
      expect(lookups).toBe(2);
    } finally {
      await unreachable.close();
    }
  });
});

describe('the receiver asking the registry', () => {
  it('a flood naming one unknown environment costs one lookup; requests without its key cost none', async () => {
    const env = await connectToTestServer();
    const asked: string[] = [];
    const M = master('flood');
    const server = createWebhookServer({
      client: env.client,
      taskQueue: uniqueTaskQueue('webhook-flood'),
      keys: new WebhookKeys({ master: secret(M), mode: 'per-environment' }),
      environments: { has: (id) => (asked.push(id), database.registry.has(id)) },
      // Long enough that this machine's load cannot make the flood outlast it.
      registryCache: { ttlMs: 600_000, maxEntries: 1_000 },
      policy: remediationPolicySchema.parse({}),
      maxBodyBytes: 16 * 1024,
      rateLimit: { perSecond: 1_000_000, burst: 1_000_000 },
      logger: createJsonLogger('ERROR', () => undefined),
    });
    await server.app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(server.app.server.address() as { port: number }).port}`;
    const send = (environmentId: string, key: string | undefined) =>
      fetch(`${base}/webhooks/dynatrace/${environmentId}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...(key ? { [DEFAULT_WEBHOOK_KEY_HEADER]: key } : {}) },
        body: JSON.stringify({ State: 'OPEN', PID: '-1_1V2', ProblemTitle: 'CPU saturation' }),
      }).then((r) => r.status);
    try {
      const unknown = await Promise.all(
        Array.from({ length: 100 }, () => send('flood-p1', deriveWebhookKey(M, 'flood-p1'))),
      );
      expect(new Set(unknown)).toEqual(new Set([404]));
      expect(asked).toEqual(['flood-p1']);
      const guesses = await Promise.all(
        Array.from({ length: 100 }, (_, i) => send(`guess-p${i}`, i % 2 ? undefined : deriveWebhookKey(M, 'flood-p1'))),
      );
      expect(new Set(guesses)).toEqual(new Set([401]));
      expect(asked).toEqual(['flood-p1']);
    } finally {
      await server.app.close();
      await env.teardown();
    }
  });
});

describe('the receiver when the registry does not answer', () => {
  it('answers 503 with a reason so the sender tries again, and starts nothing', async () => {
    const env = await connectToTestServer();
    const unreachable = openReadOnlyFleetDatabase(`postgres://autopilot@127.0.0.1:${await freePort()}/autopilot`);
    const M = master('unreachable');
    const taskQueue = uniqueTaskQueue('webhook-registry-down');
    const server = createWebhookServer({
      client: env.client,
      taskQueue,
      keys: new WebhookKeys({ master: secret(M), mode: 'per-environment' }),
      environments: new EnvironmentRegistry(unreachable.db),
      policy: remediationPolicySchema.parse({}),
      maxBodyBytes: 16 * 1024,
      logger: createJsonLogger('ERROR', () => undefined),
    });
    await server.app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(server.app.server.address() as { port: number }).port}`;
    try {
      const response = await fetch(`${base}/webhooks/dynatrace/known-p1`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', [DEFAULT_WEBHOOK_KEY_HEADER]: deriveWebhookKey(M, 'known-p1') },
        body: JSON.stringify({ State: 'OPEN', PID: '-9_9V2', ProblemTitle: 'CPU saturation' }),
      });
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({
        error: 'registry-unavailable',
        message: 'the environment could not be looked up; send it again',
      });
      expect(await workflowExists(env.client, problemRoutingWorkflowId('known-p1', '-9_9V2', 'OPEN'))).toBe(false);
    } finally {
      await server.app.close();
      await unreachable.close();
      await env.teardown();
    }
  });
});

describe('/readyz', () => {
  it('probes Temporal at most once a second, and requests meanwhile share the probe', async () => {
    const env = await connectToTestServer();
    const service = env.client.connection.workflowService;
    const getSystemInfo = service.getSystemInfo.bind(service);
    const probes: number[] = [];
    let release: () => void = () => undefined;
    let gate = Promise.resolve();
    service.getSystemInfo = (async (...args: Parameters<typeof getSystemInfo>) => {
      probes.push(Date.now());
      await gate;
      return getSystemInfo(...args);
    }) as typeof service.getSystemInfo;
    const server = createWebhookServer({
      client: env.client,
      taskQueue: uniqueTaskQueue('webhook-readyz'),
      keys: new WebhookKeys({ master: secret(master('readyz')), mode: 'per-environment' }),
      environments: database.registry,
      policy: remediationPolicySchema.parse({}),
      maxBodyBytes: 16 * 1024,
      logger: createJsonLogger('ERROR', () => undefined),
    });
    let arrived = 0;
    server.app.addHook('onRequest', async (request) => {
      if (request.url === '/readyz') arrived++;
    });
    await server.app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(server.app.server.address() as { port: number }).port}/readyz`;
    try {
      // Twenty at once while the first probe is held: all of them wait for that one probe.
      gate = new Promise<void>((resolve) => (release = resolve));
      const answers = Array.from({ length: 20 }, () => fetch(url));
      await until('all twenty to arrive', async () => (arrived === 20 ? true : undefined));
      expect(probes).toHaveLength(1);
      release();
      for (const answer of await Promise.all(answers)) {
        expect(answer.status).toBe(200);
        expect(await answer.json()).toEqual({ status: 'ready' });
      }
      expect(probes).toHaveLength(1);

      // A stream of requests: however slow this machine is, probes start at least a second apart.
      const firstProbe = probes[0]!;
      for (let i = 0; i < 40; i++) expect((await fetch(url)).status).toBe(200);
      const elapsed = Date.now() - firstProbe;
      expect(probes.length).toBeLessThanOrEqual(1 + Math.floor(elapsed / 1000));
      for (let i = 1; i < probes.length; i++) expect(probes[i]! - probes[i - 1]!).toBeGreaterThanOrEqual(1000);
      // And the answer is not kept for ever: a later request probes again.
      const before = probes.length;
      await until(
        'a fresh probe',
        async () => ((await fetch(url)).status === 200 && probes.length > before) || undefined,
      );

      // Temporal unreachable: 503, and that answer is kept for its second too.
      service.getSystemInfo = (async () => {
        probes.push(Date.now());
        throw new Error('connection refused');
      }) as unknown as typeof service.getSystemInfo;
      const failedFrom = probes.length;
      const down = await until('a failed probe', async () => {
        const r = await fetch(url);
        return r.status === 503 ? r : undefined;
      });
      expect(await down.json()).toEqual({ error: 'not-ready', message: 'Temporal is not reachable' });
      const firstFailure = probes[failedFrom]!;
      for (let i = 0; i < 40; i++) expect((await fetch(url)).status).toBe(503);
      const failing = probes.length - failedFrom;
      expect(failing).toBeLessThanOrEqual(1 + Math.floor((Date.now() - firstFailure) / 1000));
    } finally {
      service.getSystemInfo = getSystemInfo;
      await server.app.close();
      await env.teardown();
    }
  });
});

const A = 'wka-p1';
const B = 'wkb-p1';
const GHOST = 'wkghost-p1';

/**
 * The receiver and onboarding together, on the simulator, with keys in files as an operator keeps
 * them: per-environment keys written by onboarding, A's key on B's path, an environment that is not
 * registered, the simulator's own notification reaching a remediation, and a rotation of the master
 * key with an overlap.
 */
describe('per-environment webhook keys end to end', () => {
  let tb: Testbed;
  let worker: Worker;
  let running: Promise<void>;
  let receiver: ReturnType<typeof createWebhookServer>;
  let url: string;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'webhook-keys-'));
  const masterFile = path.join(dir, 'webhook-api-key');
  const previousFile = path.join(dir, 'webhook-previous-api-keys');
  const M1 = master('master-one');
  const M2 = master('master-two');
  const previousKeyOf: Record<string, string> = {};

  beforeAll(async () => {
    writeFileSync(masterFile, `${M1}\n`);
    writeFileSync(previousFile, '# no earlier keys\n');
    tb = await startTestbed();
    receiver = createWebhookServer({
      client: tb.env.client,
      taskQueue: tb.taskQueue,
      keys: new WebhookKeys({
        master: new FileSecret(masterFile, M1),
        mode: 'per-environment',
        previous: new FileSecret(previousFile, '# no earlier keys'),
      }),
      environments: tb.registry,
      policy: remediationPolicySchema.parse({ threshold: 3, window: '1 hour', cooldown: '10 minutes' }),
      maxBodyBytes: 64 * 1024,
      logger: createJsonLogger('ERROR', () => undefined),
    });
    await receiver.app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(receiver.app.server.address() as { port: number }).port}`;
    // The worker reads the same master key file: it derives what it writes into each environment.
    tb.deps.webhook = { publicUrl: url, apiKey: new FileSecret(masterFile, M1) };
    worker = await tb.worker();
    running = worker.run();
    for (const customer of ['wka', 'wkb']) {
      const onboarding = await startOnboarding(tb.env.client, { customer, stage: 'p1' }, { taskQueue: tb.taskQueue });
      expect((await onboarding.result()).notifications.status).toBe('configured');
    }
  }, 180_000);
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await receiver?.app.close();
    await tb?.teardown();
  });

  /** The key and fingerprint the simulator holds in the environment's webhook (what Dynatrace sends). */
  const webhookOf = (environmentId: string) => {
    const object = [...tb.dt.simulator.state.environments.get(environmentId)!.settings.values()].find(
      (o) => o.externalId === `dynatrace-autopilot:${environmentId}:webhook`,
    )!;
    const headers = (
      object.value.webHookNotification as { headers: { name: string; value?: string; secretValue?: string }[] }
    ).headers;
    return {
      key: headers.find((h) => h.name === DEFAULT_WEBHOOK_KEY_HEADER)!.secretValue!,
      keyId: headers.find((h) => h.name === WEBHOOK_KEY_ID_HEADER)!.value!,
    };
  };

  /** A notification without hosts: accepted, it would start a problem lookup under a known id. */
  const lookupNotification = (environmentId: string, key: string, pid: string) =>
    fetch(`${url}/webhooks/dynatrace/${environmentId}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', [DEFAULT_WEBHOOK_KEY_HEADER]: key },
      body: JSON.stringify({ State: 'OPEN', PID: pid, ProblemTitle: 'CPU saturation' }),
    });

  const hostNotification = (environmentId: string, key: string, pid: string, host: string) =>
    fetch(`${url}/webhooks/dynatrace/${environmentId}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', [DEFAULT_WEBHOOK_KEY_HEADER]: key },
      body: JSON.stringify({ State: 'OPEN', PID: pid, ImpactedEntities: [{ type: 'HOST', name: 'x', entity: host }] }),
    });

  const exists = (workflowId: string) => workflowExists(tb.env.client, workflowId);

  /** Opens a CPU problem on a new host of the environment and waits for the simulator's delivery. */
  const raise = async (environmentId: string, hostName: string) => {
    const { entityId } = await tb.dt.control<{ entityId: string }>(`/environments/${environmentId}/hosts`, {
      hostName,
    });
    const problem = await tb.dt.control<{ problemId: string }>('/problems', { environmentId, hostName });
    const delivery = await until('the delivery', async () =>
      (await tb.dt.stats()).deliveries.find((d) => d.problemId === problem.problemId && d.status !== null),
    );
    return { entityId, problemId: problem.problemId, status: delivery.status };
  };

  it('onboarding writes each environment a key of its own, derived from the master key', () => {
    const a = webhookOf(A);
    const b = webhookOf(B);
    expect(a.key).toBe(deriveWebhookKey(M1, A));
    expect(b.key).toBe(deriveWebhookKey(M1, B));
    expect(a.key).not.toBe(b.key);
    expect([a.key, b.key]).not.toContain(M1);
    expect(a.keyId).toBe(webhookKeyId(a.key));
    expect(b.keyId).toBe(webhookKeyId(b.key));
    previousKeyOf[A] = a.key;
    previousKeyOf[B] = b.key;
  });

  it("A's key on B's path: 401, and no workflow starts", async () => {
    const aKey = webhookOf(A).key;
    const lookup = await lookupNotification(B, aKey, '-101_1V2');
    expect(lookup.status).toBe(401);
    expect(await lookup.json()).toEqual({
      error: 'unauthorized',
      message: `missing or wrong ${DEFAULT_WEBHOOK_KEY_HEADER} header`,
    });
    const host = await hostNotification(B, aKey, '-102_1V2', 'HOST-00000000000000B1');
    expect(host.status).toBe(401);
    // The master key, which onboarding never writes anywhere, opens no path either.
    expect((await lookupNotification(B, M1, '-103_1V2')).status).toBe(401);
    expect(await exists(problemRoutingWorkflowId(B, '-101_1V2', 'OPEN'))).toBe(false);
    expect(await exists(remediationWorkflowId(B, 'HOST-00000000000000B1'))).toBe(false);
    expect(await exists(problemRoutingWorkflowId(B, '-103_1V2', 'OPEN'))).toBe(false);
  });

  it('an environment that is not in the registry, with the key derived for it: 404, and no workflow starts', async () => {
    const ghostKey = deriveWebhookKey(M1, GHOST);
    const lookup = await lookupNotification(GHOST, ghostKey, '-201_1V2');
    expect(lookup.status).toBe(404);
    expect(await lookup.json()).toEqual({
      error: 'unknown-environment',
      message: 'the environment in the path is not registered with Autopilot',
    });
    expect((await hostNotification(GHOST, ghostKey, '-202_1V2', 'HOST-00000000000000C1')).status).toBe(404);
    // Without its key the same path is a 401: a caller without keys learns nothing about the registry.
    expect((await lookupNotification(GHOST, webhookOf(A).key, '-203_1V2')).status).toBe(401);
    expect(await exists(problemRoutingWorkflowId(GHOST, '-201_1V2', 'OPEN'))).toBe(false);
    expect(await exists(remediationWorkflowId(GHOST, 'HOST-00000000000000C1'))).toBe(false);
  });

  it("the simulator's own notification, with A's key, reaches A's host remediation", async () => {
    const { entityId, status } = await raise(A, 'wka-vm-1');
    expect(status).toBe(202);
    const handle = tb.env.client.workflow.getHandle(remediationWorkflowId(A, entityId));
    expect((await handle.describe()).type).toBe(REMEDIATE_CPU_SATURATION);
    // It read the problem from the environment and found no EC2 instance behind the host: a real
    // end of the loop, without AWS.
    const result = (await handle.result()) as RemediationResult;
    expect(result).toMatchObject({ environmentId: A, outcome: 'not-remediable' });
  });

  it('rotation: the old keys work during the overlap, the standard rewrites each webhook, then the old keys are refused', async () => {
    // 1. The old master becomes a previous key first, then the new master replaces it (no restart).
    writeFileSync(previousFile, `${M1}\n`);
    writeFileSync(masterFile, `${M2}\n`);

    // 2. Notifications still carry keys of the old master: accepted during the overlap.
    expect((await raise(A, 'wka-vm-2')).status).toBe(202);
    expect((await raise(B, 'wkb-vm-1')).status).toBe(202);
    expect(await (await fetch(`${url}/metrics`)).text()).toMatch(
      /autopilot_webhook_authenticated_total\{key="previous"\} [1-9]/,
    );

    // 3. Drift sees it: the fingerprint header differs in both environments' webhooks.
    const drift = await runStandardsPlan(tb.env.client, {
      set: SELF_HEALING_SET,
      selector: '*',
      taskQueue: tb.taskQueue,
    });
    expect(drift.summary.changedEnvironments.sort()).toEqual([A, B]);
    expect(drift.summary.counts).toMatchObject({ update: 2, create: 0, delete: 0 });

    // 4. Re-onboarding rewrites A; the built-in self-healing standard rewrites B.
    const again = await startOnboarding(tb.env.client, { customer: 'wka', stage: 'p1' }, { taskQueue: tb.taskQueue });
    expect((await again.result()).notifications.status).toBe('updated');
    const applied = await startStandardsApply(tb.env.client, {
      set: SELF_HEALING_SET,
      selector: '*',
      purpose: 'drift',
      taskQueue: tb.taskQueue,
    });
    expect((await applied.result()).writes).toEqual({ created: 0, updated: 1, deleted: 0 });
    for (const id of [A, B]) {
      const now = webhookOf(id);
      expect(now.key, id).toBe(deriveWebhookKey(M2, id));
      expect(now.keyId, id).toBe(webhookKeyId(deriveWebhookKey(M2, id)));
      expect(now.keyId, id).not.toBe(webhookKeyId(previousKeyOf[id]!));
    }
    const settled = await runStandardsPlan(tb.env.client, {
      set: SELF_HEALING_SET,
      selector: '*',
      taskQueue: tb.taskQueue,
    });
    expect(settled.summary.changedEnvironments).toEqual([]);
    expect(settled.summary.counts.update).toBe(0);

    // 5. The simulator now sends the new keys.
    expect((await raise(A, 'wka-vm-3')).status).toBe(202);
    expect((await raise(B, 'wkb-vm-2')).status).toBe(202);

    // 6. The old master is removed: keys derived from it are refused, and nothing starts.
    writeFileSync(previousFile, '# rotation finished\n');
    const stale = await lookupNotification(A, previousKeyOf[A]!, '-301_1V2');
    expect(stale.status).toBe(401);
    expect(await exists(problemRoutingWorkflowId(A, '-301_1V2', 'OPEN'))).toBe(false);
    const staleHost = await hostNotification(B, previousKeyOf[B]!, '-302_1V2', 'HOST-00000000000000B2');
    expect(staleHost.status).toBe(401);
    expect(await exists(remediationWorkflowId(B, 'HOST-00000000000000B2'))).toBe(false);
    // The current keys keep working.
    expect((await lookupNotification(A, deriveWebhookKey(M2, A), '-303_1V2')).status).toBe(202);
    await tb.env.client.workflow
      .getHandle(problemRoutingWorkflowId(A, '-303_1V2', 'OPEN'))
      .result()
      .catch(() => undefined);
  });

  it('shared mode: one key opens every registered environment, and an unregistered one is still refused', async () => {
    const shared = createWebhookServer({
      client: tb.env.client,
      taskQueue: uniqueTaskQueue('webhook-shared'),
      keys: new WebhookKeys({ master: secret(M1), mode: 'shared' }),
      environments: tb.registry,
      policy: remediationPolicySchema.parse({}),
      maxBodyBytes: 64 * 1024,
      logger: createJsonLogger('ERROR', () => undefined),
    });
    await shared.app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(shared.app.server.address() as { port: number }).port}`;
    const send = (environmentId: string, key: string, pid: string) =>
      fetch(`${base}/webhooks/dynatrace/${environmentId}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', [DEFAULT_WEBHOOK_KEY_HEADER]: key },
        body: JSON.stringify({ State: 'OPEN', PID: pid, ProblemTitle: 'CPU saturation' }),
      });
    try {
      for (const id of [A, B]) {
        const accepted = await send(id, M1, '-401_1V2');
        expect(accepted.status, id).toBe(202);
        await tb.env.client.workflow.getHandle(problemRoutingWorkflowId(id, '-401_1V2', 'OPEN')).terminate('test done');
      }
      expect((await send(GHOST, M1, '-402_1V2')).status).toBe(404);
      expect(await exists(problemRoutingWorkflowId(GHOST, '-402_1V2', 'OPEN'))).toBe(false);
      // A derived key is not the shared key.
      expect((await send(A, deriveWebhookKey(M1, A), '-403_1V2')).status).toBe(401);
    } finally {
      await shared.app.close();
    }
  });
});
