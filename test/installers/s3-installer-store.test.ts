import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../src/aws/aws-clients.js';
import { ConfigError } from '../../src/config/config-error.js';
import { createInstallerStore } from '../../src/installers/create-installer-store.js';
import { FolderInstallerStore } from '../../src/installers/folder-installer-store.js';
import { installerFileName, type InstallerManifest } from '../../src/installers/installer-store.js';
import { S3InstallerStore } from '../../src/installers/s3-installer-store.js';
import { FailureType } from '../../src/shared/failure-types.js';
import { testAwsConfig } from '../helpers/aws.js';
import { failureOf } from '../helpers/simulator.js';

const VERSION = '1.301.0.20260301-000000';
const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

/** The S3 installer store against moto: what one worker publishes, every other worker can stage. */
describe('the shared installer store on S3 (moto)', () => {
  const s3 = createAwsClients(testAwsConfig()).s3;
  const bucket = `autopilot-installers-${randomBytes(4).toString('hex')}`;
  const prefix = 'oneagent-installers/';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-installer-store-'));
  /** One worker's store: the shared bucket, its own staging folder. */
  const worker = (name: string) => new S3InstallerStore({ s3, bucket, prefix, stagingDir: path.join(dir, name) });
  const installer = Buffer.from(`#!/bin/sh\n# ${'x'.repeat(300_000)}\necho installed\n`);

  /** What the onboarding does after a download from Dynatrace: the file in staging, then publish. */
  async function publishFrom(
    store: S3InstallerStore,
    environmentId: string,
    bytes: Buffer,
  ): Promise<InstallerManifest> {
    writeFileSync(store.stagingPath(environmentId, VERSION), bytes);
    const manifest: InstallerManifest = {
      environmentId,
      version: VERSION,
      fileName: installerFileName(VERSION),
      sha256: sha256(bytes),
      size: bytes.length,
      etag: `"${sha256(bytes)}"`,
      signature: 'shape-checked',
      downloadedAt: new Date().toISOString(),
    };
    await store.publish(manifest);
    return manifest;
  }

  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('publishes the installer, then its manifest; another worker stages the same bytes into its own folder', async () => {
    const first = worker('worker-1');
    expect(await first.manifest('str-p1', VERSION)).toBeUndefined();
    const manifest = await publishFrom(first, 'str-p1', installer);

    const object = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: `${prefix}str-p1/${VERSION}/${installerFileName(VERSION)}` }),
    );
    expect(Buffer.from(await object.Body!.transformToByteArray()).equals(installer)).toBe(true);
    expect(object.Metadata).toMatchObject({ sha256: manifest.sha256 });

    const second = worker('worker-2');
    expect(await second.manifest('str-p1', VERSION)).toEqual(manifest);
    const staged = await second.stage('str-p1', VERSION, manifest.sha256);
    expect(staged).toBe(path.join(dir, 'worker-2', 'str-p1', installerFileName(VERSION)));
    expect(readFileSync(staged!).equals(installer)).toBe(true);
    expect(readdirSync(path.dirname(staged!))).toEqual([installerFileName(VERSION)]);

    // Staged once, served locally from then on: the bucket is not asked again.
    await s3.send(
      new DeleteObjectCommand({ Bucket: bucket, Key: `${prefix}str-p1/${VERSION}/${installerFileName(VERSION)}` }),
    );
    expect(await second.stage('str-p1', VERSION, manifest.sha256)).toBe(staged);
    // A third worker finds nothing to stage: the caller falls back to Dynatrace.
    expect(await worker('worker-3').stage('str-p1', VERSION, manifest.sha256)).toBeUndefined();
  });

  it('hosts installing at once on one worker share one copy from the bucket', async () => {
    const manifest = await publishFrom(worker('publisher'), 'par-p1', installer);
    const counted = createAwsClients(testAwsConfig()).s3;
    const gets: string[] = [];
    counted.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'GetObjectCommand') gets.push((args.input as { Key: string }).Key);
        return next(args);
      },
      { step: 'initialize' },
    );
    const store = new S3InstallerStore({ s3: counted, bucket, prefix, stagingDir: path.join(dir, 'busy') });
    const staged = await Promise.all(Array.from({ length: 5 }, () => store.stage('par-p1', VERSION, manifest.sha256)));
    expect(new Set(staged)).toEqual(new Set([path.join(dir, 'busy', 'par-p1', installerFileName(VERSION))]));
    expect(gets).toEqual([`${prefix}par-p1/${VERSION}/${installerFileName(VERSION)}`]);
  });

  it('refuses an object whose bytes differ from its checksum, and leaves nothing in staging', async () => {
    const manifest = await publishFrom(worker('publisher'), 'crp-p1', installer);
    const tampered = Buffer.from(installer.toString().replace('echo installed', 'echo tampered!'));
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: `${prefix}crp-p1/${VERSION}/${installerFileName(VERSION)}`,
        Body: tampered,
        Metadata: { sha256: manifest.sha256 },
      }),
    );
    const reader = worker('reader');
    const failure = await failureOf(() => reader.stage('crp-p1', VERSION, manifest.sha256));
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: FailureType.InstallerStoreCorrupt, nonRetryable: true });
    expect(failure.message).toContain(`has checksum ${sha256(tampered)}, not ${manifest.sha256}`);
    expect(readdirSync(path.join(dir, 'reader', 'crp-p1'))).toEqual([]);
  });

  it('an installer stored with another checksum than the host was planned with means the onboarding changed it', async () => {
    await publishFrom(worker('publisher'), 'chg-p1', installer);
    const failure = await failureOf(() =>
      worker('reader').stage('chg-p1', VERSION, sha256('the build onboarded before')),
    );
    expect(failure).toMatchObject({ type: FailureType.InstallerChanged, nonRetryable: true });
  });

  it('a bucket that does not exist is an error naming the setting', async () => {
    const missing = new S3InstallerStore({ s3, bucket: `${bucket}-gone`, prefix, stagingDir: path.join(dir, 'x') });
    const failure = await failureOf(() => missing.manifest('any-p1', VERSION));
    expect(failure).toMatchObject({ type: FailureType.InstallerBucketMissing, nonRetryable: true });
    expect(failure.message).toBe(`the installer bucket ${bucket}-gone does not exist (AUTOPILOT_INSTALLER_BUCKET)`);
  });

  it('the bucket setting chooses the S3 store; without it the folder store; a bucket without AWS is refused', () => {
    expect(createInstallerStore({ bucket, prefix, localDir: dir, s3 })).toBeInstanceOf(S3InstallerStore);
    expect(createInstallerStore({ bucket: undefined, prefix, localDir: dir, s3 })).toBeInstanceOf(FolderInstallerStore);
    expect(() => createInstallerStore({ bucket, prefix, localDir: dir, s3: undefined })).toThrow(ConfigError);
    expect(() => createInstallerStore({ bucket, prefix, localDir: dir, s3: undefined })).toThrow(
      /AUTOPILOT_INSTALLER_BUCKET/,
    );
  });

  it('the folder store offers a manifest only while its file has the recorded checksum', async () => {
    const store = new FolderInstallerStore(path.join(dir, 'folder'));
    const file = store.stagingPath('fld-p1', VERSION);
    writeFileSync(file, installer);
    const manifest: InstallerManifest = {
      environmentId: 'fld-p1',
      version: VERSION,
      fileName: installerFileName(VERSION),
      sha256: sha256(installer),
      size: installer.length,
      signature: 'shape-checked',
      downloadedAt: new Date().toISOString(),
    };
    await store.publish(manifest);
    expect(await store.manifest('fld-p1', VERSION)).toEqual(manifest);
    expect(await store.stage('fld-p1', VERSION, manifest.sha256)).toBe(file);
    writeFileSync(file, 'truncated');
    expect(await store.manifest('fld-p1', VERSION)).toBeUndefined();
    expect(await store.stage('fld-p1', VERSION, manifest.sha256)).toBeUndefined();
    expect(existsSync(`${file}.json`)).toBe(true);
  });
});
