import type { S3Client } from '@aws-sdk/client-s3';
import { ConfigError } from '../config/config-error.js';
import { FolderInstallerStore } from './folder-installer-store.js';
import type { InstallerStore } from './installer-store.js';
import { S3InstallerStore } from './s3-installer-store.js';

/**
 * The installer store of a worker: the shared bucket when one is configured (workers on several
 * machines download each installer from Dynatrace once between them), else the worker's own folder.
 */
export function createInstallerStore(settings: {
  bucket: string | undefined;
  prefix: string;
  /** The folder store itself, or this worker's staging beside the bucket. */
  localDir: string;
  s3: S3Client | undefined;
}): InstallerStore {
  if (!settings.bucket) return new FolderInstallerStore(settings.localDir);
  if (!settings.s3) {
    throw new ConfigError('AUTOPILOT_INSTALLER_BUCKET', 'needs AWS_REGION: the bucket is reached through the AWS SDK');
  }
  return new S3InstallerStore({
    s3: settings.s3,
    bucket: settings.bucket,
    prefix: settings.prefix,
    stagingDir: settings.localDir,
  });
}
