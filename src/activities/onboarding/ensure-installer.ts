import { rmSync } from 'node:fs';
import { log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { installerFileName, type InstallerManifest, type InstallerStore } from '../../installers/installer-store.js';
import {
  checkInstallerSignature,
  unverifiableInstaller,
  type InstallerTrust,
} from '../../installers/installer-trust.js';
import type { SecretStore } from '../../secrets/secret-store.js';
import type { DynatraceAccess } from '../dynatrace-access.js';
import { heartbeatWhile } from '../heartbeat-while.js';
import { FailureType } from '../../shared/failure-types.js';

export interface EnsureInstallerInput {
  environmentId: string;
  arch: 'x86' | 'arm' | 'ppcle' | 's390';
}

export interface EnsuredInstaller {
  version: string;
  fileName: string;
  sha256: string;
  size: number;
  signature: InstallerManifest['signature'];
  action: 'downloaded' | 'cached';
}

export function createEnsureInstaller(deps: {
  dynatrace: DynatraceAccess;
  secrets: SecretStore;
  installers: InstallerStore;
  installerTrust: InstallerTrust;
}) {
  /**
   * The latest Linux installer of the environment, downloaded once per version into the store
   * (If-None-Match with the stored ETag turns a repeat into a 304, whichever worker asks),
   * checksummed and its signature checked before anything may install it.
   */
  return async function ensureInstaller(input: EnsureInstallerInput): Promise<EnsuredInstaller> {
    // Nothing to verify against: refused before anything is downloaded or stored.
    if (deps.installerTrust.check === 'unverifiable') {
      throw unverifiableInstaller(`the installer of ${input.environmentId}`);
    }
    const file = (version: string) => deps.installers.stagingPath(input.environmentId, version);
    const { version, stored, download } = await deps.dynatrace.environments.withApi(
      input.environmentId,
      'installer-download',
      async ({ deployment }) => {
        const version = await deployment.latestVersion({ arch: input.arch });
        const found = await deps.installers.manifest(input.environmentId, version);
        // A copy another worker only shape-checked is downloaded again where installers are verified.
        const stored = found && satisfies(found.signature, deps.installerTrust) ? found : undefined;
        const download = await heartbeatWhile({ version }, () =>
          deployment.download({
            version,
            arch: input.arch,
            destination: file(version),
            ...(stored?.etag ? { ifNoneMatch: stored.etag } : {}),
          }),
        );
        return { version, stored, download };
      },
    );
    if (download.status === 'not-modified' && stored) {
      return { ...summary(stored), action: 'cached' };
    }
    if (download.status === 'not-modified') {
      throw ApplicationFailure.retryable(
        `installer ${version} answered 304 without a stored copy`,
        FailureType.InstallerCacheMismatch,
      );
    }

    const staged = file(version);
    let signature: InstallerManifest['signature'];
    try {
      signature = await checkInstallerSignature(staged, deps.installerTrust, {
        environmentId: input.environmentId,
        version,
      });
    } catch (err) {
      rmSync(staged, { force: true });
      throw err;
    }
    const manifest: InstallerManifest = {
      environmentId: input.environmentId,
      version,
      fileName: installerFileName(version),
      sha256: download.sha256,
      size: download.size,
      ...(download.etag ? { etag: download.etag } : {}),
      signature,
      downloadedAt: new Date().toISOString(),
    };
    // Only a checked installer reaches the store: other workers trust its manifest.
    await heartbeatWhile({ version, publishing: true }, () => deps.installers.publish(manifest));
    log.info('Installer downloaded', { environmentId: input.environmentId, version, size: download.size, signature });
    return { ...summary(manifest), action: 'downloaded' };
  };
}

/** Whether a stored installer was checked as thoroughly as this worker demands. */
function satisfies(signature: InstallerManifest['signature'], trust: InstallerTrust): boolean {
  return signature === 'verified' || trust.check !== 'verify';
}

function summary(m: InstallerManifest) {
  return { version: m.version, fileName: m.fileName, sha256: m.sha256, size: m.size, signature: m.signature };
}
