import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEnrollment } from '../../src/client/start-enrollment.js';
import { collect } from '../../src/dynatrace/pagination.js';
import { HostKeyPolicy } from '../../src/hosts/host-key-policy.js';
import { SshExecutor } from '../../src/hosts/ssh-executor.js';
import { secretRefs } from '../../src/secrets/secret-store.js';
import type { HostEnrollmentInput } from '../../src/shared/enrollment.js';
import { AUTOPILOT_PHASE, DT_ENVIRONMENT_ID, DT_HOST } from '../../src/shared/search-attributes.js';
import { progressQuery, retrySignal } from '../../src/workflows/shared/operator-controls.js';
import { startTestbed, type Testbed } from '../helpers/autopilot.js';
import { startTestSshServer, type TestSshServer } from '../helpers/sshd.js';
import { recordHistory } from '../helpers/temporal.js';
import { FailureType } from '../../src/shared/failure-types.js';

const run = promisify(execFile);

describe('HostEnrollment over SSH into the simulator', () => {
  let sshd: TestSshServer;
  let tb: Testbed;

  beforeAll(async () => {
    sshd = await startTestSshServer();
    // A production worker: SSH by default, installers verified against the simulator's certificate.
    tb = await startTestbed({
      sandbox: false,
      executors: {
        default: 'ssh',
        ssh: new SshExecutor({
          defaultUser: sshd.user,
          privateKey: async () => sshd.privateKey,
          hostKeys: new HostKeyPolicy('strict', sshd.knownHostsFile),
          connectTimeoutMs: 5_000,
          stagingDir: '/tmp/autopilot-test-staging',
          defaultInstallPath: '/opt/dynatrace/oneagent',
        }),
      },
    });
  });
  afterAll(async () => {
    await tb.teardown();
    await sshd.stop();
  });

  // Every "host" is 127.0.0.1 through the same sshd: each gets its own install path.
  const host = (hostname: string, customer = 'sab'): HostEnrollmentInput => ({
    hostname,
    address: '127.0.0.1',
    port: sshd.port,
    customer,
    stage: 'p1',
    installPath: path.join(tb.dir, 'ssh-hosts', hostname, 'oneagent'),
    timeouts: { reporting: '30 seconds', install: '2 minutes', retryWindow: '1 minute' },
  });

  it('installs on several hosts through one onboarding per environment, and they report in', async () => {
    const worker = await tb.worker();
    const results = await worker.runUntil(async () => {
      const handles = await Promise.all(
        [host('vm-1'), host('vm-2'), host('vm-3'), host('db-1', 'sxy')].map((h) =>
          startEnrollment(tb.env.client, h, { taskQueue: tb.taskQueue }),
        ),
      );
      expect(handles.map((h) => h.workflowId)).toEqual([
        'enroll:sab-p1:vm-1',
        'enroll:sab-p1:vm-2',
        'enroll:sab-p1:vm-3',
        'enroll:sxy-p1:db-1',
      ]);
      const out = await Promise.all(handles.map((h) => h.result()));
      const described = await handles[0]!.describe();
      expect(described.typedSearchAttributes.get(DT_ENVIRONMENT_ID)).toBe('sab-p1');
      expect(described.typedSearchAttributes.get(DT_HOST)).toBe('vm-1');
      expect(described.typedSearchAttributes.get(AUTOPILOT_PHASE)).toBe('Completed');
      await recordHistory(handles[0]!, 'host-enrollment-installed');
      return out;
    });
    expect(results.map((r) => [r.hostname, r.environmentId, r.outcome])).toEqual([
      ['vm-1', 'sab-p1', 'installed'],
      ['vm-2', 'sab-p1', 'installed'],
      ['vm-3', 'sab-p1', 'installed'],
      ['db-1', 'sxy-p1', 'installed'],
    ]);
    const stats = await tb.dt.stats();
    expect(stats.created.environments).toBe(2);
    expect(stats.byEnvironment['sab-p1']).toMatchObject({
      apiTokensCreated: 2,
      installerDownloads: 1,
      hostsConnected: 3,
    });
    expect(stats.byEnvironment['sxy-p1']).toMatchObject({
      apiTokensCreated: 2,
      installerDownloads: 1,
      hostsConnected: 1,
    });

    // What the hosts ran had a signature that verified against the CA.
    expect(await tb.deps.installers.manifest('sab-p1', results[0]!.version)).toMatchObject({ signature: 'verified' });

    const automation = (await tb.deps.secrets.get(secretRefs.environmentToken('sab-p1', 'automation')))!.value;
    const hosts = await collect(
      tb.dt.client
        .environment('sab-p1', automation)
        .entities.list({ entitySelector: 'type("HOST")', fields: '+properties' }),
    );
    expect(hosts.map((h) => h.displayName).sort()).toEqual(['vm-1', 'vm-2', 'vm-3']);
    expect(hosts[0]!.properties).toMatchObject({ hostGroupName: 'sab-p1', installerVersion: results[0]!.version });
    // The agent really is on the "host" (installed over SSH into the host's install path).
    const version = readFileSync(
      path.join(tb.dir, 'ssh-hosts', 'vm-2', 'oneagent', 'agent', 'installer.version'),
      'utf8',
    ).trim();
    expect(version).toBe(results[0]!.version);
  });

  it('a second run changes nothing: no upload, no install, no new agent connect', async () => {
    const before = await tb.dt.stats();
    const worker = await tb.worker();
    const results = await worker.runUntil(async () => {
      const handles = await Promise.all(
        [host('vm-1'), host('vm-2')].map((h) => startEnrollment(tb.env.client, h, { taskQueue: tb.taskQueue })),
      );
      const out = await Promise.all(handles.map((h) => h.result()));
      const progress = await handles[0]!.query(progressQuery);
      expect(progress.steps.map((s) => s.status)).toEqual(['done', 'done', 'skipped', 'skipped']);
      return out;
    });
    expect(results.map((r) => r.outcome)).toEqual(['already-enrolled', 'already-enrolled']);
    const after = await tb.dt.stats();
    expect(after.agentConnects).toBe(before.agentConnects);
    expect(after.installerDownloads).toBe(before.installerDownloads);
    expect(after.created).toEqual(before.created);
  });

  it('upgrades an older agent in place', async () => {
    const [older, newer] = tb.dt.simulator.state.installerVersions;
    const token = (await tb.deps.secrets.get(secretRefs.environmentToken('sab-p1', 'installer-download')))!.value;
    const oldInstaller = path.join(tb.dir, 'old-installer.sh');
    await tb.dt.client.environment('sab-p1', token).deployment.download({ version: older!, destination: oldInstaller });
    const installPath = path.join(tb.dir, 'ssh-hosts', 'vm-old', 'oneagent');
    await run('sh', [oldInstaller, `INSTALL_PATH=${installPath}`, '--set-host-name=vm-old']);

    const worker = await tb.worker();
    const result = await worker.runUntil(async () =>
      (await startEnrollment(tb.env.client, host('vm-old'), { taskQueue: tb.taskQueue })).result(),
    );
    expect(result).toMatchObject({ outcome: 'upgraded', previousVersion: older, version: newer });
    expect(readFileSync(path.join(installPath, 'agent', 'installer.version'), 'utf8').trim()).toBe(newer);
  });

  it('a failing install needs attention with the installer output tail; retry after the fault is cleared completes', async () => {
    tb.dt.simulator.setKnobs({ failInstallHosts: ['vm-bad'] });
    const worker = await tb.worker();
    await worker.runUntil(async () => {
      const handle = await startEnrollment(tb.env.client, host('vm-bad'), { taskQueue: tb.taskQueue });
      const deadline = Date.now() + 30_000;
      while ((await handle.query(progressQuery)).phase !== 'NeedsAttention') {
        if (Date.now() > deadline) throw new Error('never needed attention');
        await new Promise((r) => setTimeout(r, 200));
      }
      const { attention } = await handle.query(progressQuery);
      expect(attention).toMatchObject({
        step: 'install',
        failureType: FailureType.InstallFailed,
        allowed: ['retry', 'abort'],
      });
      expect(attention?.reason).toContain('the installer exited with code 1 on vm-bad; last output:');
      expect(attention?.reason).toContain('Simulated installation failure on vm-bad');
      expect((await handle.describe()).typedSearchAttributes.get(AUTOPILOT_PHASE)).toBe('NeedsAttention');

      tb.dt.simulator.setKnobs({ failInstallHosts: [] });
      await handle.signal(retrySignal, { reason: 'disk cleaned up' });
      expect(await handle.result()).toMatchObject({ outcome: 'installed', hostname: 'vm-bad' });
      await recordHistory(handle, 'host-enrollment-failed-install-retry');
    });
  });

  it('an unreachable host needs attention instead of failing', async () => {
    const worker = await tb.worker();
    await worker.runUntil(async () => {
      const handle = await startEnrollment(
        tb.env.client,
        {
          ...host('vm-gone'),
          port: 9,
          timeouts: { reporting: '30 seconds', install: '1 minute', retryWindow: '3 seconds' },
        },
        { taskQueue: tb.taskQueue },
      );
      const deadline = Date.now() + 30_000;
      while ((await handle.query(progressQuery)).phase !== 'NeedsAttention') {
        if (Date.now() > deadline) throw new Error('never needed attention');
        await new Promise((r) => setTimeout(r, 200));
      }
      const { attention } = await handle.query(progressQuery);
      expect(attention?.step).toBe('inspect');
      expect(attention?.reason).toMatch(/cannot reach 127\.0\.0\.1:9 over SSH: ECONNREFUSED/);
      await handle.signal('abort', { reason: 'decommissioned' });
      await expect(handle.result()).rejects.toThrow();
    });
  });
});
