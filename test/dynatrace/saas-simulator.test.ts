import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynatraceClient, DynatraceFailureType, type EnvironmentApi } from '../../src/dynatrace/index.js';
import { collect } from '../../src/dynatrace/pagination.js';
import { startCaptureServer } from '../helpers/capture-server.js';
import {
  failureOf,
  startTestCluster,
  startTestSaasEnvironment,
  type TestSaasEnvironment,
} from '../helpers/simulator.js';
import { until } from '../helpers/until.js';

const run = promisify(execFile);

describe('SaaS-shaped simulator: one environment at the root of its host, typed client with layout saas', () => {
  let dt: TestSaasEnvironment;
  let env: EnvironmentApi;
  let token: string;
  let hostId: string;

  beforeAll(async () => {
    dt = await startTestSaasEnvironment({ environmentId: 'abc12345' });
    token = await dt.token();
    env = dt.client.environment('abc12345', token);
    hostId = (
      await dt.control<{ entityId: string }>('/environments/abc12345/hosts', {
        hostName: 'saas-web-1',
        hostGroup: 'web',
        tags: [{ context: 'CONTEXTLESS', key: 'tier', value: 'web' }],
      })
    ).entityId;
  });
  afterAll(async () => {
    await dt?.stop();
  });

  // fetch resolves no `<id>.localhost` name: it goes to the address the simulator listens on.
  const raw = (path: string, init: RequestInit = {}, apiToken = token) =>
    fetch(`${dt.simulator.url}${path}`, {
      ...init,
      headers: { Authorization: `Api-Token ${apiToken}`, ...init.headers },
    });

  it('is reached at its own host, <id>.localhost, as a SaaS environment at <id>.live.dynatrace.com', () => {
    expect(dt.url).toMatch(/^http:\/\/abc12345\.localhost:\d+$/);
    expect(dt.client.http.options.baseUrl).toBe(dt.url);
  });

  it('serves entities at /api/v2/entities, counted under the environment route', async () => {
    await dt.control('/stats/reset', {});
    const hosts = await collect(env.entities.list({ entitySelector: 'type("HOST"),tag("tier:web")' }));
    expect(hosts.map((h) => h.entityId)).toEqual([hostId]);
    expect(await env.entities.get(hostId)).toMatchObject({ entityId: hostId, displayName: 'saas-web-1' });

    const stats = await dt.stats();
    expect(stats.requests['GET /e/{environmentId}/api/v2/entities']?.[200]).toBe(1);
    expect(stats.requests['GET /e/{environmentId}/api/v2/entities/{entityId}']?.[200]).toBe(1);
    expect(stats.requests.unmatched).toBeUndefined();
  });

  it('reads a problem and comments on it at /api/v2/problems', async () => {
    const raised = await dt.control<{ problemId: string }>('/problems', {
      environmentId: 'abc12345',
      hostName: 'saas-web-1',
    });
    const problem = await env.problems.get(raised.problemId, ['evidenceDetails']);
    expect(problem).toMatchObject({
      problemId: raised.problemId,
      status: 'OPEN',
      severityLevel: 'RESOURCE_CONTENTION',
    });
    expect(problem.evidenceDetails?.details[0]?.entity?.entityId.id).toBe(hostId);
    const open = await collect(env.problems.list({ problemSelector: 'status("open")' }));
    expect(open.map((p) => p.problemId)).toContain(raised.problemId);

    await env.problems.addComment(raised.problemId, { message: 'Autopilot is on it', context: 'autopilot:saas' });
    const comments = await collect(env.problems.comments(raised.problemId));
    expect(comments).toEqual([expect.objectContaining({ content: 'Autopilot is on it', context: 'autopilot:saas' })]);
  });

  it('creates and finds settings objects at /api/v2/settings/objects', async () => {
    const [profileId] = await env.settings.create([
      {
        schemaId: 'builtin:alerting.profile',
        scope: 'environment',
        externalId: 'autopilot:abc12345:cpu',
        value: {
          name: 'abc12345 CPU saturation (immediate)',
          severityRules: [{ severityLevel: 'RESOURCE_CONTENTION', delayInMinutes: 0, tagFilterIncludeMode: 'NONE' }],
          eventFilters: [{ type: 'PREDEFINED', predefinedFilter: { eventType: 'OSI_HIGH_CPU', negate: false } }],
        },
      },
    ]);
    const found = await collect(env.settings.list({ externalIds: ['autopilot:abc12345:cpu'] }));
    expect(found).toEqual([expect.objectContaining({ objectId: profileId, externalId: 'autopilot:abc12345:cpu' })]);
    // The environment was made at start like a cluster's, so it has its Default profile too.
    const profiles = await collect(env.settings.list({ schemaIds: ['builtin:alerting.profile'] }));
    expect(profiles.map((p) => p.value.name).sort()).toEqual(['Default', 'abc12345 CPU saturation (immediate)']);
  });

  it('looks up API tokens at /api/v2/apiTokens/lookup and enforces their scopes', async () => {
    const narrow = await dt.token(['InstallerDownload']);
    const looked = await dt.client.environment('abc12345', dt.tokenManagementToken).tokens.lookup(narrow);
    expect(looked).toMatchObject({ name: 'test-automation', scopes: ['InstallerDownload'], enabled: true });

    const denied = await failureOf(() => dt.client.environment('abc12345', narrow).problems.get('-1_1V2'));
    expect(denied).toMatchObject({ status: 403, type: DynatraceFailureType.forbidden });
    expect(denied.message).toContain('problems.read');
  });

  it('has no /e/{id} prefix and no cluster API (404), while /_sim keeps working', async () => {
    expect((await raw('/e/abc12345/api/v2/problems')).status).toBe(404);
    expect((await raw('/api/cluster/v2/environments')).status).toBe(404);
    expect((await raw('/api/v1.0/onpremise/environments')).status).toBe(404);
    expect((await raw('/api/v2/problems')).status).toBe(200);
    expect((await dt.stats()).totals.environments).toBe(1);
  });

  it('refuses a token of another simulator with 401, even for the same environment id', async () => {
    const other = await startTestSaasEnvironment({ environmentId: 'abc12345' });
    try {
      const foreign = await other.token();
      const refused = await failureOf(() => collect(dt.client.environment('abc12345', foreign).problems.list()));
      expect(refused).toMatchObject({ status: 401, type: DynatraceFailureType.unauthorized });
      expect(refused.message).not.toContain(foreign);
    } finally {
      await other.stop();
    }
  });

  it('throttles the environment with 429 once its capacity and queue are full', async () => {
    await dt.control('/knobs', { latencyMs: 200, throttle: { maxConcurrent: 1, queueSize: 0 } });
    try {
      const statuses = await Promise.all([1, 2, 3].map(() => raw('/api/v2/problems').then((r) => r.status)));
      expect(statuses.filter((s) => s === 200)).toHaveLength(1);
      expect(statuses.filter((s) => s === 429)).toHaveLength(2);
    } finally {
      await dt.control('/knobs', { latencyMs: 0, throttle: { maxConcurrent: 20, queueSize: 100 } });
    }
  });
});

describe('the simulator over TLS, as production-mode processes reach it', () => {
  it('serves a SaaS environment over https at <id>.localhost with a certificate made at start', async () => {
    const saas = await startTestSaasEnvironment({ environmentId: 'tls12345', tls: true });
    try {
      expect(saas.url).toMatch(/^https:\/\/tls12345\.localhost:\d+$/);
      expect(saas.simulator.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const pem = readFileSync(saas.simulator.caFile!, 'utf8');
      expect(pem).toMatch(/^-----BEGIN CERTIFICATE-----/);
      const { stdout } = await run('openssl', [
        'x509',
        '-in',
        saas.simulator.caFile!,
        '-noout',
        '-ext',
        'subjectAltName',
      ]);
      expect(stdout).toMatch(/IP Address:127\.0\.0\.1, DNS:localhost, DNS:tls12345\.localhost/);

      const token = await saas.token(['apiTokens.read', 'problems.read']);
      expect(await saas.client.environment('tls12345', token).tokens.lookup(token)).toMatchObject({ enabled: true });
      // A client that does not trust the certificate sends nothing it could read.
      const untrusting = new DynatraceClient({
        baseUrl: saas.url,
        layout: 'saas',
        maxConcurrentPerEnvironment: 1,
        requestTimeoutMs: 5_000,
      });
      const refused = await failureOf(() => collect(untrusting.environment('tls12345', token).problems.list()));
      expect(refused).toMatchObject({ type: DynatraceFailureType.unavailable });
      expect(refused.message).toMatch(/self-signed certificate/);
      expect(refused.message).not.toContain(token);
    } finally {
      await saas.stop();
    }
    // The certificate was made for this start and goes with it.
    expect(() => readFileSync(saas.simulator.caFile!)).toThrow(/ENOENT/);
  });

  it('a Managed cluster over https still notifies webhooks and serves installers that connect back over https', async () => {
    const dt = await startTestCluster({ tls: true });
    const receiver = await startCaptureServer();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-tls-installer-'));
    try {
      expect(dt.simulator.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const { tokenManagementToken } = await dt.environment('tls-p1');
      const download = await dt.client
        .environment('tls-p1', tokenManagementToken)
        .tokens.create({ name: 'installer', scopes: ['InstallerDownload'] });
      const installer = dt.client.environment('tls-p1', download.token);
      const latest = await installer.deployment.latestVersion();
      const file = path.join(dir, 'installer.sh');
      expect(await installer.deployment.download({ version: latest, destination: file })).toMatchObject({
        status: 'downloaded',
      });
      const { stdout } = await run('sh', [
        file,
        `INSTALL_PATH=${path.join(dir, 'oneagent')}`,
        '--set-host-name=tls-vm',
      ]);
      expect(stdout).toContain('is installed and connected as tls-vm');
      expect((await dt.stats()).hostsConnected).toBe(1);

      await dt.control('/problems', {
        environmentId: 'tls-p1',
        hostName: 'tls-vm',
        notify: { url: `${receiver.url}/webhooks/dynatrace/tls-p1` },
      });
      await until('a problem notification from the https simulator', async () => receiver.requests[0]);
      expect(receiver.requests[0]).toMatchObject({ method: 'POST', url: '/webhooks/dynatrace/tls-p1' });
    } finally {
      await receiver.close();
      await dt.stop();
    }
  });
});
