import { activityInfo, cancellationSignal, heartbeat, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { outputTail } from '../../hosts/bounded-output.js';
import { shellQuote, type HostTarget } from '../../hosts/executor.js';
import { rmSync } from 'node:fs';
import { installerFileName, type InstallerManifest, type InstallerStore } from '../../installers/installer-store.js';
import {
  checkInstallerSignature,
  unverifiableInstaller,
  type InstallerTrust,
} from '../../installers/installer-trust.js';
import type { HostLookupBatcher, ReportingHost } from '../../dynatrace/host-lookup-batcher.js';
import type { InstallSlots } from '../../fleet/install-slots.js';
import type { EnrollmentSettings } from '../../shared/onboarding.js';
import type { DynatraceAccess } from '../dynatrace-access.js';
import { heartbeatWhile } from '../heartbeat-while.js';
import { asHostFailure, executorFor, type Executors } from './host-failure.js';
import { installedOneAgentVersion } from './inspect-host.js';
import { FailureType } from '../../shared/failure-types.js';

export interface InstallOneAgentInput {
  executor?: 'ssh' | 'local';
  target: HostTarget;
  installPath: string;
  settings: EnrollmentSettings;
  installer: { version: string; sha256: string; fileName: string };
  timeoutMs: number;
  /** The fleet's install slots (absent for a host enrolled on its own): held for the install only. */
  slot?: { pool: string; holder: string; global: number; perEnvironment: number };
}

export interface InstalledOneAgent {
  uploaded: boolean;
  durationMs: number;
  outputTail: string;
  /** The host as its environment saw it right after the install, when it reported with the new version. */
  reporting?: ReportingHost;
}

export function createInstallOneAgent(deps: {
  executors: Executors;
  installers: InstallerStore;
  installerTrust: InstallerTrust;
  dynatrace: DynatraceAccess;
  installSlots: InstallSlots;
  hostLookup: HostLookupBatcher;
}) {
  /**
   * Installers (by checksum) this worker checked against its own trust: the store may hold one a
   * worker of laxer trust put there, and the input names the checksum, so each is checked here once
   * before it reaches any host.
   */
  const checkedInstallers = new Map<string, InstallerManifest['signature']>();
  /**
   * Runs the environment's cached installer on the host: staged by checksum (no per-host download
   * from Dynatrace, no per-host token), checked on the host, run with the environment's parameters
   * and root privileges. An older agent is upgraded in place. It heartbeats throughout: fetching
   * and uploading a few hundred MB can take longer than the heartbeat timeout. A fleet's host waits
   * for its install slot here, so the wait for a freed slot costs no workflow round trip.
   */
  return async function installOneAgent(input: InstallOneAgentInput): Promise<InstalledOneAgent> {
    // Each beat sends the details as they are then: the Temporal UI shows whether it waits or installs.
    const details = { host: input.target.hostname, step: 'installing' };
    return heartbeatWhile(details, async () => {
      const earlier = await installedByEarlierAttempt(input);
      if (earlier) return earlier;
      const { slot } = input;
      const { environmentId } = input.settings;
      // The lookup batcher knows which installs of the environment run here until this one has asked.
      let installStartedAt = Date.now();
      let installEnded: (() => void) | undefined;
      const installing = () => {
        installStartedAt = Date.now();
        installEnded = deps.hostLookup.installStarted(environmentId);
        return install(input);
      };
      try {
        let installed: InstalledOneAgent;
        if (!slot) installed = await installing();
        else {
          details.step = 'waiting for an install slot';
          heartbeat({ ...details });
          installed = await deps.installSlots.withSlot(
            { ...slot, environmentId },
            () => {
              details.step = 'installing';
              heartbeat({ ...details });
              return installing();
            },
            cancellationSignal(),
          );
        }
        // One batched lookup, after the slot is free, shared with the hosts of the environment that
        // finish about now: most hosts report at once, and then need no verification step of their own.
        details.step = 'looking up the host';
        const lookup = deps.hostLookup.find(environmentId, input.target.hostname, {
          installMs: Date.now() - installStartedAt,
        });
        installEnded?.();
        installEnded = undefined;
        const reporting = await lookup.catch(() => undefined);
        return reporting &&
          (reporting.installerVersion === undefined || reporting.installerVersion === input.installer.version)
          ? { ...installed, reporting }
          : installed;
      } finally {
        installEnded?.();
      }
    });
  };

  async function installedByEarlierAttempt(input: InstallOneAgentInput): Promise<InstalledOneAgent | undefined> {
    if (activityInfo().attempt > 1) {
      const executor = executorFor(deps.executors, input.executor);
      // An earlier attempt may have finished the install before its worker died: running the
      // installer again would be a second install of the same version.
      const installed = await installedOneAgentVersion(executor, input.target, input.installPath).catch(
        () => undefined,
      );
      if (installed === input.installer.version) {
        log.info('OneAgent already installed by an earlier attempt', {
          host: input.target.hostname,
          version: installed,
        });
        return { uploaded: false, durationMs: 0, outputTail: 'already installed by an earlier attempt' };
      }
    }
    return undefined;
  }

  async function install(input: InstallOneAgentInput): Promise<InstalledOneAgent> {
    const { environmentId } = input.settings;
    const executor = executorFor(deps.executors, input.executor);
    if (deps.installerTrust.check === 'unverifiable') {
      throw unverifiableInstaller(`the installer ${input.installer.version} of ${environmentId}`);
    }
    const localPath = await cachedInstaller(input);
    const args = [
      `INSTALL_PATH=${input.installPath}`,
      `--set-host-name=${input.target.hostname}`,
      `--set-host-group=${input.settings.hostGroup}`,
      `--set-monitoring-mode=${input.settings.monitoringMode}`,
      ...Object.entries(input.settings.hostTags).map(([k, v]) => `--set-host-tag=${k}=${v}`),
    ];
    try {
      return await executor.withSession(input.target, async (session) => {
        const staged = await session.stageFile({
          localPath,
          sha256: input.installer.sha256,
          name: input.installer.fileName,
        });
        let installed = false;
        try {
          const result = await session.run(`sh ${shellQuote(staged.path)} ${args.map(shellQuote).join(' ')}`, {
            timeoutMs: input.timeoutMs,
            privileged: true,
            purpose: 'install',
          });
          const tail = outputTail(result.stdout, result.stderr);
          if (result.timedOut) {
            throw ApplicationFailure.create({
              message: `the installer did not finish within ${Math.round(input.timeoutMs / 1000)} s on ${input.target.hostname}; last output:\n${tail}`,
              type: FailureType.InstallTimedOut,
              nonRetryable: true,
              details: [{ outputTail: tail }],
            });
          }
          if (result.exitCode !== 0) {
            throw ApplicationFailure.create({
              message: `the installer exited with code ${result.exitCode} on ${input.target.hostname}; last output:\n${tail}`,
              type: FailureType.InstallFailed,
              nonRetryable: true,
              details: [{ exitCode: result.exitCode, outputTail: tail }],
            });
          }
          installed = true;
          log.info('OneAgent installed', {
            environmentId,
            host: input.target.hostname,
            version: input.installer.version,
            uploaded: staged.uploaded,
          });
          return { uploaded: staged.uploaded, durationMs: result.durationMs, outputTail: tail };
        } finally {
          // Real installers are a few hundred MB; one left behind per upgrade would fill /var/tmp.
          // After a failure the shared copy stays, so the operator's retry does not upload again.
          if (!(await session.unstage(staged, { keepShared: !installed }))) {
            log.warn('Could not remove the staged installer', { host: input.target.hostname, path: staged.path });
          }
        }
      });
    } catch (err) {
      throw asHostFailure(err);
    }
  }

  /**
   * The onboarding put the installer in the store: this worker stages its own copy from there once.
   * A store without it (filled before the store was shared, or another machine's folder) gets it
   * from Dynatrace once more, by the checksum the onboarding recorded.
   */
  async function cachedInstaller(input: InstallOneAgentInput): Promise<string> {
    const { environmentId } = input.settings;
    const { version, sha256 } = input.installer;
    const staged = await deps.installers.stage(environmentId, version, sha256);
    if (staged) {
      await checked(staged, input);
      return staged;
    }
    const file = deps.installers.stagingPath(environmentId, version);
    const download = await deps.dynatrace.environments.withApi(environmentId, 'installer-download', ({ deployment }) =>
      deployment.download({ version, destination: file, arch: input.settings.arch as 'x86' }),
    );
    if (download.status !== 'downloaded' || download.sha256 !== sha256) {
      throw ApplicationFailure.nonRetryable(
        `the installer ${version} of ${environmentId} no longer has the checksum recorded at onboarding; run the onboarding again`,
        FailureType.InstallerChanged,
      );
    }
    const signature = await checked(file, input);
    await deps.installers.publish({
      environmentId,
      version,
      fileName: installerFileName(version),
      sha256,
      size: download.size,
      ...(download.etag ? { etag: download.etag } : {}),
      signature,
      downloadedAt: new Date().toISOString(),
    });
    return file;
  }

  /** The local copy (whose checksum the store checked) checked against this worker's trust, once per checksum. */
  async function checked(file: string, input: InstallOneAgentInput): Promise<InstallerManifest['signature']> {
    const { sha256, version } = input.installer;
    const known = checkedInstallers.get(sha256);
    if (known) return known;
    try {
      const signature = await checkInstallerSignature(file, deps.installerTrust, {
        environmentId: input.settings.environmentId,
        version,
      });
      checkedInstallers.set(sha256, signature);
      return signature;
    } catch (err) {
      // Not left where the next install would find it by its checksum.
      rmSync(file, { force: true });
      throw err;
    }
  }
}
