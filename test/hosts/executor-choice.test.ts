import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEnrollment } from '../../src/client/start-enrollment.js';
import { startFleet } from '../../src/client/start-fleet.js';
import { createExecutors } from '../../src/hosts/create-executors.js';
import { FileSecretStore } from '../../src/secrets/file-secret-store.js';
import type { HostEnrollmentInput } from '../../src/shared/enrollment.js';
import { FailureType } from '../../src/shared/failure-types.js';
import { enrollmentWorkflowId } from '../../src/shared/enrollment.js';
import { onboardWorkflowId } from '../../src/shared/onboarding.js';
import { startupWarnings } from '../../src/workers/startup-warnings.js';
import { startTestbed, type Testbed } from '../helpers/autopilot.js';
import { testConfig, workflowExists } from '../helpers/temporal.js';

/**
 * `executor: 'local'` runs the installer on the worker's own machine. A production worker (not the
 * sandbox, SSH by default) refuses it from any input before anything runs on any machine; only its
 * operator can make `local` its executor (AUTOPILOT_HOST_EXECUTOR=local), and then it says so.
 */
describe('a production worker refuses the local executor from workflow input', () => {
  let tb: Testbed;
  /** The local executor's world: one folder per "host" it ran anything on. */
  let hostsDir: string;
  const hostsTouched = () => (existsSync(hostsDir) ? readdirSync(hostsDir) : []);
  const host = (hostname: string): HostEnrollmentInput => ({
    hostname,
    address: '127.0.0.1',
    customer: 'lxr',
    stage: 'p1',
    executor: 'local',
    timeouts: { reporting: '30 seconds', install: '1 minute', retryWindow: '1 minute' },
  });

  beforeAll(async () => {
    tb = await startTestbed({ sandbox: false, executors: { default: 'ssh' } });
    hostsDir = path.join(tb.dir, 'hosts');
  });
  afterAll(async () => {
    await tb.teardown();
  });

  it('HostEnrollment with executor local: fails as LocalExecutorRefused before it waits for its environment, nothing ran', async () => {
    expect(tb.deps.executors).toMatchObject({ default: 'ssh', localAllowed: false });
    expect(tb.deps.installerTrust).toEqual({ check: 'verify', caFile: tb.dt.simulator.installerCaFile });
    const worker = await tb.worker();
    const failure = await worker.runUntil(async () => {
      const handle = await startEnrollment(tb.env.client, host('lxr-vm-1'), { taskQueue: tb.taskQueue });
      return handle.result().then(
        () => undefined,
        (err: unknown) => err,
      );
    });
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const cause = ((failure as WorkflowFailedError).cause as ActivityFailure).cause as ApplicationFailure;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect(cause).toMatchObject({ type: FailureType.LocalExecutorRefused, nonRetryable: true });
    expect(cause.message).toContain("executor 'local' is refused");
    expect(cause.message).toContain('AUTOPILOT_HOST_EXECUTOR=local');
    // Nothing ran on this machine as a host, and the environment was not even onboarded for it.
    expect(hostsTouched()).toEqual([]);
    expect(tb.dt.simulator.state.environments.has('lxr-p1')).toBe(false);
  });

  it('EnrollFleet with executor local: the fleet fails with LocalExecutorRefused before any onboarding or host enrollment', async () => {
    const inventory = await tb.deps.inventories.put([
      { hostname: 'lxf-vm-1', address: '127.0.0.1', customer: 'lxf', stage: 'p1', os: 'linux' },
      { hostname: 'lxf-vm-2', address: '127.0.0.1', customer: 'lxf', stage: 'p1', os: 'linux' },
    ]);
    const worker = await tb.worker();
    const { failure, started } = await worker.runUntil(async () => {
      const handle = await startFleet(tb.env.client, inventory, { taskQueue: tb.taskQueue, executor: 'local' });
      const failure = await handle.result().then(
        () => undefined,
        (err: unknown) => err,
      );
      const ids = [
        onboardWorkflowId('lxf-p1'),
        ...['lxf-vm-1', 'lxf-vm-2'].map((h) => enrollmentWorkflowId('lxf-p1', h)),
      ];
      const started: string[] = [];
      for (const id of ids) {
        if (await workflowExists(tb.env.client, id)) started.push(id);
      }
      return { failure, started };
    });
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const activity = (failure as WorkflowFailedError).cause;
    expect(activity).toBeInstanceOf(ActivityFailure);
    const cause = (activity as ActivityFailure).cause as ApplicationFailure;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect(cause.type).toBe(FailureType.LocalExecutorRefused);
    expect(cause.nonRetryable).toBe(true);
    expect(started).toEqual([]);
    // The environment was not even created: the refusal came before the onboarding.
    expect(tb.dt.simulator.state.environments.has('lxf-p1')).toBe(false);
    expect(hostsTouched()).toEqual([]);
  });

  it('a worker whose operator set AUTOPILOT_HOST_EXECUTOR=local takes executor local (the production topology and the benchmarks)', async () => {
    const worker = await tb.worker({ executors: { ...tb.deps.executors, default: 'local', localAllowed: true } });
    const result = await worker.runUntil(async () =>
      (
        await startEnrollment(tb.env.client, { ...host('lxo-vm-1'), customer: 'lxo' }, { taskQueue: tb.taskQueue })
      ).result(),
    );
    expect(result).toMatchObject({ outcome: 'installed', environmentId: 'lxo-p1' });
    expect(existsSync(path.join(hostsDir, 'lxo-vm-1', 'oneagent', 'agent', 'installer.version'))).toBe(true);
  });
});

describe('how a worker chooses its executors from its configuration', () => {
  const secrets = new FileSecretStore(
    mkdtempSync(path.join(os.tmpdir(), 'autopilot-executor-choice-')),
    randomBytes(32),
  );
  const cluster = { DT_CLUSTER_URL: 'https://managed.example.com', DT_CLUSTER_TOKEN: 'unused' };

  it('outside the sandbox: ssh unless the operator says local, and then a warning at every start', () => {
    const production = testConfig(cluster);
    expect(createExecutors(production, secrets, { sandbox: false })).toMatchObject({
      default: 'ssh',
      localAllowed: false,
    });
    expect(createExecutors(production, secrets, { sandbox: false }).local).toBeUndefined();
    expect(startupWarnings(production, { sandbox: false }).join('\n')).not.toContain('AUTOPILOT_HOST_EXECUTOR');

    // Without a cluster URL (a clusters file, or SaaS only) it is still ssh: only the sandbox defaults to local.
    expect(createExecutors(testConfig(), secrets, { sandbox: false })).toMatchObject({
      default: 'ssh',
      localAllowed: false,
    });

    const simulated = testConfig({ ...cluster, AUTOPILOT_HOST_EXECUTOR: 'local' });
    const executors = createExecutors(simulated, secrets, { sandbox: false });
    expect(executors).toMatchObject({ default: 'local', localAllowed: true });
    expect(executors.local).toBeDefined();
    expect(startupWarnings(simulated, { sandbox: false })).toContainEqual(
      expect.stringMatching(/^AUTOPILOT_HOST_EXECUTOR=local: this worker runs OneAgent installers on its own machine/),
    );
  });

  it('in the sandbox: local by default, and nothing to warn about', () => {
    const sandbox = testConfig();
    expect(createExecutors(sandbox, secrets, { sandbox: true })).toMatchObject({
      default: 'local',
      localAllowed: true,
    });
    expect(startupWarnings(sandbox, { sandbox: true })).toEqual([]);
  });
});
