import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgresServer, type PostgresServer } from '../../sandbox/postgres-server.js';
import { projectRoot } from '../../src/config/config.js';
import { mapWithConcurrency } from '../../src/concurrency/map-with-concurrency.js';
import {
  STANDARDS_APPLY,
  STANDARDS_PLAN,
  type DriftRecord,
  type PlannedObject,
  type StandardsApplyResult,
} from '../../src/shared/standards.js';
import { standardExternalId } from '../../src/standards/desired-objects.js';
import { autopilotCli, spawnEntryPoint, type SpawnedProcess } from '../helpers/processes.js';
import { workerProcessEnv } from '../helpers/worker-process.js';
import { startTestCluster, type TestCluster } from '../helpers/simulator.js';
import { historyText, testDataConverter, uniqueTaskQueue } from '../helpers/temporal.js';

const CUSTOMERS = Array.from({ length: 40 }, (_, i) => `c${String(i).padStart(2, '0')}`);
const STAGES = ['p1', 'p2', 't1', 't2', 'd1'];
const FLEET = CUSTOMERS.flatMap((c) => STAGES.map((s) => `${c}-${s}`));
const PRODUCTION = FLEET.filter((id) => /-p\d$/.test(id));
const DRIFT_INTERVAL_SECONDS = 10;

/** Five standards: one object everywhere, one for production only, one with an override, a profile, a group. */
const STANDARDS: Record<string, string> = {
  'zone.yaml': `name: zone
kind: settings
schemaId: builtin:management-zones
value:
  name: 'Customer {{ environment.customer }}'
  description: 'Standard zone of {{ environment.id }}'
  rules:
    - type: SELECTOR
      entitySelector: 'type(HOST),tag("customer:{{ environment.customer }}")'
    - type: ME
      attributeRule:
        entityType: SERVICE
        conditions:
          - { key: HOST_TAGS, operator: EQUALS, stringValue: 'customer:{{ environment.customer }}' }
`,
  'production/tag.yaml': `name: prod-tag
kind: settings
mode: report
environments: '*-p*'
schemaId: builtin:tags.auto-tagging
value:
  name: production
  rules:
    - { type: SELECTOR, entitySelector: type(HOST), valueFormat: '{{ environment.stage }}' }
`,
  'owner.yaml': `name: owner-tag
kind: settings
schemaId: builtin:tags.auto-tagging
value:
  name: owner
  rules:
    - { type: SELECTOR, entitySelector: type(HOST), valueFormat: 'platform-team' }
overrides:
  - environments: 'customer:c07'
    value:
      rules:
        - { type: SELECTOR, entitySelector: type(HOST), valueFormat: 'c07-own-ops', valueNormalization: To upper case }
`,
  'paging.yaml': `name: paging
kind: settings
schemaId: builtin:alerting.profile
value:
  name: Paging
  managementZone: null
  severityRules:
    - { severityLevel: AVAILABILITY, delayInMinutes: 0, tagFilterIncludeMode: NONE }
    - { severityLevel: ERRORS, delayInMinutes: 5, tagFilterIncludeMode: NONE }
  eventFilters: []
`,
  'operators.yaml': `name: operators
kind: user-group
group:
  name: '{{ environment.customer }}-operators'
  permissions: [VIEWER, MANAGE_SETTINGS]
  ldapGroupNames: ['cn={{ environment.customer }}-operators']
`,
};
/** Settings objects the standards want: three everywhere, the production tag in production stages. */
const EXPECTED_OBJECTS = FLEET.length * 3 + PRODUCTION.length;

/**
 * Standards as code against 200 simulated environments, with the production topology: a worker
 * process (SIGKILLed once mid-apply), the CLI, PostgreSQL, and the drift schedule.
 */
describe('standards: plan, apply and drift across 200 environments', () => {
  let dt: TestCluster;
  let postgres: PostgresServer;
  let worker: SpawnedProcess | undefined;
  let env: Record<string, string | undefined>;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-standards-'));
  const standards = path.join(dir, 'standards');

  const autopilot = autopilotCli(() => env);
  const jsonLines = <T>(stdout: string) =>
    stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as T);
  const startWorker = async () => {
    worker = spawnEntryPoint('src/workers/main.ts', env);
    await worker.waitForOutput(/"msg":"Worker started"/, 60_000);
  };
  const settingsOf = (environmentId: string) => [
    ...dt.simulator.state.environments.get(environmentId)!.settings.values(),
  ];
  const ours = (environmentId: string) =>
    settingsOf(environmentId).filter((o) => o.externalId?.startsWith('autopilot:standard:'));
  const automationToken = (environmentId: string) =>
    [...dt.simulator.state.environments.get(environmentId)!.tokens.values()].find(
      (t) => t.kind === 'api' && t.name === 'dynatrace-autopilot-automation' && t.enabled,
    )!.token;
  /** A change made in the cluster behind Autopilot's back, through the settings API. */
  const changeBehindOurBack = async (environmentId: string, standard: string, patch: Record<string, unknown>) => {
    const object = ours(environmentId).find((o) => o.externalId === standardExternalId(standard, 'environment'))!;
    await dt.client
      .environment(environmentId, automationToken(environmentId))
      .settings.update(object.objectId, { ...object.value, ...patch });
    return object.objectId;
  };
  const valueOf = (environmentId: string, objectId: string) =>
    dt.simulator.state.environments.get(environmentId)!.settings.get(objectId)!.value;

  beforeAll(async () => {
    dt = await startTestCluster({ knobs: { latencyMs: 2, latencyJitterMs: 2 }, tls: true });
    postgres = await startPostgresServer();
    const cluster = dt.client.cluster(dt.clusterToken);
    await mapWithConcurrency(FLEET, 8, (id) => cluster.putEnvironment(id, { name: `Standards ${id}` }));
    for (const [file, text] of Object.entries(STANDARDS)) {
      mkdirSync(path.dirname(path.join(standards, file)), { recursive: true });
      writeFileSync(path.join(standards, file), text);
    }
    env = await workerProcessEnv(
      { namespace: 'standards-fleet-test', taskQueue: uniqueTaskQueue('standards'), dt, dir },
      {
        AUTOPILOT_DATABASE_URL: await postgres.database('standards'),
        AUTOPILOT_STANDARDS_DIR: standards,
        AUTOPILOT_STANDARDS_DRIFT_INTERVAL_SECONDS: String(DRIFT_INTERVAL_SECONDS),
        // Nothing here reads problems: the scan would only add calls to the counts.
        AUTOPILOT_FLEET_SCAN_INTERVAL_SECONDS: '3600',
      },
    );
    await startWorker();
    const adopted = await autopilot('environments', 'adopt', '*');
    expect(adopted.code, adopted.stdout + adopted.stderr).toBe(0);
  }, 240_000);

  afterAll(async () => {
    worker?.child.kill('SIGKILL');
    await worker?.exit;
    await dt?.stop();
    await postgres?.stop();
  });

  it(
    'plans every object; an apply survives a worker SIGKILL writing each object once; the next plan is empty',
    { timeout: 240_000 },
    async () => {
      const reads = () =>
        dt.stats().then((s) => s.requests['GET /e/{environmentId}/api/v2/settings/objects']?.[200] ?? 0);
      const readsBefore = await reads();
      const planned = await autopilot('standards', 'plan', '--json');
      expect(planned.code, planned.stderr).toBe(5);
      const lines = jsonLines<PlannedObject & { done?: true; counts: Record<string, number> }>(planned.stdout);
      const summary = lines.at(-1)!;
      expect(summary.counts).toMatchObject({
        environments: 200,
        create: EXPECTED_OBJECTS + FLEET.length,
        update: 0,
        delete: 0,
        unchanged: 0,
        refused: 0,
        unreadable: 0,
      });
      // At most one settings listing per environment (one page each here).
      expect((await reads()) - readsBefore).toBe(FLEET.length);
      const c07 = lines.find((l) => l.environmentId === 'c07-t1' && l.standard === 'owner-tag')!;
      expect(JSON.stringify(c07.differences)).toContain('c07-own-ops');
      expect(lines.filter((l) => l.standard === 'prod-tag').map((l) => l.environmentId)).toEqual(PRODUCTION);

      // Slow enough to be caught while it writes: 200 environments, 25 at a time, three calls each.
      await dt.control('/knobs', { latencyMs: 150, latencyJitterMs: 50 });
      const before = await dt.stats();
      const started = await autopilot('standards', 'apply', '--concurrency', '25', '--json');
      expect(started.code, started.stderr).toBe(0);
      const { workflowId, runId } = JSON.parse(started.stdout) as { workflowId: string; runId: string };
      expect(workflowId).toMatch(/^standards:[0-9a-f]{16}$/);
      // The same standards again, while they are being applied, attach to the run that applies them.
      const attached = JSON.parse((await autopilot('standards', 'apply', '--json')).stdout) as typeof started;
      expect(attached).toMatchObject({ workflowId, runId });
      // Killed while it writes: some environments done, most not.
      for (;;) {
        const created = (await dt.stats()).created.settingsObjects ?? 0;
        if (created - (before.created.settingsObjects ?? 0) >= 120) break;
        await sleep(50);
      }
      worker!.child.kill('SIGKILL');
      await worker!.exit;
      await startWorker();
      let status: { status: string; result?: StandardsApplyResult } | undefined;
      for (let i = 0; i < 240 && status?.status !== 'COMPLETED'; i++) {
        await sleep(500);
        status = JSON.parse((await autopilot('status', workflowId, '--json')).stdout) as typeof status;
      }
      await dt.control('/knobs', { latencyMs: 2, latencyJitterMs: 2 });
      const result = status!.result!;
      expect(result).toMatchObject({ workflowId, phase: 'Completed', environments: 200, skipped: 0, attention: [] });
      expect(result.applied + result.unchanged).toBe(200);

      const after = await dt.stats();
      const delta = (kind: string) => (after.created[kind] ?? 0) - (before.created[kind] ?? 0);
      expect(delta('settingsObjects')).toBe(EXPECTED_OBJECTS);
      expect(delta('settingsUpdates')).toBe(0);
      expect(delta('groups')).toBe(CUSTOMERS.length);
      for (const id of FLEET) {
        const objects = ours(id);
        expect(objects).toHaveLength(PRODUCTION.includes(id) ? 4 : 3);
        expect(new Set(objects.map((o) => o.externalId)).size).toBe(objects.length);
      }
      const group = [...dt.simulator.state.groups.values()].find((g) => g.name === 'c07-operators')!;
      expect(group.accessRight.MANAGE_SETTINGS?.sort()).toEqual(STAGES.map((s) => `c07-${s}`).sort());

      const again = await autopilot('standards', 'plan');
      expect(again.code, again.stdout + again.stderr).toBe(0);
      expect(again.stdout).toContain('Nothing to do: every environment holds to the standards.');
      expect(again.stdout).toContain(`${EXPECTED_OBJECTS + FLEET.length} unchanged`);
    },
  );

  it(
    'the drift schedule finds changes made behind its back within one interval: enforce re-applied, report recorded',
    { timeout: 120_000 },
    async () => {
      const changedAt = Date.now();
      const zone = await changeBehindOurBack('c01-p1', 'zone', { description: 'edited in the console' });
      const paging = await changeBehindOurBack('c02-t1', 'paging', {
        severityRules: [{ severityLevel: 'AVAILABILITY', delayInMinutes: 30, tagFilterIncludeMode: 'NONE' }],
      });
      const tag = await changeBehindOurBack('c03-p2', 'prod-tag', { name: 'prod' });

      let records: DriftRecord[] = [];
      const deadline = Date.now() + 90_000;
      while (Date.now() < deadline) {
        const listed = await autopilot('standards', 'drift', '--resolved', '--json');
        expect(listed.code, listed.stderr).toBe(0);
        records = jsonLines<DriftRecord>(listed.stdout);
        if (records.length >= 3 && records.filter((r) => r.resolvedAt).length >= 2) break;
        await sleep(1000);
      }
      const byEnvironment = Object.fromEntries(records.map((r) => [r.environmentId, r]));
      expect(Object.keys(byEnvironment).sort()).toEqual(['c01-p1', 'c02-t1', 'c03-p2']);
      expect(byEnvironment['c01-p1']).toMatchObject({
        standard: 'zone',
        field: 'description',
        old: 'edited in the console',
        new: 'Standard zone of c01-p1',
        action: 'reapplied',
      });
      expect(byEnvironment['c02-t1']).toMatchObject({
        standard: 'paging',
        field: 'severityRules',
        action: 'reapplied',
      });
      expect(byEnvironment['c03-p2']).toMatchObject({
        standard: 'prod-tag',
        field: 'name',
        old: 'prod',
        action: 'reported',
      });
      expect(byEnvironment['c03-p2']!.resolvedAt).toBeUndefined();
      // Found by the first check after the change: within one interval, and the check's own time.
      for (const r of records)
        expect(Date.parse(r.foundAt) - changedAt).toBeLessThan((DRIFT_INTERVAL_SECONDS + 15) * 1000);

      expect(valueOf('c01-p1', zone).description).toBe('Standard zone of c01-p1');
      expect(valueOf('c02-t1', paging).severityRules).toHaveLength(2);
      expect(valueOf('c03-p2', tag).name).toBe('prod');
      const open = jsonLines<DriftRecord>((await autopilot('standards', 'drift', '--json')).stdout);
      expect(open.map((r) => r.environmentId)).toEqual(['c03-p2']);
      const human = await autopilot('standards', 'drift', '--environments', 'c03-*');
      expect(human.stdout).toMatch(
        /c03-p2 {2}builtin:tags\.auto-tagging "prod" \(prod-tag\) {2}name: "production" expected, "prod" found {2}\[open \(report\)\]/,
      );
    },
  );

  it('an invalid standards file is one line naming file, line and field, and nothing is planned or applied', async () => {
    const bad = path.join(dir, 'bad');
    mkdirSync(bad);
    writeFileSync(path.join(bad, 'zone.yaml'), STANDARDS['zone.yaml']!);
    writeFileSync(
      path.join(bad, 'typo.yaml'),
      'name: typo\nkind: settings\nschemaId: builtin:alerting.profile\nvalue:\n  name: "{{ environment.stag }}"\n',
    );
    const runs = async () =>
      (
        await Promise.all(
          [STANDARDS_PLAN, STANDARDS_APPLY].map(
            async (type) =>
              (JSON.parse((await autopilot('runs', '--type', type, '--json')).stdout) as unknown[]).length,
          ),
        )
      ).reduce((a, b) => a + b);
    const writes = async () => {
      const created = (await dt.stats()).created;
      return (created.settingsObjects ?? 0) + (created.settingsUpdates ?? 0) + (created.settingsDeletes ?? 0);
    };
    const before = { runs: await runs(), writes: await writes() };
    for (const action of ['validate', 'plan', 'apply']) {
      const refused = await autopilot('standards', action, '--standards', bad);
      expect(refused.code, action).toBe(2);
      expect(refused.stderr).toContain(
        `${path.relative(projectRoot, path.join(bad, 'typo.yaml'))}:5: value.name unknown environment field "stag"`,
      );
    }
    // No plan or apply was started, and nothing was written (the drift schedule keeps reading meanwhile).
    expect({ runs: await runs(), writes: await writes() }).toEqual(before);
  });

  it(
    'an environment whose cluster refuses an object needs attention with the message; the others go on; skip ends the run',
    { timeout: 120_000 },
    async () => {
      const scoped = path.join(dir, 'scoped');
      mkdirSync(scoped);
      // A new zone description for every environment, and an object two of them cannot take.
      writeFileSync(path.join(scoped, 'zone.yaml'), STANDARDS['zone.yaml']!.replace('Standard zone', 'Zone v2'));
      writeFileSync(
        path.join(scoped, 'host-group.yaml'),
        "name: db-hosts\nkind: settings\nenvironments: 'c05-p1 c06-p1'\nschemaId: builtin:tags.auto-tagging\n" +
          'scope: HOST_GROUP-0123456789ABCDEF\nvalue:\n  name: databases\n',
      );
      const applied = await autopilot('standards', 'apply', '--standards', scoped, '--environments', 'c0*', '--wait');
      expect(applied.code, applied.stdout + applied.stderr).toBe(3);
      expect(applied.stdout).toMatch(
        /✗ c05-p1: builtin:tags\.auto-tagging .*Scope HOST_GROUP-0123456789ABCDEF is not valid/,
      );
      expect(applied.stdout).toContain('NeedsAttention: 48 environment(s) written, 0 already right, 0 skipped');
      const workflowId = /workflow (standards:\S+)/.exec(applied.stdout)![1]!;
      // The others went on: their zones (and those of the two waiting) say v2 already.
      for (const id of ['c00-p1', 'c05-p1', 'c09-d1']) {
        expect(ours(id).find((o) => o.schemaId === 'builtin:management-zones')!.value.description).toBe(
          `Zone v2 of ${id}`,
        );
      }
      const wrong = await autopilot('skip', workflowId, '--environment', 'c09-p1');
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toContain('c09-p1 is applied, not waiting for a decision');
      const skipped = await autopilot('skip', workflowId, '--environment', '*', '--reason', 'no such host group yet');
      expect(skipped.stdout.trim()).toBe(`${workflowId}: skip of c05-p1, c06-p1 accepted`);
      let status: { status: string; result?: StandardsApplyResult } | undefined;
      for (let i = 0; i < 60 && status?.status !== 'COMPLETED'; i++) {
        await sleep(500);
        status = JSON.parse((await autopilot('status', workflowId, '--json')).stdout) as typeof status;
      }
      expect(status?.result).toMatchObject({ phase: 'Completed', applied: 48, skipped: 2, attention: [] });
    },
  );
  /** A paging profile and a webhook to an outside tool whose Authorization header is the named secret. */
  const outsideWebhook = (secret: string) => `name: outside-paging
kind: settings
environments: 'c39-*'
schemaId: builtin:alerting.profile
value:
  name: Outside paging
  managementZone: null
  severityRules: [{ severityLevel: AVAILABILITY, delayInMinutes: 0, tagFilterIncludeMode: NONE }]
  eventFilters: []
---
name: outside-webhook
kind: settings
environments: 'c39-*'
schemaId: builtin:problem.notifications
value:
  enabled: true
  type: WEBHOOK
  displayName: Outside tool
  alertingProfile: '{{ ref "outside-paging" }}'
  webHookNotification:
    url: https://hooks.example.com/dynatrace
    headers:
      - name: Authorization
        secret: true
        secretValue: '{{ secret "${secret}" }}'
    payload: '{"problem":"{ProblemID}"}'
`;
  const folderNaming = (name: string, secret: string) => {
    const folder = path.join(dir, name);
    mkdirSync(folder, { recursive: true });
    writeFileSync(path.join(folder, 'outside.yaml'), outsideWebhook(secret));
    return folder;
  };
  const C39 = STAGES.map((s) => `c39-${s}`);
  const webhookOf = (environmentId: string) =>
    settingsOf(environmentId).find(
      (o) => o.schemaId === 'builtin:problem.notifications' && o.value.displayName === 'Outside tool',
    );

  it(
    'a standard naming an environment token or an SSH key is an error at its line: nothing is planned, applied or written',
    { timeout: 180_000 },
    async () => {
      const key = path.join(dir, 'ops-key');
      writeFileSync(
        key,
        '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA-ops\n-----END OPENSSH PRIVATE KEY-----\n',
      );
      const storedKey = await autopilot('secrets', 'set-ssh-key', 'ops', '--file', key);
      expect(storedKey.code, storedKey.stderr).toBe(0);
      const snapshot = () => JSON.stringify(C39.map((id) => settingsOf(id)));
      const runs = async () =>
        (
          await Promise.all(
            [STANDARDS_PLAN, STANDARDS_APPLY].map(
              async (type) =>
                (JSON.parse((await autopilot('runs', '--type', type, '--json')).stdout) as unknown[]).length,
            ),
          )
        ).reduce((a, b) => a + b);
      const before = { runs: await runs(), settings: snapshot() };
      for (const [name, secret] of [
        ['token', 'dynatrace/c39-p1/automation-token'],
        ['ssh', 'ssh/ops'],
      ] as const) {
        const folder = folderNaming(`foreign-${name}`, secret);
        for (const action of ['plan', 'apply']) {
          const refused = await autopilot('standards', action, '--standards', folder, '--environments', 'c39-*');
          expect(refused.code, action).toBe(2);
          expect(refused.stderr).toContain(
            `${path.relative(projectRoot, path.join(folder, 'outside.yaml'))}:25: ` +
              `value.webHookNotification.headers[0].secretValue {{ secret "${secret}" }} names no secret stored for standards`,
          );
        }
      }
      expect({ runs: await runs(), settings: snapshot() }).toEqual(before);
      expect(C39.map(webhookOf)).toEqual(C39.map(() => undefined));
    },
  );

  it(
    'a secret stored through the CLI under standards/ reaches the settings objects, and no plan, log or history holds it',
    { timeout: 180_000 },
    async () => {
      const password = 'correct-horse-battery-staple';
      const file = path.join(dir, 'webhook-password.txt');
      writeFileSync(file, `${password}\n`);
      const stored = await autopilot('secrets', 'set', 'standards/webhook-password', '--file', file);
      expect(stored.code, stored.stderr).toBe(0);
      const folder = folderNaming('outside', 'standards/webhook-password');
      const planned = await autopilot('standards', 'plan', '--standards', folder, '--environments', 'c39-*', '--json');
      expect(planned.code, planned.stderr).toBe(5);
      expect(planned.stdout).toContain('(secret standards/webhook-password)');
      const applied = await autopilot('standards', 'apply', '--standards', folder, '--environments', 'c39-*', '--wait');
      expect(applied.code, applied.stdout + applied.stderr).toBe(0);
      for (const id of C39) {
        expect(webhookOf(id)!.value.webHookNotification).toMatchObject({
          headers: [{ name: 'Authorization', secret: true, secretValue: password }],
        });
      }
      const again = await autopilot('standards', 'plan', '--standards', folder, '--environments', 'c39-*');
      expect(again.stdout).toContain('Nothing to do');

      const workflowId = /workflow (standards:\S+)/.exec(applied.stdout)![1]!;
      const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS! });
      try {
        const client = new Client({ connection, namespace: env.TEMPORAL_NAMESPACE!, dataConverter: testDataConverter });
        const history = await historyText(client.workflow.getHandle(workflowId));
        expect(history).toContain('standards/webhook-password');
        expect(history).not.toContain(password);
      } finally {
        await connection.close();
      }
      const everything = [stored, planned, applied, again].map((r) => r.stdout + r.stderr).join('\n');
      expect(everything + worker!.stdout() + worker!.stderr()).not.toContain(password);
    },
  );
});
