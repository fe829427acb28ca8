import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, projectRoot } from '../../src/config/config.js';
import { createSecretStore } from '../../src/secrets/create-secret-store.js';
import { withSandboxSecretKey } from '../../src/secrets/sandbox-key.js';
import { ENROLL_FLEET } from '../../src/shared/enrollment.js';
import { ONBOARD_CUSTOMER } from '../../src/shared/onboarding.js';
import { REMEDIATE_CPU_SATURATION } from '../../src/shared/remediation.js';
import { autopilotCli, cleanEnv, spawnEntryPoint, type SpawnedProcess } from '../helpers/processes.js';
import { sandboxPorts } from '../helpers/worker-process.js';

/** The `autopilot` CLI as a provisioning system runs it, against `npm start` (sandbox mode). */
describe('autopilot CLI against npm start', () => {
  let sandbox: SpawnedProcess;
  let env: Record<string, string | undefined>;
  let simulatorPort: number;

  const autopilot = autopilotCli(() => env);

  beforeAll(async () => {
    const ports = await sandboxPorts();
    simulatorPort = Number(ports.AUTOPILOT_SIMULATOR_PORT);
    env = cleanEnv({
      ...ports,
      AUTOPILOT_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'autopilot-cli-')),
      AUTOPILOT_METRICS_ADDRESS: 'off',
    });
    sandbox = spawnEntryPoint('sandbox/start.ts', env);
    await sandbox.waitForOutput(/Press Ctrl-C to stop\./, 90_000);
  });
  afterAll(async () => {
    sandbox.child.kill('SIGINT');
    await sandbox.exit;
  });

  it('onboard --wait prints each step and the environment URL', async () => {
    const { code, stdout, stderr } = await autopilot('onboard', '--customer', 'abc', '--stage', 'p1', '--wait');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('Onboarding abc-p1: workflow onboard:abc-p1');
    expect(stdout).toMatch(/✓ Environment — created/);
    expect(stdout).toMatch(/✓ OneAgent installer — 1\.\d+/);
    expect(stdout).toContain(`Environment abc-p1 is ready: http://127.0.0.1:${simulatorPort}/e/abc-p1`);
  });

  it('status, runs and --json give machines what they need', async () => {
    const status = await autopilot('status', 'onboard:abc-p1', '--json');
    expect(status.code).toBe(0);
    const parsed = JSON.parse(status.stdout) as Record<string, unknown>;
    expect(parsed).toMatchObject({
      workflowId: 'onboard:abc-p1',
      type: ONBOARD_CUSTOMER,
      status: 'COMPLETED',
      searchAttributes: { DtEnvironmentId: 'abc-p1', DtCustomer: 'abc', AutopilotPhase: 'Completed' },
      result: { environmentId: 'abc-p1', secrets: { installerDownload: 'dynatrace/abc-p1/installer-download-token' } },
    });
    const human = await autopilot('status', 'onboard:abc-p1');
    expect(human.stdout).toContain(`onboard:abc-p1  ${ONBOARD_CUSTOMER}  COMPLETED (Completed)`);

    const again = await autopilot('onboard', '--customer', 'abc', '--stage', 'p1', '--wait', '--json');
    expect(JSON.parse(again.stdout)).toMatchObject({ status: 'COMPLETED', result: { createdEnvironment: false } });

    const runs = await autopilot('runs', '--customer', 'abc', '--type', ONBOARD_CUSTOMER);
    expect(runs.stdout.split('\n')[0]).toMatch(/^WORKFLOW ID\s+TYPE\s+STATUS\s+PHASE\s+ENVIRONMENT\s+STARTED$/);
    expect(runs.stdout).toMatch(
      new RegExp(`onboard:abc-p1\\s+${ONBOARD_CUSTOMER}\\s+COMPLETED\\s+Completed\\s+abc-p1`),
    );
    const none = await autopilot('runs', '--phase', 'NeedsAttention', '--json');
    expect(JSON.parse(none.stdout)).toEqual([]);
  });

  it('answers user mistakes with one line and a non-zero exit code', async () => {
    const badInput = await autopilot('onboard', '--customer', 'ABC', '--stage', 'p1');
    expect(badInput.code).toBe(2);
    expect(badInput.stderr.trim().split('\n')).toEqual([
      'autopilot: Invalid OnboardCustomer input: customer must be 1-32 lowercase letters, digits or "-" (e.g. abc)',
    ]);
    const missing = await autopilot('status', 'onboard:nope');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('autopilot: no workflow onboard:nope in namespace default\n');
    const refused = await autopilot('retry', 'onboard:abc-p1');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^autopilot: retry refused: .+\n$/);
    const unknownFlag = await autopilot('runs', '--bogus');
    expect(unknownFlag.code).toBe(2);
    expect(unknownFlag.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('enroll --wait installs OneAgent on a (local sandbox) host and says where it reports', async () => {
    const { code, stdout, stderr } = await autopilot(
      'enroll',
      '--host',
      'vm-17',
      '--address',
      '127.0.0.1',
      '--customer',
      'abc',
      '--stage',
      'p1',
      '--wait',
    );
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('Enrolling vm-17 into abc-p1: workflow enroll:abc-p1:vm-17');
    expect(stdout).toMatch(/✓ Install OneAgent — installer uploaded/);
    expect(stdout).toMatch(/vm-17 reports into abc-p1 as HOST-[0-9A-F]{16}: installed \(OneAgent 1\.\d+/);
    const again = await autopilot(
      'enroll',
      '--host',
      'vm-17',
      '--address',
      '127.0.0.1',
      '--customer',
      'abc',
      '--stage',
      'p1',
      '--wait',
      '--json',
    );
    expect(JSON.parse(again.stdout)).toMatchObject({ status: 'COMPLETED', result: { outcome: 'already-enrolled' } });
  });

  it('enroll-fleet reads a CSV inventory, reports progress and a JSON summary; bad rows are refused up front', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-inventory-'));
    const inventory = path.join(dir, 'hosts.csv');
    writeFileSync(
      inventory,
      [
        'hostname,address,customer,stage,os',
        ...['a', 'b', 'c'].flatMap((n) => [`abc-${n},127.0.0.1,abc,p1,linux`, `def-${n},127.0.0.1,def,p1,Linux`]),
      ].join('\n') + '\n',
    );
    const { code, stdout } = await autopilot('enroll-fleet', '--inventory', inventory, '--concurrency', '4', '--json');
    expect(code).toBe(0);
    const summary = JSON.parse(stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({ status: 'COMPLETED', total: 6, done: 6, failed: 0 });
    expect(Object.keys(summary.perEnvironment as object).sort()).toEqual(['abc-p1', 'def-p1']);

    const bad = path.join(dir, 'bad.csv');
    writeFileSync(
      bad,
      'hostname,address,customer,stage,os\nvm_1,127.0.0.1,abc,p1,linux\nvm-2,127.0.0.1,abc,p1,windows\n',
    );
    const refused = await autopilot('enroll-fleet', '--inventory', bad);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('has 2 bad row(s); nothing was started');
    expect(refused.stderr).toContain('line 2: hostname must be a host name');
    expect(refused.stderr).toContain('line 3: os only linux hosts are supported');
  });

  // Nine CLI runs, each a process of its own: on a machine busy with the rest of the suite that takes over a minute.
  it(
    'enroll-fleet --skip-invalid starts the valid rows and lists each bad one; without it nothing starts',
    { timeout: 150_000 },
    async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-inventory-'));
      const inventory = path.join(dir, 'hosts.csv');
      writeFileSync(
        inventory,
        [
          '# two hosts, one of them twice, and a typo',
          'hostname,address,customer,stage,os',
          'skip-a,127.0.0.1,abc,p1,linux',
          '',
          'skip-b,127.0.0.1,abc,p1,linux',
          'SKIP-A,127.0.0.1,abc,p1,Linux',
          'skip-c,127.0.0.1,abc,p_1,linux',
        ].join('\n') + '\n',
      );
      const fleets = async () =>
        (JSON.parse((await autopilot('runs', '--type', ENROLL_FLEET, '--json')).stdout) as unknown[]).length;
      const fleetsBefore = await fleets();

      const refused = await autopilot('enroll-fleet', '--inventory', inventory);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain(`${inventory} has 1 bad row(s); nothing was started:\n  line 7: stage must be`);
      expect(refused.stderr).toContain('run again with --skip-invalid to start the 2 valid host(s)');
      expect(refused.stdout).toContain(`note: ${inventory} line 6: SKIP-A repeats line 3 exactly; enrolled once`);
      const refusedAt = Date.now();
      expect(await fleets()).toBe(fleetsBefore);

      const human = await autopilot('enroll-fleet', '--inventory', inventory, '--skip-invalid', '--no-wait');
      expect(human.code).toBe(0);
      expect(human.stdout).toContain(`note: ${inventory} line 6: SKIP-A repeats line 3 exactly; enrolled once`);
      expect(human.stdout).toContain(
        `Skipping 1 bad row(s) of ${inventory} (--skip-invalid):\n  line 7: stage must be`,
      );
      expect(human.stdout).toMatch(/Enrolling 2 hosts into 1 environments: workflow enroll-fleet:[0-9a-f]{16}/);

      const { code, stdout } = await autopilot('enroll-fleet', '--inventory', inventory, '--skip-invalid', '--json');
      expect(code).toBe(0);
      const summary = JSON.parse(stdout) as { workflowId: string } & Record<string, unknown>;
      expect(summary).toMatchObject({
        status: 'COMPLETED',
        total: 2,
        done: 2,
        failed: 0,
        notes: [{ line: 6, message: 'SKIP-A repeats line 3 exactly; enrolled once' }],
        skipped: [
          { line: 7, message: expect.stringMatching(/^stage must be 1-16 lowercase letters or digits/) as string },
        ],
      });
      // The refused attempt started nothing: the fleet of these two hosts began only after it.
      const fleet = JSON.parse((await autopilot('status', summary.workflowId, '--json')).stdout) as {
        startTime: string;
      };
      expect(Date.parse(fleet.startTime)).toBeGreaterThan(refusedAt);
      for (const host of ['skip-a', 'skip-b']) {
        const enrollment = await autopilot('status', `enroll:abc-p1:${host}`, '--json');
        expect(JSON.parse(enrollment.stdout)).toMatchObject({ status: 'COMPLETED' });
      }

      const onlyBad = path.join(dir, 'only-bad.csv');
      writeFileSync(onlyBad, 'hostname,address,customer,stage,os\nvm_1,127.0.0.1,abc,p1,linux\n');
      const nothing = await autopilot('enroll-fleet', '--inventory', onlyBad, '--skip-invalid');
      expect(nothing.code).toBe(2);
      expect(nothing.stderr).toBe(
        `autopilot: ${onlyBad} has no valid host; nothing was started:\n  line 2: hostname must be a host name like vm-17 or web-1.example.com\n`,
      );
    },
  );

  it('secrets set-ssh-key stores a key for enrollments to name', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-key-'));
    const key = path.join(dir, 'id_ed25519');
    writeFileSync(key, '-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----\n');
    const stored = await autopilot('secrets', 'set-ssh-key', 'ops-key', '--file', key);
    expect(stored).toMatchObject({
      code: 0,
      stdout: 'stored SSH key "ops-key" in the file secret store; use it with --ssh-key ops-key\n',
    });
    const notAKey = await autopilot('secrets', 'set-ssh-key', 'ops-key', '--file', inventoryPath());
    expect(notAKey.code).toBe(2);
  });

  it(
    'secrets set stores a secret for standards from a file, never prints it, and touches no other namespace',
    {
      timeout: 180_000,
    },
    async () => {
      const store = createSecretStore(withSandboxSecretKey(loadConfig(env)));
      // A token onboarding stored in the first test: `secrets set` must not be a way to replace it.
      const token = 'dynatrace/abc-p1/installer-download-token';
      const before = (await store.get(token))?.value;
      expect(before).toMatch(/^dt0c01\./);
      const dir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-secret-'));
      const file = path.join(dir, 'webhook-password.txt');
      writeFileSync(file, 'correct-horse-battery-staple\n');

      const stored = await autopilot('secrets', 'set', 'standards/webhook-password', '--file', file);
      expect(stored).toEqual({
        code: 0,
        stdout:
          'stored standards/webhook-password in the file secret store; standards write it with {{ secret "standards/webhook-password" }}\n',
        stderr: '',
      });
      expect((await store.get('standards/webhook-password'))?.value).toBe('correct-horse-battery-staple');

      for (const ref of [token, 'ssh/ops', 'autopilot/webhook-key', 'standards/a/b']) {
        const refused = await autopilot('secrets', 'set', ref, '--file', file);
        expect(refused, ref).toEqual({
          code: 2,
          stdout: '',
          stderr:
            `autopilot: "${ref}" must be standards/<name>, the name lowercase letters, digits, ".", "_" or "-" ` +
            '(secrets set stores secrets for standards; SSH keys: autopilot secrets set-ssh-key)\n',
        });
      }
      expect((await store.get(token))?.value).toBe(before);
      expect(await store.get('ssh/ops')).toBeUndefined();

      const gone = path.join(dir, 'gone.txt');
      expect(await autopilot('secrets', 'set', 'standards/gone', '--file', gone)).toEqual({
        code: 2,
        stdout: '',
        stderr: `autopilot: cannot read ${gone}: ENOENT\n`,
      });
      const empty = path.join(dir, 'empty.txt');
      writeFileSync(empty, '\n');
      expect(await autopilot('secrets', 'set', 'standards/empty', '--file', empty)).toMatchObject({
        code: 2,
        stderr: `autopilot: ${empty} is empty\n`,
      });
      expect(await store.get('standards/gone')).toBeUndefined();
      expect(await store.get('standards/empty')).toBeUndefined();
    },
  );

  it('simulate-cpu runs the whole self-healing loop of the sandbox demo', async () => {
    const { code, stdout, stderr } = await autopilot('simulate-cpu', '--host', 'vm-1', '--times', '3');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout.match(/^opened P-\d+: CPU saturation on vm-1/gm)).toHaveLength(3);
    expect(stdout).toMatch(
      /remediate:demo-p1:HOST-[0-9A-F]{16}: created version pa-[a-z0-9]{13} "t3\.small-dynatrace-autopilot" of product prod-[a-z0-9]{13} \(t3\.micro → t3\.small\)/,
    );
    const runs = await autopilot('runs', '--type', REMEDIATE_CPU_SATURATION, '--json');
    expect(JSON.parse(runs.stdout)).toEqual([expect.objectContaining({ environment: 'demo-p1', phase: 'Waiting' })]);
  });

  it("standards: the example folder plans and applies in the sandbox; onboarding's own objects are taken over, not doubled", async () => {
    const folder = path.join(projectRoot, 'examples/standards');
    const planned = await autopilot('standards', 'plan', '--standards', folder, '--environments', 'demo-p1');
    expect(planned.stderr).toBe('');
    expect(planned.code).toBe(5);
    expect(planned.stdout).toContain('+ builtin:management-zones "Customer demo" (customer-zone)');
    expect(planned.stdout).toContain('+ builtin:tags.auto-tagging "stage" (stage-tag) [report]');
    expect(planned.stdout).toContain('+ user group "demo-operators" (customer-operators)');
    expect(planned.stdout).toMatch(/~ environment quotas \(host-unit-quota\)\n\s+hostUnits\.maxLimit: null → 200/);
    // Onboarding's alerting profile and webhook are the example's self-healing standards, already right.
    expect(planned.stdout).toContain('4 to create, 1 to update, 0 to delete, 2 unchanged');

    const applied = await autopilot('standards', 'apply', '--standards', folder, '--environments', 'demo-p1', '--wait');
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain(
      'Completed: 1 environment(s) written, 0 already right, 0 skipped; 4 object(s) created, 1 updated',
    );
    const again = await autopilot('standards', 'plan', '--standards', folder, '--environments', 'demo-p1');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Nothing to do');
    // Still one webhook: the test notification the simulator sends goes to exactly one target.
    const test = await fetch(`http://127.0.0.1:${simulatorPort}/_sim/environments/demo-p1/test-notification`, {
      method: 'POST',
    });
    expect(((await test.json()) as { results: unknown[] }).results).toHaveLength(1);
  });
});

function inventoryPath(): string {
  return path.join(projectRoot, 'package.json');
}
