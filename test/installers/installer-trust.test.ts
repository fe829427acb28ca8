import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEnrollment } from '../../src/client/start-enrollment.js';
import { startOnboarding } from '../../src/client/start-onboarding.js';
import type { InstallerTrust } from '../../src/installers/installer-trust.js';
import type { HostEnrollmentInput } from '../../src/shared/enrollment.js';
import { FailureType } from '../../src/shared/failure-types.js';
import { onboardWorkflowId, type OnboardCustomerResult } from '../../src/shared/onboarding.js';
import type { WorkflowProgress } from '../../src/shared/progress.js';
import { progressQuery, retrySignal } from '../../src/workflows/shared/operator-controls.js';
import { startTestbed, type Testbed } from '../helpers/autopilot.js';
import { spawnEntryPoint, type SpawnedProcess } from '../helpers/processes.js';
import { startTestCluster, type TestCluster } from '../helpers/simulator.js';
import { uniqueTaskQueue } from '../helpers/temporal.js';
import { until } from '../helpers/until.js';
import { workerProcessEnv } from '../helpers/worker-process.js';

/**
 * A production worker runs an installer as root on hosts only when its signature verifies against
 * DT_INSTALLER_CA_FILE. Without a CA there is nothing to verify against, and every installer is
 * refused unless the operator accepted shape-only checks. The forgeries are the simulator's
 * (`installerForgery`): a signature by another certificate, and a script altered after signing;
 * both still have a signature of the right shape.
 */
describe("a production worker's installers", () => {
  let tb: Testbed;
  let verifying: InstallerTrust;
  const shapeOnly: InstallerTrust = { check: 'shape-only', acceptedBy: 'operator' };
  /** The local executor's world: one folder per "host" (this worker's operator made `local` its executor). */
  const hostsDir = () => path.join(tb.dir, 'hosts');
  const hostsTouched = () => (existsSync(hostsDir()) ? readdirSync(hostsDir()) : []);
  const agentOn = (hostname: string) =>
    existsSync(path.join(hostsDir(), hostname, 'oneagent', 'agent', 'installer.version'));
  /** What the installer store (a folder here) holds for an environment. */
  const stored = (environmentId: string) => {
    const dir = path.join(tb.dir, 'installers', environmentId);
    return existsSync(dir) ? readdirSync(dir) : [];
  };
  const downloads = async (environmentId: string) =>
    (await tb.dt.stats()).byEnvironment[environmentId]?.installerDownloads ?? 0;
  const host = (customer: string, hostname: string): HostEnrollmentInput => ({
    hostname,
    address: '127.0.0.1',
    customer,
    stage: 'p1',
    timeouts: { reporting: '30 seconds', install: '1 minute', retryWindow: '1 minute' },
  });
  const attentionOf = (handle: WorkflowHandle, step: string, attempts = 1) =>
    until(`${handle.workflowId} to need attention at ${step} (attempt ${attempts})`, async () => {
      const progress: WorkflowProgress = await handle.query(progressQuery);
      const at = progress.steps.find((s) => s.name === step);
      return progress.attention?.step === step && at!.attempts >= attempts ? progress.attention : undefined;
    });

  beforeAll(async () => {
    // Not the sandbox; hosts are folders of this machine because the operator configured it so.
    tb = await startTestbed({
      sandbox: false,
      executors: { default: 'local' },
      installerTrust: { check: 'unverifiable' },
    });
    verifying = { check: 'verify', caFile: tb.dt.simulator.installerCaFile };
  });
  afterEach(() => {
    tb.dt.simulator.setKnobs({ installerForgery: 'none' });
  });
  afterAll(async () => {
    await tb.teardown();
  });

  it('without DT_INSTALLER_CA_FILE (verify mode): a forged installer is refused before it is downloaded; nothing stored, nothing installed', async () => {
    expect(tb.deps.installerTrust).toEqual({ check: 'unverifiable' });
    tb.dt.simulator.setKnobs({ installerForgery: 'foreign-signature' });
    const worker = await tb.worker();
    const { attention, enrollment } = await worker.runUntil(async () => {
      // The host's enrollment starts its environment's onboarding, and waits for it.
      const enrolling = await startEnrollment(tb.env.client, host('itn', 'itn-vm-1'), { taskQueue: tb.taskQueue });
      const onboarding = tb.env.client.workflow.getHandle(onboardWorkflowId('itn-p1'));
      const attention = await attentionOf(onboarding, 'installer');
      return { attention, enrollment: await enrolling.query(progressQuery) };
    });
    expect(attention).toMatchObject({
      step: 'installer',
      failureType: FailureType.InstallerSignatureUnverifiable,
      allowed: ['retry', 'skip', 'abort'],
    });
    expect(attention.reason).toContain('the installer of itn-p1 is refused');
    expect(attention.reason).toContain('set DT_INSTALLER_CA_FILE');
    expect(attention.reason).toContain('AUTOPILOT_INSTALLER_SIGNATURE=shape-only');
    expect(enrollment.steps.find((s) => s.name === 'environment')).toMatchObject({ status: 'running' });
    expect(enrollment.steps.find((s) => s.name === 'install')).toMatchObject({ status: 'pending' });
    expect(await downloads('itn-p1')).toBe(0);
    expect(stored('itn-p1')).toEqual([]);
    expect(hostsTouched()).toEqual([]);
  });

  it('with the CA: an installer signed by another certificate, then one altered after signing, are refused; the genuine one is verified and installed', async () => {
    tb.dt.simulator.setKnobs({ installerForgery: 'foreign-signature' });
    const worker = await tb.worker({ installerTrust: verifying });
    await worker.runUntil(async () => {
      const enrolling = await startEnrollment(tb.env.client, host('itc', 'itc-vm-1'), { taskQueue: tb.taskQueue });
      const onboarding = tb.env.client.workflow.getHandle<() => Promise<OnboardCustomerResult>>(
        onboardWorkflowId('itc-p1'),
      );

      const foreign = await attentionOf(onboarding, 'installer');
      expect(foreign).toMatchObject({ failureType: FailureType.InstallerSignatureInvalid });
      expect(foreign.reason).toContain('fails signature verification against DT_INSTALLER_CA_FILE');
      expect(stored('itc-p1')).toEqual([]);
      expect(hostsTouched()).not.toContain('itc-vm-1');

      tb.dt.simulator.setKnobs({ installerForgery: 'altered-after-signing' });
      await onboarding.signal(retrySignal, { reason: 'try again' });
      const altered = await attentionOf(onboarding, 'installer', 2);
      expect(altered).toMatchObject({ failureType: FailureType.InstallerSignatureInvalid });
      expect(stored('itc-p1')).toEqual([]);
      expect(hostsTouched()).not.toContain('itc-vm-1');
      expect(await downloads('itc-p1')).toBe(2);

      tb.dt.simulator.setKnobs({ installerForgery: 'none' });
      await onboarding.signal(retrySignal, { reason: 'the genuine installer is served again' });
      const onboarded = await onboarding.result();
      expect(onboarded.installer).toMatchObject({ signature: 'verified' });
      expect(await enrolling.result()).toMatchObject({ outcome: 'installed', environmentId: 'itc-p1' });
    });
    expect(agentOn('itc-vm-1')).toBe(true);
  });

  it('shape-only accepted by the operator: the installer is checked by its shape and installed', async () => {
    const worker = await tb.worker({ installerTrust: shapeOnly });
    const enrolled = await worker.runUntil(async () => {
      const result = await (
        await startEnrollment(tb.env.client, host('its', 'its-vm-1'), { taskQueue: tb.taskQueue })
      ).result();
      const onboarded = await tb.env.client.workflow
        .getHandle<() => Promise<OnboardCustomerResult>>(onboardWorkflowId('its-p1'))
        .result();
      return { result, onboarded };
    });
    expect(enrolled.result).toMatchObject({ outcome: 'installed' });
    expect(enrolled.onboarded).toMatchObject({ installer: { signature: 'shape-checked' } });
    expect(agentOn('its-vm-1')).toBe(true);
  });

  it('a verifying worker does not run a forged installer that a shape-only worker put in the store', async () => {
    // The shape-only worker takes an installer altered after signing: its shape is right.
    tb.dt.simulator.setKnobs({ installerForgery: 'altered-after-signing' });
    const lax = await tb.worker({ installerTrust: shapeOnly });
    const onboarded = await lax.runUntil(async () =>
      (await startOnboarding(tb.env.client, { customer: 'itm', stage: 'p1' }, { taskQueue: tb.taskQueue })).result(),
    );
    expect(onboarded.installer).toMatchObject({ signature: 'shape-checked' });
    expect(stored('itm-p1')).toHaveLength(2);
    tb.dt.simulator.setKnobs({ installerForgery: 'none' });

    const strict = await tb.worker({ installerTrust: verifying });
    const attention = await strict.runUntil(async () => {
      const enrolling = await startEnrollment(tb.env.client, host('itm', 'itm-vm-1'), { taskQueue: tb.taskQueue });
      return attentionOf(enrolling, 'install');
    });
    expect(attention).toMatchObject({ failureType: FailureType.InstallerSignatureInvalid });
    expect(attention.reason).toContain(
      `the installer ${onboarded.installer!.version} of itm-p1 fails signature verification`,
    );
    expect(agentOn('itm-vm-1')).toBe(false);
    // The forged copy is gone from the store: no later install finds it by its checksum.
    expect(stored('itm-p1').filter((f) => f.endsWith('.sh'))).toEqual([]);
  });
});

/** What an operator sees when a worker process starts: the warnings, or one line naming the variable. */
describe('a worker process on installer and host settings', () => {
  let dt: TestCluster;
  let worker: SpawnedProcess | undefined;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-installer-trust-'));

  beforeAll(async () => {
    // Over https: a worker process is production and takes no plain-http cluster.
    dt = await startTestCluster({ tls: true });
  });
  afterAll(async () => {
    worker?.child.kill('SIGKILL');
    await worker?.exit;
    await dt?.stop();
  });

  it('warns at start when installers are only shape-checked and run on its own machine', async () => {
    const env = await workerProcessEnv(
      { namespace: 'installer-trust-test', taskQueue: uniqueTaskQueue('installer-trust'), dt, dir },
      {
        DT_INSTALLER_CA_FILE: undefined,
        AUTOPILOT_INSTALLER_SIGNATURE: 'shape-only',
        AUTOPILOT_HOST_EXECUTOR: 'local',
        AUTOPILOT_LOCAL_HOSTS_DIR: path.join(dir, 'hosts'),
      },
    );
    worker = spawnEntryPoint('src/workers/main.ts', env);
    await worker.waitForOutput(/"msg":"Worker started"/, 60_000);
    const warnings = worker
      .stdout()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: string; msg: string })
      .filter((l) => l.level === 'WARN')
      .map((l) => l.msg);
    expect(warnings).toContainEqual(
      expect.stringMatching(/^AUTOPILOT_INSTALLER_SIGNATURE=shape-only: OneAgent installers are not verified/),
    );
    expect(warnings).toContainEqual(
      expect.stringMatching(/^AUTOPILOT_HOST_EXECUTOR=local: this worker runs OneAgent installers on its own machine/),
    );
  });

  it('a DT_INSTALLER_CA_FILE that cannot be read stops the start with one line naming it', async () => {
    const env = await workerProcessEnv(
      // A folder of its own: the first worker still holds its embedded database.
      {
        namespace: 'installer-trust-test',
        taskQueue: uniqueTaskQueue('installer-trust'),
        dt,
        dir: path.join(dir, 'b'),
      },
      { DT_INSTALLER_CA_FILE: path.join(dir, 'no-such-ca.pem') },
    );
    const failing = spawnEntryPoint('src/workers/main.ts', env);
    expect(await failing.exit).toMatchObject({ code: 2 });
    expect(failing.stderr()).toMatch(/autopilot worker: Invalid configuration: DT_INSTALLER_CA_FILE cannot be read/);
  });
});
