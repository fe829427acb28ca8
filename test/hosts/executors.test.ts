import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostAccessError, type HostTarget } from '../../src/hosts/executor.js';
import { HostKeyPolicy } from '../../src/hosts/host-key-policy.js';
import { LocalExecutor } from '../../src/hosts/local-executor.js';
import { SshExecutor } from '../../src/hosts/ssh-executor.js';
import { failureOf } from '../helpers/simulator.js';
import { startTestSshServer, type TestSshServer } from '../helpers/sshd.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-executors-'));
const payload = path.join(dir, 'payload.sh');
writeFileSync(payload, '#!/bin/sh\necho staged\n'.repeat(2000));
const payloadSha = createHash('sha256').update(readFileSync(payload)).digest('hex');

describe('SSH executor against a real OpenSSH server', () => {
  let sshd: TestSshServer;
  let target: HostTarget;
  const executor = (policy: HostKeyPolicy, key?: string) =>
    new SshExecutor({
      defaultUser: sshd.user,
      privateKey: async () => key ?? sshd.privateKey,
      hostKeys: policy,
      connectTimeoutMs: 5_000,
      stagingDir: path.join(dir, 'remote-staging'),
      defaultInstallPath: '/opt/dynatrace/oneagent',
    });

  beforeAll(async () => {
    sshd = await startTestSshServer();
    target = { hostname: 'vm-1', address: '127.0.0.1', port: sshd.port };
  });
  afterAll(async () => {
    await sshd.stop();
  });

  it('runs commands with exit codes, separate streams, a timeout and bounded output', async () => {
    const ssh = executor(new HostKeyPolicy('strict', sshd.knownHostsFile));
    await ssh.withSession(target, async (session) => {
      expect(await session.run('echo out; echo err >&2; exit 7', { timeoutMs: 10_000 })).toMatchObject({
        exitCode: 7,
        stdout: 'out\n',
        stderr: 'err\n',
        timedOut: false,
        truncated: false,
      });
      const slow = await session.run('sleep 5', { timeoutMs: 300 });
      expect(slow).toMatchObject({ exitCode: null, timedOut: true });
      const loud = await session.run('seq 1 100000', { timeoutMs: 10_000, maxOutputBytes: 1000 });
      expect(loud.truncated).toBe(true);
      expect(loud.stdout.length).toBeLessThanOrEqual(1000);
      expect(loud.stdout.trimEnd().endsWith('100000')).toBe(true);
      expect((await session.run('id -un', { timeoutMs: 10_000, privileged: true })).stdout.trim()).toBe(sshd.user);
    });
  });

  it('stages a file once and checks its SHA-256 on the host', async () => {
    const ssh = executor(new HostKeyPolicy('strict', sshd.knownHostsFile));
    const file = { localPath: payload, sha256: payloadSha, name: 'installer.sh' };
    const first = await ssh.withSession(target, (s) => s.stageFile(file));
    const shared = path.join(dir, 'remote-staging', `${payloadSha.slice(0, 16)}-installer.sh`);
    expect(first).toMatchObject({ sharedPath: shared, uploaded: true });
    expect(first.path.startsWith(`${shared}.`)).toBe(true);
    expect(readFileSync(first.path).equals(readFileSync(payload))).toBe(true);
    expect(readFileSync(shared).equals(readFileSync(payload))).toBe(true);
    const second = await ssh.withSession(target, (s) => s.stageFile(file));
    expect(second).toMatchObject({ sharedPath: shared, uploaded: false });
    expect(second.path).not.toBe(first.path);
    const wrong = await failureOf(() =>
      ssh.withSession(target, (s) => s.stageFile({ ...file, name: 'other.sh', sha256: '0'.repeat(64) })),
    );
    expect(wrong).toMatchObject({ kind: 'transfer' });
  });

  it('keeps concurrent uploads of same-named installers for two environments apart', async () => {
    // Two environments' installers share a file name; staged over one host at the same time, each
    // run must get its own bytes (a shared path once let one host run the other environment's).
    const other = path.join(dir, 'payload-other.sh');
    writeFileSync(other, '#!/bin/sh\necho other\n'.repeat(2000));
    const otherSha = createHash('sha256').update(readFileSync(other)).digest('hex');
    const ssh = executor(new HostKeyPolicy('strict', sshd.knownHostsFile));
    const files = [
      { localPath: payload, sha256: payloadSha, name: 'oneagent.sh' },
      { localPath: other, sha256: otherSha, name: 'oneagent.sh' },
      { localPath: payload, sha256: payloadSha, name: 'oneagent.sh' },
      { localPath: other, sha256: otherSha, name: 'oneagent.sh' },
    ];
    const staged = await Promise.all(files.map((f) => ssh.withSession(target, (s) => s.stageFile(f))));
    expect(new Set(staged.map((s) => s.sharedPath)).size).toBe(2);
    staged.forEach((s, i) => expect(readFileSync(s.path).equals(readFileSync(files[i]!.localPath))).toBe(true));
  });

  it("one run's cleanup never removes the installer another run on the same machine is about to execute", async () => {
    // Hosts can alias one machine: a finished install once deleted the shared copy a second run had
    // just found, and the second installer failed with "cannot open".
    const ssh = executor(new HostKeyPolicy('strict', sshd.knownHostsFile));
    const file = { localPath: payload, sha256: payloadSha, name: 'aliased.sh' };
    await ssh.withSession(target, async (first) => {
      const mine = await first.stageFile(file);
      await ssh.withSession(target, async (second) => {
        const theirs = await second.stageFile(file);
        expect(theirs.uploaded).toBe(false);
        expect(await first.unstage(mine, { keepShared: false })).toBe(true);
        expect(existsSync(mine.path)).toBe(false);
        expect(existsSync(mine.sharedPath)).toBe(false);
        expect(readFileSync(theirs.path).equals(readFileSync(payload))).toBe(true);
        expect(await second.unstage(theirs, { keepShared: true })).toBe(true);
        expect(existsSync(theirs.path)).toBe(false);
      });
    });
  });

  it('checks host keys: strict refuses unknown hosts, accept-new records them, a changed key is refused', async () => {
    const empty = path.join(dir, 'empty_known_hosts');
    writeFileSync(empty, '');
    const unknown = await failureOf(() =>
      executor(new HostKeyPolicy('strict', empty)).withSession(target, async () => undefined),
    );
    expect(unknown).toBeInstanceOf(HostAccessError);
    expect(unknown).toMatchObject({ kind: 'host-key', retryable: false });
    expect(unknown.message).toContain(`the host key of [127.0.0.1]:${sshd.port} is not in ${empty}`);

    const learned = path.join(dir, 'learned_known_hosts');
    await executor(new HostKeyPolicy('accept-new', learned)).withSession(target, async () => undefined);
    expect(readFileSync(learned, 'utf8')).toBe(readFileSync(sshd.knownHostsFile, 'utf8'));

    const forged = path.join(dir, 'forged_known_hosts');
    const other = path.join(dir, 'other_host_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
    writeFileSync(
      forged,
      `[127.0.0.1]:${sshd.port} ${readFileSync(`${other}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}\n`,
    );
    const mitm = await failureOf(() =>
      executor(new HostKeyPolicy('accept-new', forged)).withSession(target, async () => undefined),
    );
    expect(mitm.message).toMatch(/does not match known_hosts: possible man-in-the-middle/);

    // Hashed entries (ssh-keygen -H) are understood too.
    const hashed = path.join(dir, 'hashed_known_hosts');
    writeFileSync(hashed, readFileSync(sshd.knownHostsFile));
    execFileSync('ssh-keygen', ['-q', '-H', '-f', hashed]);
    expect(readFileSync(hashed, 'utf8')).toMatch(/^\|1\|/);
    await executor(new HostKeyPolicy('strict', hashed)).withSession(target, async () => undefined);
  });

  it('tells a refused key (not retryable) from an unreachable host (retryable)', async () => {
    const stranger = path.join(dir, 'stranger_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', stranger]);
    const refused = await failureOf(() =>
      executor(new HostKeyPolicy('strict', sshd.knownHostsFile), readFileSync(stranger, 'utf8')).withSession(
        target,
        async () => undefined,
      ),
    );
    expect(refused).toMatchObject({ kind: 'authentication', retryable: false });
    const down = await failureOf(() =>
      executor(new HostKeyPolicy('strict', sshd.knownHostsFile)).withSession(
        { ...target, port: 9 },
        async () => undefined,
      ),
    );
    expect(down).toMatchObject({ kind: 'unreachable', retryable: true });
    expect(down.message).toContain('ECONNREFUSED');
  });
});

describe('local executor', () => {
  it('gives every host name its own folder, install path and staging area', async () => {
    const local = new LocalExecutor({ rootDir: path.join(dir, 'local-hosts') });
    const a = { hostname: 'vm-a', address: '127.0.0.1' };
    const b = { hostname: 'vm-b', address: '127.0.0.1' };
    expect(local.installPath(a)).toBe(path.join(dir, 'local-hosts', 'vm-a', 'oneagent'));
    expect(local.installPath(b, '/opt/dynatrace/oneagent')).toBe(path.join(dir, 'local-hosts', 'vm-b', 'oneagent'));
    const staged = await local.withSession(a, (s) =>
      s.stageFile({ localPath: payload, sha256: payloadSha, name: 'x.sh' }),
    );
    expect(existsSync(staged.path)).toBe(true);
    expect(staged.sharedPath).toBe(path.join(dir, 'local-hosts', 'vm-a', 'staging', `${payloadSha.slice(0, 16)}-x.sh`));
    expect(
      await local.withSession(a, (s) => s.stageFile({ localPath: payload, sha256: payloadSha, name: 'x.sh' })),
    ).toMatchObject({ uploaded: false });
    expect(await local.withSession(b, (s) => s.run('pwd; exit 3', { timeoutMs: 5000 }))).toMatchObject({
      exitCode: 3,
      stdout: `${path.join(dir, 'local-hosts', 'vm-b')}\n`,
    });
    expect(() => local.installPath({ hostname: '../escape', address: 'x' })).toThrow(/invalid host name/);
  });
});
