import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DynatraceFailureType,
  inspectInstallerSignature,
  verifyInstallerSignature,
  type EnvironmentApi,
} from '../../src/dynatrace/index.js';
import { collect } from '../../src/dynatrace/pagination.js';
import { checkInstallerSignature } from '../../src/installers/installer-trust.js';
import { FailureType } from '../../src/shared/failure-types.js';
import { failureOf, startTestCluster, type TestCluster } from '../helpers/simulator.js';

const run = promisify(execFile);

describe('OneAgent installer download and installation', () => {
  let dt: TestCluster;
  let installer: EnvironmentApi;
  let reader: EnvironmentApi;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-installer-'));

  beforeAll(async () => {
    dt = await startTestCluster({ knobs: { installerSizeBytes: 200 * 1024 } });
    const { tokenManagementToken, token } = await dt.environment('abc-p1');
    const download = await dt.client
      .environment('abc-p1', tokenManagementToken)
      .tokens.create({ name: 'installer', scopes: ['InstallerDownload'] });
    installer = dt.client.environment('abc-p1', download.token);
    reader = dt.client.environment('abc-p1', token);
  });
  afterAll(async () => {
    await dt.stop();
  });

  it('reports versions and streams the installer once; If-None-Match with its ETag costs a 304', async () => {
    const versions = await installer.deployment.versions();
    const latest = await installer.deployment.latestVersion();
    expect(versions.at(-1)).toBe(latest);
    expect(latest).toMatch(/^\d+\.\d+\.\d+\.\d{8}-\d{6}$/);

    const file = path.join(dir, `Dynatrace-OneAgent-Linux-${latest}.sh`);
    const first = await installer.deployment.download({ version: latest, destination: file });
    expect(first.status).toBe('downloaded');
    if (first.status !== 'downloaded') return;
    expect(first.size).toBeGreaterThanOrEqual(200 * 1024);
    expect(first.sha256).toBe(createHash('sha256').update(readFileSync(file)).digest('hex'));
    expect(first.etag).toBe(`"${first.sha256}"`);

    const again = await installer.deployment.download({ version: latest, destination: file, ifNoneMatch: first.etag! });
    expect(again).toEqual({ status: 'not-modified' });
    const stats = await dt.stats();
    expect(stats.installerDownloads).toBe(1);
    expect(stats.installerNotModified).toBe(1);

    const unknown = await failureOf(() =>
      installer.deployment.download({ version: '1.0.0.20000101-000000', destination: path.join(dir, 'nope.sh') }),
    );
    expect(unknown).toMatchObject({ status: 404, type: DynatraceFailureType.notFound });
  });

  it('serves an installer with a real S/MIME signature after ----SIGNED-INSTALLER', async () => {
    const latest = await installer.deployment.latestVersion();
    const file = path.join(dir, `Dynatrace-OneAgent-Linux-${latest}.sh`);
    expect(await inspectInstallerSignature(file)).toMatchObject({ ok: true });
    const caFile = path.join(dir, 'ca.pem');
    writeFileSync(caFile, await (await fetch(`${dt.simulator.url}/_sim/installer-ca`)).text());
    expect(await verifyInstallerSignature(file, caFile)).toMatchObject({ ok: true });

    const tampered = path.join(dir, 'tampered.sh');
    writeFileSync(
      tampered,
      readFileSync(file, 'utf8').replace('INSTALL_PATH=/opt/dynatrace/oneagent', 'INSTALL_PATH=/tmp/evil'),
    );
    expect(await inspectInstallerSignature(tampered)).toMatchObject({ ok: true });
    expect((await verifyInstallerSignature(tampered, caFile)).ok).toBe(false);

    const unsigned = path.join(dir, 'unsigned.sh');
    writeFileSync(unsigned, '#!/bin/sh\necho hi\n');
    expect(await inspectInstallerSignature(unsigned)).toEqual({
      ok: false,
      reason: 'no closing ----SIGNED-INSTALLER-- boundary',
    });
  });

  it('the simulator names its signing certificate as a PEM file and can serve forged installers of the right shape', async () => {
    const caFile = dt.simulator.installerCaFile;
    expect(readFileSync(caFile, 'utf8')).toBe(await (await fetch(`${dt.simulator.url}/_sim/installer-ca`)).text());
    const latest = await installer.deployment.latestVersion();
    const fetched = async (name: string) => {
      const file = path.join(dir, `${name}.sh`);
      expect(await installer.deployment.download({ version: latest, destination: file })).toMatchObject({
        status: 'downloaded',
      });
      return file;
    };
    const which = { environmentId: 'abc-p1', version: latest };
    const genuine = await fetched('genuine');
    try {
      for (const forgery of ['foreign-signature', 'altered-after-signing'] as const) {
        dt.simulator.setKnobs({ installerForgery: forgery });
        const forged = await fetched(forgery);
        expect(readFileSync(forged).equals(readFileSync(genuine))).toBe(false);
        expect(await inspectInstallerSignature(forged)).toMatchObject({ ok: true });
        expect((await verifyInstallerSignature(forged, caFile)).ok).toBe(false);
        // Refused with the CA; shape-only takes it, which is why a worker warns about shape-only.
        const refused = await failureOf(() => checkInstallerSignature(forged, { check: 'verify', caFile }, which));
        expect(refused).toMatchObject({ type: FailureType.InstallerSignatureInvalid, nonRetryable: true });
        expect(refused.message).toContain(`the installer ${latest} of abc-p1 fails signature verification`);
        expect(await checkInstallerSignature(forged, { check: 'shape-only', acceptedBy: 'operator' }, which)).toBe(
          'shape-checked',
        );
      }
    } finally {
      dt.simulator.setKnobs({ installerForgery: 'none' });
    }
    expect(await checkInstallerSignature(genuine, { check: 'verify', caFile }, which)).toBe('verified');
    // Without a CA and without consent to shape-only checks, even the genuine one is refused.
    const unverifiable = await failureOf(() => checkInstallerSignature(genuine, { check: 'unverifiable' }, which));
    expect(unverifiable).toMatchObject({ type: FailureType.InstallerSignatureUnverifiable, nonRetryable: true });
    expect(unverifiable.message).toContain('set DT_INSTALLER_CA_FILE');
  });

  it('installs in a temp folder with the documented parameters, and the host appears in the environment', async () => {
    const latest = await installer.deployment.latestVersion();
    const file = path.join(dir, `Dynatrace-OneAgent-Linux-${latest}.sh`);
    const installPath = path.join(dir, 'oneagent');
    const { stdout } = await run('sh', [
      file,
      `INSTALL_PATH=${installPath}`,
      '--set-host-name=vm-17',
      '--set-host-group=abc-p1-web',
      '--set-host-tag=customer=abc',
      '--set-monitoring-mode=fullstack',
    ]);
    expect(stdout).toContain('is installed and connected as vm-17');
    const ctl = path.join(installPath, 'agent', 'tools', 'oneagentctl');
    expect((await run(ctl, ['--version'])).stdout.trim()).toBe(latest);
    expect((await run(ctl, ['--get-host-group'])).stdout.trim()).toBe('abc-p1-web');
    expect(readFileSync(path.join(installPath, 'agent', 'installer.version'), 'utf8').trim()).toBe(latest);

    const hosts = await collect(
      reader.entities.list({ entitySelector: 'type("HOST"),entityName.equals("vm-17")', fields: '+properties,+tags' }),
    );
    expect(hosts).toHaveLength(1);
    expect(hosts[0]).toMatchObject({
      displayName: 'vm-17',
      properties: { installerVersion: latest, hostGroupName: 'abc-p1-web', monitoringMode: 'FULL_STACK' },
      tags: [expect.objectContaining({ key: 'customer', value: 'abc' })],
    });
    expect((await dt.stats()).hostsConnected).toBe(1);
  });

  it('exits non-zero with a reason when the host cannot register, and rejects unknown parameters', async () => {
    const latest = await installer.deployment.latestVersion();
    const file = path.join(dir, `Dynatrace-OneAgent-Linux-${latest}.sh`);
    dt.simulator.setKnobs({ failInstallHosts: ['vm-broken'] });
    const failed = await failureOf(() =>
      run('sh', [file, `INSTALL_PATH=${path.join(dir, 'broken')}`, '--set-host-name=vm-broken']),
    );
    dt.simulator.setKnobs({ failInstallHosts: [] });
    expect(failed).toMatchObject({ code: 1 });
    expect((failed as Error & { stderr: string }).stderr).toContain('Simulated installation failure on vm-broken');

    const bad = await failureOf(() => run('sh', [file, '--set-nonsense=1']));
    expect(bad).toMatchObject({ code: 2 });
    expect((bad as Error & { stderr: string }).stderr).toContain('Unknown parameter: --set-nonsense=1');
  });
});
