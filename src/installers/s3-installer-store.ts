import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, PutObjectCommand, type PutObjectCommandInput, type S3Client } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { asAwsFailure } from '../aws/aws-failure.js';
import { FailureType } from '../shared/failure-types.js';
import { fileSha256, rememberSha256 } from './file-checksum.js';
import { installerFileName, type InstallerManifest, type InstallerStore } from './installer-store.js';

export interface S3InstallerStoreOptions {
  s3: S3Client;
  bucket: string;
  /** Ends in `/`: `<prefix><environmentId>/<version>/…`. */
  prefix: string;
  /** This worker's own folder: hosts are served from here, never straight from the bucket. */
  stagingDir: string;
}

/**
 * Installers in an S3 bucket every worker shares: one worker downloads a version from Dynatrace and
 * puts it here, the others copy it to their local staging. Nothing is trusted on the way: every
 * worker that stages an installer checks its checksum while it streams.
 */
export class S3InstallerStore implements InstallerStore {
  /** Stagings under way: a fleet installs on several hosts of an environment at once, one copy serves them all. */
  private readonly staging = new Map<string, Promise<string | undefined>>();

  constructor(private readonly options: S3InstallerStoreOptions) {}

  stagingPath(environmentId: string, version: string): string {
    const dir = path.join(this.options.stagingDir, environmentId);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return path.join(dir, installerFileName(version));
  }

  async manifest(environmentId: string, version: string): Promise<InstallerManifest | undefined> {
    const key = this.key(environmentId, version, 'manifest.json');
    const object = await this.get(key);
    if (!object?.Body) return undefined;
    return JSON.parse(await object.Body.transformToString()) as InstallerManifest;
  }

  async publish(manifest: InstallerManifest): Promise<void> {
    const { environmentId, version, sha256, size } = manifest;
    const installerKey = this.key(environmentId, version, installerFileName(version));
    await this.put(installerKey, {
      Body: createReadStream(this.stagingPath(environmentId, version)),
      ContentLength: size,
      ContentType: 'application/octet-stream',
      // S3 refuses the upload unless the bytes it received have this checksum.
      ChecksumSHA256: Buffer.from(sha256, 'hex').toString('base64'),
      Metadata: { sha256 },
    });
    // Last: whoever finds the manifest finds a complete installer.
    await this.put(this.key(environmentId, version, 'manifest.json'), {
      Body: JSON.stringify(manifest, null, 2),
      ContentType: 'application/json',
    });
  }

  async stage(environmentId: string, version: string, sha256: string): Promise<string | undefined> {
    const key = `${environmentId}/${version}/${sha256}`;
    const running = this.staging.get(key);
    if (running) return running;
    const staged = this.copyToStaging(environmentId, version, sha256).finally(() => this.staging.delete(key));
    this.staging.set(key, staged);
    return staged;
  }

  private async copyToStaging(environmentId: string, version: string, sha256: string): Promise<string | undefined> {
    const local = this.stagingPath(environmentId, version);
    if ((await fileSha256(local)) === sha256) return local;
    const key = this.key(environmentId, version, installerFileName(version));
    const object = await this.get(key);
    if (!object?.Body) return undefined;
    const stored = object.Metadata?.sha256;
    if (stored && stored !== sha256) {
      (object.Body as Readable).destroy();
      throw ApplicationFailure.nonRetryable(
        `the installer ${version} of ${environmentId} no longer has the checksum recorded at onboarding; run the onboarding again`,
        FailureType.InstallerChanged,
      );
    }
    // Written aside and renamed when checked: a copy cut off (a killed worker) is never taken for the installer.
    const part = `${local}.${randomBytes(6).toString('hex')}.part`;
    const hash = createHash('sha256');
    const hashing = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(object.Body as Readable, hashing, createWriteStream(part, { mode: 0o600 }));
      const received = hash.digest('hex');
      if (received !== sha256) {
        throw ApplicationFailure.nonRetryable(
          `the installer ${version} of ${environmentId} in s3://${this.options.bucket}/${key} has checksum ${received}, not ${sha256} as stored; delete the object and run the onboarding again`,
          FailureType.InstallerStoreCorrupt,
        );
      }
      await rename(part, local);
    } finally {
      await rm(part, { force: true });
    }
    await rememberSha256(local, sha256);
    return local;
  }

  private key(environmentId: string, version: string, name: string): string {
    return `${this.options.prefix}${environmentId}/${version}/${name}`;
  }

  /** The object, or undefined when there is none under that key. */
  private async get(key: string) {
    try {
      return await this.guarded(key, () =>
        this.options.s3.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: key })),
      );
    } catch (err) {
      if ((err as { name?: string }).name === 'NoSuchKey') return undefined;
      throw err;
    }
  }

  private async put(key: string, object: Omit<PutObjectCommandInput, 'Bucket' | 'Key'>): Promise<void> {
    await this.guarded(key, () =>
      this.options.s3.send(new PutObjectCommand({ ...object, Bucket: this.options.bucket, Key: key })),
    );
  }

  /** AWS errors as Temporal failures; a missing bucket is a setting to fix, so it names the setting. */
  private async guarded<T>(key: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (name === 'NoSuchBucket') {
        throw ApplicationFailure.nonRetryable(
          `the installer bucket ${this.options.bucket} does not exist (AUTOPILOT_INSTALLER_BUCKET)`,
          FailureType.InstallerBucketMissing,
        );
      }
      if (name === 'NoSuchKey') throw err;
      throw asAwsFailure(err, `installer store s3://${this.options.bucket}/${key}`);
    }
  }
}
