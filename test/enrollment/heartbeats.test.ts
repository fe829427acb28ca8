import type { InstallSlots } from '../../src/fleet/install-slots.js';
import { HostLookupBatcher } from '../../src/dynatrace/host-lookup-batcher.js';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DynatraceAccess } from '../../src/activities/dynatrace-access.js';
import {
  createInstallOneAgent,
  type InstalledOneAgent,
  type InstallOneAgentInput,
} from '../../src/activities/enrollment/install-oneagent.js';
import { heartbeatWhile } from '../../src/activities/heartbeat-while.js';
import type { FileToStage, HostExecutor, HostTarget } from '../../src/hosts/executor.js';
import { LocalExecutor } from '../../src/hosts/local-executor.js';
import { FolderInstallerStore } from '../../src/installers/folder-installer-store.js';
import { installerFileName } from '../../src/installers/installer-store.js';
import { HEARTBEAT_EVERY_MS } from '../../src/shared/heartbeats.js';
import { generateSigningMaterial, signInstaller } from '../../sandbox/dynatrace/installer.js';

const quiet = () => undefined;
const logger = { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: quiet, error: quiet };

function recordingEnvironment() {
  const env = new MockActivityEnvironment(undefined, { logger });
  const beats: unknown[] = [];
  env.on('heartbeat', (details: unknown) => beats.push(details));
  return { env, beats };
}

describe('heartbeatWhile', () => {
  it('beats at once and then on its timer while the work runs, and stops when it ends', async () => {
    const { env, beats } = recordingEnvironment();
    const result = await env.run(() =>
      heartbeatWhile(
        { installing: 'vm-1' },
        () => new Promise((resolve) => setTimeout(() => resolve('done'), 130)),
        20,
      ),
    );
    expect(result).toBe('done');
    expect(beats.length).toBeGreaterThanOrEqual(4);
    expect(beats.every((b) => JSON.stringify(b) === '{"installing":"vm-1"}')).toBe(true);
    const after = beats.length;
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(beats.length).toBe(after);
  });

  it('stops beating when the work fails, and passes the failure on', async () => {
    const { env, beats } = recordingEnvironment();
    await expect(
      env.run(() => heartbeatWhile({}, () => Promise.reject(new Error('upload cut off')), 20)),
    ).rejects.toThrow('upload cut off');
    const after = beats.length;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(beats.length).toBe(after);
  });
});

/**
 * A slow link: uploading a few hundred MB can take longer than the install's heartbeat timeout.
 * The activity must keep beating through the upload, not only once the installer runs.
 */
describe('installOneAgent heartbeats through a slow upload', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-heartbeats-'));
    // Only the heartbeat timer is faked: file copies and the installer's process run for real.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
  });
  afterEach(() => {
    vi.useRealTimers();
    rmSync(dir, { recursive: true, force: true });
  });

  it('beats while the installer is staged on the host', async () => {
    const installers = new FolderInstallerStore(path.join(dir, 'installers'));
    const version = '1.300.0.20260101-000000';
    const file = installers.stagingPath('slw-p1', version);
    // A signed installer that does nothing: the install checks the signature's shape, as the sandbox does.
    const installer = await signInstaller('#!/bin/sh\nexit 0\n', await generateSigningMaterial());
    writeFileSync(file, installer);
    const sha256 = createHash('sha256').update(installer).digest('hex');
    await installers.publish({
      environmentId: 'slw-p1',
      version,
      fileName: installerFileName(version),
      sha256,
      size: installer.length,
      signature: 'shape-checked',
      downloadedAt: new Date().toISOString(),
    });

    const { env, beats } = recordingEnvironment();
    const local = new LocalExecutor({ rootDir: path.join(dir, 'hosts') });
    const beatsDuringUpload: number[] = [];
    // The local executor with an upload that takes three heartbeat intervals.
    const slowLink: HostExecutor = {
      kind: 'local',
      installPath: (target: HostTarget, requested?: string) => local.installPath(target, requested),
      withSession: (target, work) =>
        local.withSession(target, (session) =>
          work({
            run: (command, options) => session.run(command, options),
            unstage: (staged, options) => session.unstage(staged, options),
            stageFile: async (stage: FileToStage) => {
              const before = beats.length;
              vi.advanceTimersByTime(3 * HEARTBEAT_EVERY_MS + 100);
              beatsDuringUpload.push(beats.length - before);
              return session.stageFile(stage);
            },
          }),
        ),
    };
    const installOneAgent = createInstallOneAgent({
      executors: { local: slowLink, default: 'local', localAllowed: true },
      installers,
      installerTrust: { check: 'shape-only', acceptedBy: 'sandbox' },
      dynatrace: {} as DynatraceAccess,
      // A host enrolled on its own takes no install slot.
      installSlots: {} as InstallSlots,
      // A host that has not reported yet: the enrollment's verification waits for it.
      hostLookup: new HostLookupBatcher(() => Promise.resolve([])),
    });

    const input: InstallOneAgentInput = {
      executor: 'local',
      target: { hostname: 'slw-vm-1', address: '127.0.0.1' },
      installPath: local.installPath({ hostname: 'slw-vm-1', address: '127.0.0.1' }),
      settings: { environmentId: 'slw-p1', hostGroup: 'slw', monitoringMode: 'fullstack', hostTags: {}, arch: 'x86' },
      installer: { version, sha256, fileName: installerFileName(version) },
      timeoutMs: 10_000,
    };
    const result = await env.run<[InstallOneAgentInput], InstalledOneAgent, typeof installOneAgent>(
      installOneAgent,
      input,
    );

    expect(result.uploaded).toBe(true);
    expect(beatsDuringUpload).toEqual([3]);
    expect(beats[0]).toEqual({ host: 'slw-vm-1', step: 'installing' });
  });
});
