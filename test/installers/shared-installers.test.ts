import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../src/aws/aws-clients.js';
import { startEnrollment } from '../../src/client/start-enrollment.js';
import { startOnboarding } from '../../src/client/start-onboarding.js';
import { installerFileName } from '../../src/installers/installer-store.js';
import { S3InstallerStore } from '../../src/installers/s3-installer-store.js';
import type { HostEnrollmentInput } from '../../src/shared/enrollment.js';
import { startTestbed, type Testbed } from '../helpers/autopilot.js';
import { testAwsConfig } from '../helpers/aws.js';

/**
 * Workers that share nothing but services: each has its own staging folder, all share one bucket
 * (moto). Whichever worker runs which step, Dynatrace serves each installer version once.
 */
describe('workers sharing the installer bucket', () => {
  let tb: Testbed;
  const s3 = createAwsClients(testAwsConfig()).s3;
  const bucket = `autopilot-shared-installers-${randomBytes(4).toString('hex')}`;
  /** A worker of its own: the shared bucket (under `prefix`), its own staging folder. */
  const workerStore = (name: string, prefix = 'oneagent-installers/') =>
    new S3InstallerStore({ s3, bucket, prefix, stagingDir: path.join(tb.dir, name, 'installers') });
  const host = (hostname: string): HostEnrollmentInput => ({
    hostname,
    address: '127.0.0.1',
    customer: 'shr',
    stage: 'p1',
    executor: 'local',
    timeouts: { reporting: '30 seconds', install: '1 minute', retryWindow: '1 minute' },
  });
  const downloads = async () => (await tb.dt.stats()).byEnvironment['shr-p1']?.installerDownloads ?? 0;
  let sha256: string;
  let version: string;

  beforeAll(async () => {
    tb = await startTestbed();
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  afterAll(async () => {
    await tb.teardown();
  });

  it('one worker onboards, another installs on a host: one installer download from Dynatrace', async () => {
    const onboarding = await tb.worker({ installers: workerStore('worker-1') });
    const onboarded = await onboarding.runUntil(async () =>
      (await startOnboarding(tb.env.client, { customer: 'shr', stage: 'p1' }, { taskQueue: tb.taskQueue })).result(),
    );
    ({ sha256, version } = onboarded.installer!);
    expect(await downloads()).toBe(1);

    const installing = await tb.worker({ installers: workerStore('worker-2') });
    const enrolled = await installing.runUntil(async () =>
      (await startEnrollment(tb.env.client, host('shr-vm-1'), { taskQueue: tb.taskQueue })).result(),
    );
    expect(enrolled).toMatchObject({ outcome: 'installed', version });
    expect(await downloads()).toBe(1);
    // The second worker served the host from its own staging, which it checked against the checksum.
    const staged = readFileSync(path.join(tb.dir, 'worker-2', 'installers', 'shr-p1', installerFileName(version)));
    expect(createHash('sha256').update(staged).digest('hex')).toBe(sha256);
  });

  it('an onboarding again on the other worker is a 304 against the shared manifest, not a download', async () => {
    const before = await tb.dt.stats();
    const worker = await tb.worker({ installers: workerStore('worker-2') });
    const again = await worker.runUntil(async () => {
      const handle = await startOnboarding(
        tb.env.client,
        { customer: 'shr', stage: 'p1' },
        { taskQueue: tb.taskQueue },
      );
      return handle.result();
    });
    expect(again.installer).toMatchObject({ version, sha256 });
    const after = await tb.dt.stats();
    expect(after.installerDownloads).toBe(before.installerDownloads);
    expect(after.installerNotModified).toBe(before.installerNotModified + 1);
  });

  it('a bucket without the installer (filled before it was shared): the installing worker downloads it once and puts it there', async () => {
    const worker3 = await tb.worker({ installers: workerStore('worker-3', 'older/') });
    const third = await worker3.runUntil(async () =>
      (await startEnrollment(tb.env.client, host('shr-vm-2'), { taskQueue: tb.taskQueue })).result(),
    );
    expect(third).toMatchObject({ outcome: 'installed', version });
    expect(await downloads()).toBe(2);
    expect(await workerStore('anyone', 'older/').manifest('shr-p1', version)).toMatchObject({ version, sha256 });

    const worker4 = await tb.worker({ installers: workerStore('worker-4', 'older/') });
    const fourth = await worker4.runUntil(async () =>
      (await startEnrollment(tb.env.client, host('shr-vm-3'), { taskQueue: tb.taskQueue })).result(),
    );
    expect(fourth).toMatchObject({ outcome: 'installed', version });
    expect(await downloads()).toBe(2);
  });
});
