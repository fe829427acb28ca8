import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynatraceClient } from '../../src/dynatrace/index.js';
import { collect } from '../../src/dynatrace/pagination.js';
import { startDynatraceSimulator } from '../../sandbox/dynatrace/index.js';
import { startTestCluster, type TestCluster } from '../helpers/simulator.js';

interface Received {
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
  at: number;
}

/** A stand-in for our webhook receiver that records what Dynatrace would deliver. */
async function startReceiver(): Promise<{ url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(body) as Record<string, unknown>, at: Date.now() });
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/dynatrace/abc-p1`,
    received,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

const waitFor = async (predicate: () => boolean, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('simulator: problem notifications like a custom-integration webhook', () => {
  let dt: TestCluster;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let token: string;
  let defaultProfileId: string;

  beforeAll(async () => {
    dt = await startTestCluster({ knobs: { alertingMinuteMs: 40 } });
    receiver = await startReceiver();
    ({ token } = await dt.environment('abc-p1'));
    await dt.control('/environments/abc-p1/hosts', {
      hostName: 'vm-1',
      tags: [{ context: 'AWS', key: 'Name', value: 'web-1' }],
    });
    const env = dt.client.environment('abc-p1', token);
    for await (const p of env.settings.list({ schemaIds: ['builtin:alerting.profile'] })) defaultProfileId = p.objectId;
  });
  afterAll(async () => {
    await dt.stop();
    await receiver.close();
  });

  async function configureWebhook(profileId: string, externalId: string) {
    await dt.client.environment('abc-p1', token).settings.create([
      {
        schemaId: 'builtin:problem.notifications',
        scope: 'environment',
        externalId,
        value: {
          enabled: true,
          type: 'WEBHOOK',
          displayName: externalId,
          alertingProfile: profileId,
          webHookNotification: {
            url: receiver.url,
            headers: [{ name: 'X-Autopilot-Key', secret: true, secretValue: 'k3y' }],
            payload:
              '{"State":"{State}","PID":"{PID}","ProblemID":"{ProblemID}","ProblemTitle":"{ProblemTitle}",' +
              '"Tags":"{Tags}","ImpactedEntities":{ImpactedEntities},"ProblemDetailsJSON":{ProblemDetailsJSON}}',
          },
        },
      },
    ]);
  }

  it('holds CPU saturation back for the Default profile delay (30 "minutes") and drops it if resolved before', async () => {
    await configureWebhook(defaultProfileId, 'default-profile-hook');
    const early = await dt.control<{ problemId: string }>('/problems', { environmentId: 'abc-p1', hostName: 'vm-1' });
    await dt.control(`/problems/${encodeURIComponent(early.problemId)}/resolve`, {});
    // Taken before the request: the simulator's delay starts when it opens the problem, before its answer arrives.
    const opened = Date.now();
    const late = await dt.control<{ problemId: string }>('/problems', { environmentId: 'abc-p1', hostName: 'vm-1' });
    await waitFor(() => receiver.received.some((r) => r.body.PID === late.problemId), 5000);
    const delivery = receiver.received.find((r) => r.body.PID === late.problemId)!;
    expect(delivery.at - opened).toBeGreaterThanOrEqual(30 * 40 - 50);
    expect(receiver.received.some((r) => r.body.PID === early.problemId)).toBe(false);
    await dt.control(`/problems/${encodeURIComponent(late.problemId)}/resolve`, {});
    await waitFor(
      () => receiver.received.some((r) => r.body.PID === late.problemId && r.body.State === 'RESOLVED'),
      2000,
    );
  });

  it('delivers immediately through a dedicated zero-delay profile: rendered payload, secret header, RESOLVED later', async () => {
    receiver.received.length = 0;
    const [profileId] = await dt.client.environment('abc-p1', token).settings.create([
      {
        schemaId: 'builtin:alerting.profile',
        scope: 'environment',
        value: {
          name: 'cpu now',
          severityRules: [{ severityLevel: 'RESOURCE_CONTENTION', delayInMinutes: 0, tagFilterIncludeMode: 'NONE' }],
          eventFilters: [{ type: 'PREDEFINED', predefinedFilter: { eventType: 'OSI_HIGH_CPU', negate: false } }],
        },
      },
    ]);
    await configureWebhook(profileId!, 'immediate-hook');
    const memory = await dt.control<{ problemId: string }>('/problems', {
      environmentId: 'abc-p1',
      hostName: 'vm-1',
      kind: 'MEMORY_SATURATION',
    });
    const cpu = await dt.control<{ problemId: string; displayId: string; entityId: string }>('/problems', {
      environmentId: 'abc-p1',
      hostName: 'vm-1',
    });
    await waitFor(() => receiver.received.some((r) => r.body.PID === cpu.problemId), 1000);
    const open = receiver.received.find((r) => r.body.PID === cpu.problemId && r.headers['x-autopilot-key'] === 'k3y')!;
    expect(open.headers['content-type']).toBe('application/json');
    expect(open.body).toMatchObject({
      State: 'OPEN',
      ProblemID: cpu.displayId,
      ProblemTitle: 'CPU saturation',
      Tags: '[AWS]Name:web-1',
      ImpactedEntities: [{ type: 'HOST', name: 'vm-1', entity: cpu.entityId }],
      ProblemDetailsJSON: {
        id: cpu.problemId,
        status: 'OPEN',
        rankedEvents: [expect.objectContaining({ eventType: 'CPU_SATURATED' })],
      },
    });
    // The immediate profile filters on OSI_HIGH_CPU: the memory problem never went through its hook.
    const [immediateHook] = await collect(
      dt.client.environment('abc-p1', token).settings.list({ externalIds: ['immediate-hook'] }),
    );
    const viaImmediate = (await dt.stats()).deliveries.filter((d) => d.via === immediateHook!.objectId);
    expect(viaImmediate.map((d) => d.problemId)).toContain(cpu.problemId);
    expect(viaImmediate.map((d) => d.problemId)).not.toContain(memory.problemId);

    await dt.control(`/problems/${encodeURIComponent(cpu.problemId)}/resolve`, {});
    await waitFor(
      () => receiver.received.some((r) => r.body.PID === cpu.problemId && r.body.State === 'RESOLVED'),
      1000,
    );
    const resolved = receiver.received.find((r) => r.body.PID === cpu.problemId && r.body.State === 'RESOLVED')!;
    expect(resolved.body.ProblemDetailsJSON).toMatchObject({ status: 'CLOSED' });
    const stats = await dt.stats();
    expect(stats.deliveries.filter((d) => d.problemId === cpu.problemId).map((d) => d.state)).toEqual(
      expect.arrayContaining(['OPEN', 'RESOLVED']),
    );
  });

  it('sends the "test notification" payload with the dummy ids to the configured webhooks', async () => {
    receiver.received.length = 0;
    const result = await dt.control<{ results: { status: number }[] }>('/environments/abc-p1/test-notification', {});
    expect(result.results.every((r) => r.status === 202)).toBe(true);
    expect(receiver.received[0]?.body).toMatchObject({
      State: 'OPEN',
      PID: '99999',
      ProblemID: '999',
      ProblemTitle: 'Dynatrace problem notification test run',
      ProblemDetailsJSON: { id: '99999' },
    });
  });
});

describe('simulator: state file', () => {
  it('keeps environments, tokens and hosts across a restart', async () => {
    const stateFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'dt-sim-state-')), 'state.json');
    const first = await startDynatraceSimulator({
      stateFile,
      clusterTokens: [{ name: 'admin', scopes: ['ServiceProviderAPI'] }],
    });
    const client = new DynatraceClient({ baseUrl: first.url, maxConcurrentPerEnvironment: 2, requestTimeoutMs: 5000 });
    const created = await client
      .cluster(first.clusterTokens.admin!)
      .putEnvironment('keep-me', { name: 'Persistent' }, { createToken: true });
    const adminToken = first.clusterTokens.admin!;
    await first.stop();

    const second = await startDynatraceSimulator({
      stateFile,
      clusterTokens: [{ name: 'admin', scopes: ['ServiceProviderAPI'] }],
    });
    try {
      expect(second.clusterTokens.admin).toBe(adminToken);
      const again = new DynatraceClient({
        baseUrl: second.url,
        maxConcurrentPerEnvironment: 2,
        requestTimeoutMs: 5000,
      });
      expect(await again.cluster(adminToken).getEnvironment('keep-me')).toMatchObject({ name: 'Persistent' });
      const tmt = created.created ? created.tokenManagementToken! : '';
      await again.environment('keep-me', tmt).tokens.create({ name: 'still-works', scopes: ['DataExport'] });
    } finally {
      await second.stop();
    }
  });
});
