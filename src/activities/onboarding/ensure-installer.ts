import { rmSync } from 'node:fs';
import { log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { inspectInstallerSignature, verifyInstallerSignature } from '../../dynatrace/index.js';
import type { InstallerCache, InstallerManifest } from '../../installers/installer-cache.js';
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
  installers: InstallerCache;
  /** CA for full signature verification; without it the signature's shape is checked. */
  installerCaFile?: string;
}) {
  /**
   * The latest Linux installer of the environment, downloaded once per version into the cache
   * (If-None-Match with the cached ETag turns a repeat into a 304), checksummed and its signature
   * checked before anything may install it.
   */
  return async function ensureInstaller(input: EnsureInstallerInput): Promise<EnsuredInstaller> {
    const { version, usable, download } = await deps.dynatrace.environments.withApi(
      input.environmentId,
      'installer-download',
      async ({ deployment }) => {
        const version = await deployment.latestVersion({ arch: input.arch });
        const file = deps.installers.installerPath(input.environmentId, version);
        const cached = deps.installers.manifest(input.environmentId, version);
        const usable = cached && (await deps.installers.intact(cached)) ? cached : undefined;
        const download = await heartbeatWhile({ version }, () =>
          deployment.download({
            version,
            arch: input.arch,
            destination: file,
            ...(usable?.etag ? { ifNoneMatch: usable.etag } : {}),
          }),
        );
        return { version, usable, download };
      },
    );
    const file = deps.installers.installerPath(input.environmentId, version);
    if (download.status === 'not-modified' && usable) {
      return { ...summary(usable), action: 'cached' };
    }
    if (download.status === 'not-modified') {
      throw ApplicationFailure.retryable(
        `installer ${version} answered 304 without a cached copy`,
        FailureType.InstallerCacheMismatch,
      );
    }

    const shape = await inspectInstallerSignature(file);
    if (!shape.ok) {
      rmSync(file, { force: true });
      throw ApplicationFailure.nonRetryable(
        `the installer ${version} of ${input.environmentId} is not signed: ${shape.reason}`,
        FailureType.InstallerSignatureInvalid,
      );
    }
    let signature: InstallerManifest['signature'] = 'shape-checked';
    if (deps.installerCaFile) {
      const verified = await verifyInstallerSignature(file, deps.installerCaFile);
      if (!verified.ok) {
        rmSync(file, { force: true });
        throw ApplicationFailure.nonRetryable(
          `the installer ${version} of ${input.environmentId} fails signature verification: ${verified.detail}`,
          FailureType.InstallerSignatureInvalid,
        );
      }
      signature = 'verified';
    }
    const manifest: InstallerManifest = {
      environmentId: input.environmentId,
      version,
      fileName: deps.installers.fileName(version),
      sha256: download.sha256,
      size: download.size,
      ...(download.etag ? { etag: download.etag } : {}),
      signature,
      downloadedAt: new Date().toISOString(),
    };
    deps.installers.writeManifest(manifest);
    log.info('Installer downloaded', { environmentId: input.environmentId, version, size: download.size, signature });
    return { ...summary(manifest), action: 'downloaded' };
  };
}

function summary(m: InstallerManifest) {
  return { version: m.version, fileName: m.fileName, sha256: m.sha256, size: m.size, signature: m.signature };
}
