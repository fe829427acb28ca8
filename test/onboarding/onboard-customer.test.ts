import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOnboarding } from '../../src/client/start-onboarding.js';
import { FileSecret } from '../../src/config/secret.js';
import { collect } from '../../src/dynatrace/pagination.js';
import { secretRefs } from '../../src/secrets/secret-store.js';
import { ONBOARD_CUSTOMER } from '../../src/shared/onboarding.js';
import { AUTOPILOT_PHASE, DT_CUSTOMER, DT_ENVIRONMENT_ID } from '../../src/shared/search-attributes.js';
import { decideUpdate, progressQuery, retrySignal } from '../../src/workflows/shared/operator-controls.js';
import { startTestbed, testDynatraceAccess, type Testbed } from '../helpers/autopilot.js';
import { recordHistory } from '../helpers/temporal.js';
import { FailureType } from '../../src/shared/failure-types.js';

/** The reason a workflow update was rejected by its validator. */
async function updateRejection(update: Promise<unknown>): Promise<string> {
  try {
    await update;
  } catch (err) {
    expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
    return (err as WorkflowUpdateFailedError).cause?.message ?? '';
  }
  throw new Error('the update was accepted');
}

const waitFor = async (check: () => Promise<boolean>, timeoutMs = 20_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
};

/** Token management for the test's own look at an environment's tokens (short-lived, from the cluster token). */
async function setupTokens(tb: Testbed, environmentId: string) {
  const tmt = await tb.dt.client
    .cluster(tb.dt.clusterToken)
    .createTokenManagementToken(environmentId, { name: 'test look', expiresInSeconds: 600 });
  return tb.dt.client.environment(environmentId, tmt).tokens;
}

describe('OnboardCustomer on the real Temporal server against the simulator', () => {
  let tb: Testbed;
  beforeAll(async () => {
    tb = await startTestbed();
  });
  afterAll(async () => {
    await tb.teardown();
  });

  it('first run: one environment, two groups, one token per purpose, one installer download', async () => {
    const worker = await tb.worker();
    const handle = await startOnboarding(tb.env.client, { customer: 'abc', stage: 'p1' }, { taskQueue: tb.taskQueue });
    expect(handle.workflowId).toBe('onboard:abc-p1');
    // Queries replay on a worker, so they are asked while it runs.
    const [result, progress] = await worker.runUntil(async () => {
      const r = await handle.result();
      return [r, await handle.query(progressQuery)] as const;
    });

    expect(result).toMatchObject({
      environmentId: 'abc-p1',
      environmentUrl: `${tb.dt.simulator.url}/e/abc-p1`,
      createdEnvironment: true,
      groups: [
        { name: 'abc-admins', action: 'created' },
        { name: 'abc-viewers', action: 'created' },
      ],
      installer: { version: expect.stringMatching(/^1\.\d+/), signature: 'shape-checked' },
      secrets: {
        installerDownload: 'dynatrace/abc-p1/installer-download-token',
        automation: 'dynatrace/abc-p1/automation-token',
      },
      notifications: { status: 'skipped' },
      enrollment: { hostGroup: 'abc-p1', monitoringMode: 'fullstack' },
      skippedSteps: [],
    });
    const stats = await tb.dt.stats();
    expect(stats.created.environments).toBe(1);
    expect(stats.created.groups).toBe(2);
    expect(stats.byEnvironment['abc-p1']).toMatchObject({ apiTokensCreated: 2, installerDownloads: 1 });
    // No standing admin credential: the short-lived token-management token is gone, none is stored.
    expect(result.secrets.tokenManagement).toBeUndefined();
    expect(await tb.deps.secrets.get(secretRefs.tokenManagementToken('abc-p1'))).toBeUndefined();
    const tokens = await collect((await setupTokens(tb, 'abc-p1')).list());
    expect(tokens.filter((t) => t.scopes?.includes('InstallerDownload'))).toHaveLength(1);
    expect(tokens.filter((t) => t.scopes?.includes('apiTokens.write'))).toHaveLength(1); // the test's own
    expect(await tb.registry.get('abc-p1')).toMatchObject({
      kind: 'managed',
      cluster: 'default',
      apiUrl: `${tb.dt.simulator.url}/e/abc-p1`,
      source: 'onboarded',
      customer: 'abc',
      stage: 'p1',
      state: 'active',
      tokens: [
        { purpose: 'installer-download', state: 'current', mintedByUs: true, scopes: ['InstallerDownload'] },
        { purpose: 'automation', state: 'current', mintedByUs: true },
      ],
    });

    const groups = await tb.dt.client.cluster(tb.dt.clusterToken).listGroups();
    expect(groups.find((g) => g.name === 'abc-admins')?.accessRight).toEqual({
      VIEWER: ['abc-p1'],
      MANAGE_SETTINGS: ['abc-p1'],
      AGENT_INSTALL: ['abc-p1'],
      LOG_VIEWER: ['abc-p1'],
    });

    const description = await handle.describe();
    expect(description.typedSearchAttributes.get(DT_ENVIRONMENT_ID)).toBe('abc-p1');
    expect(description.typedSearchAttributes.get(DT_CUSTOMER)).toBe('abc');
    expect(description.typedSearchAttributes.get(AUTOPILOT_PHASE)).toBe('Completed');
    expect(progress.steps.map((s) => [s.name, s.status])).toEqual([
      ['environment', 'done'],
      ['token-management', 'done'],
      ['groups', 'done'],
      ['installer-token', 'done'],
      ['automation-token', 'done'],
      ['installer', 'done'],
      ['notifications', 'done'],
    ]);
    await recordHistory(handle, 'onboard-customer-first-run');
  });

  it('a second run changes nothing: no new environment, group, token or download', async () => {
    const before = await tb.dt.stats();
    const worker = await tb.worker();
    const handle = await startOnboarding(tb.env.client, { customer: 'abc', stage: 'p1' }, { taskQueue: tb.taskQueue });
    const [result, progress] = await worker.runUntil(async () => {
      const r = await handle.result();
      return [r, await handle.query(progressQuery)] as const;
    });
    expect(result.createdEnvironment).toBe(false);
    expect(result.groups.map((g) => g.action)).toEqual(['unchanged', 'unchanged']);
    const after = await tb.dt.stats();
    expect(after.created).toEqual(before.created);
    expect(after.installerDownloads).toBe(before.installerDownloads);
    expect(after.installerNotModified).toBe(before.installerNotModified + 1);
    expect(progress.steps.find((s) => s.name === 'installer-token')?.detail).toMatch(/^reused /);
  });

  it('two concurrent starts attach to one run and create everything once', async () => {
    const worker = await tb.worker();
    await worker.runUntil(async () => {
      const [a, b] = await Promise.all([
        startOnboarding(tb.env.client, { customer: 'xyz', stage: 'p1' }, { taskQueue: tb.taskQueue }),
        startOnboarding(tb.env.client, { customer: 'xyz', stage: 'p1' }, { taskQueue: tb.taskQueue }),
      ]);
      expect(a.firstExecutionRunId).toBe(b.firstExecutionRunId);
      await a.result();
    });
    const stats = await tb.dt.stats();
    expect(stats.byEnvironment['xyz-p1']).toMatchObject({
      environmentsCreated: 1,
      apiTokensCreated: 2,
      installerDownloads: 1,
    });
    expect(stats.created.groups).toBe(4);
  });

  it('merges rights into a group that already grants other environments', async () => {
    const cluster = tb.dt.client.cluster(tb.dt.clusterToken);
    await cluster.putEnvironment('mrg-t1', { name: 'test stage' });
    await cluster.createGroup({ name: 'mrg-viewers', accessRight: { VIEWER: ['mrg-t1'] }, ldapGroupNames: ['cn=mrg'] });
    const worker = await tb.worker();
    const result = await worker.runUntil(
      (
        await startOnboarding(
          tb.env.client,
          { customer: 'mrg', stage: 'p1', ldapGroups: { admins: [], viewers: ['cn=mrg-prod'] } },
          { taskQueue: tb.taskQueue },
        )
      ).result(),
    );
    expect(result.groups.find((g) => g.name === 'mrg-viewers')?.action).toBe('updated');
    const viewers = (await cluster.listGroups()).find((g) => g.name === 'mrg-viewers')!;
    expect(viewers.accessRight).toEqual({ VIEWER: ['mrg-t1', 'mrg-p1'] });
    expect(viewers.ldapGroupNames).toEqual(['cn=mrg', 'cn=mrg-prod']);
  });

  it('rotates an installer token that is about to expire; the one it replaces is revoked after its grace', async () => {
    const worker = await tb.worker();
    await worker.runUntil(async () => {
      await (
        await startOnboarding(
          tb.env.client,
          { customer: 'rot', stage: 'p1', tokens: { installerValidityDays: 2, rotateBeforeDays: 1 } },
          { taskQueue: tb.taskQueue },
        )
      ).result();
      const first = await tb.deps.secrets.get(secretRefs.environmentToken('rot-p1', 'installer-download'));
      await (
        await startOnboarding(tb.env.client, { customer: 'rot', stage: 'p1' }, { taskQueue: tb.taskQueue })
      ).result();
      const second = await tb.deps.secrets.get(secretRefs.environmentToken('rot-p1', 'installer-download'));
      expect(second!.metadata.tokenId).not.toBe(first!.metadata.tokenId);
      const api = await setupTokens(tb, 'rot-p1');
      // Work that still holds the old token keeps working until maintenance revokes it.
      expect(await api.get(first!.metadata.tokenId!)).toMatchObject({ scopes: ['InstallerDownload'] });
      expect(await api.get(second!.metadata.tokenId!)).toMatchObject({ scopes: ['InstallerDownload'] });
      const record = await tb.registry.get('rot-p1');
      const old = record!.tokens.find((t) => t.tokenId === first!.metadata.tokenId);
      expect(old).toMatchObject({ state: 'superseded' });
      expect(Date.parse(old!.revokeAfter!) - Date.now()).toBeGreaterThan(3_600_000);
      const rotations = await tb.registry.rotations('rot-p1');
      expect(rotations.find((r) => r.purpose === 'installer-download')).toMatchObject({
        old_token_id: first!.metadata.tokenId,
        new_token_id: second!.metadata.tokenId,
        reason: 'onboarding: due for rotation',
      });
    });
  });

  it('rejects bad input with a non-retryable typed failure naming the field', async () => {
    const worker = await tb.worker();
    const err = await worker.runUntil(
      tb.env.client.workflow
        .execute(ONBOARD_CUSTOMER, {
          args: [{ customer: 'ABC!', stage: 'p1' }],
          taskQueue: tb.taskQueue,
          workflowId: 'onboard:bad-input',
        })
        .catch((e: unknown) => e),
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect(cause.type).toBe(FailureType.InvalidWorkflowInput);
    expect(cause.nonRetryable).toBe(true);
    expect(cause.message).toContain('customer must be 1-32 lowercase letters');
    await expect(
      startOnboarding(tb.env.client, { customer: 'abc', stage: 'P 1' }, { taskQueue: tb.taskQueue }),
    ).rejects.toThrow(/stage must be 1-16 lowercase letters or digits/);
  });

  it('refuses what the cluster or the installer would refuse, naming the field, before any API call', async () => {
    const worker = await tb.worker();
    const before = await tb.dt.stats();
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['long name', { displayName: 'x'.repeat(101) }, /displayName must have at most 100 characters/],
      [
        'tag value with =',
        { enrollment: { hostTags: { team: 'a=b' } } },
        /enrollment\.hostTags\.team a tag value must not contain "=" or whitespace/,
      ],
      [
        'tag value with a space',
        { enrollment: { hostTags: { team: 'web shop' } } },
        /enrollment\.hostTags\.team a tag value must not contain/,
      ],
      [
        'long tag value',
        { enrollment: { hostTags: { team: 'x'.repeat(257) } } },
        /enrollment\.hostTags\.team a tag value has at most 256 characters/,
      ],
      ['dt. host group', { enrollment: { hostGroup: 'dt.web' } }, /enrollment\.hostGroup must not start with "dt\."/],
      [
        'host group charset',
        { enrollment: { hostGroup: 'web shop' } },
        /enrollment\.hostGroup must be 1-100 letters, digits/,
      ],
    ];
    await worker.runUntil(async () => {
      for (const [name, patch, message] of cases) {
        const err = await tb.env.client.workflow
          .execute(ONBOARD_CUSTOMER, {
            args: [{ customer: 'ref', stage: 'p1', ...patch }],
            taskQueue: tb.taskQueue,
            workflowId: `onboard:refused-${name.replace(/\W+/g, '-')}`,
          })
          .catch((e: unknown) => e);
        const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
        expect(cause.type, name).toBe(FailureType.InvalidWorkflowInput);
        expect(cause.nonRetryable, name).toBe(true);
        expect(cause.message, name).toMatch(message);
        await expect(
          startOnboarding(tb.env.client, { customer: 'ref', stage: 'p1', ...patch }, { taskQueue: tb.taskQueue }),
          name,
        ).rejects.toThrow(message);
      }
    });
    expect((await tb.dt.stats()).apiRequests).toBe(before.apiRequests);
  });

  it('a re-run keeps a DISABLED state and console-edited tags, says what differs, and overwrites only when asked', async () => {
    const cluster = tb.dt.client.cluster(tb.dt.clusterToken);
    const onboard = async (input: Record<string, unknown> = {}) => {
      const worker = await tb.worker();
      return worker.runUntil(async () => {
        const handle = await startOnboarding(
          tb.env.client,
          { customer: 'opc', stage: 'p1', ...input },
          { taskQueue: tb.taskQueue },
        );
        const result = await handle.result();
        return { result, progress: await handle.query(progressQuery) };
      });
    };
    const first = await onboard();
    expect(first.result.environmentDifferences).toEqual([]);
    // An operator disables the environment and edits its tags in the cluster console.
    const edited = { name: 'OPC p1', state: 'DISABLED' as const, tags: ['customer:opc', 'owner:ops-team'] };
    await cluster.putEnvironment('opc-p1', edited);
    const writesBefore = (await tb.dt.stats()).requests;

    const second = await onboard();
    expect(second.result.environmentDifferences).toEqual([
      {
        field: 'tags',
        inCluster: 'customer:opc, owner:ops-team',
        requested: 'customer:opc, stage:p1, managed-by:dynatrace-autopilot',
        action: 'kept',
      },
      { field: 'state', inCluster: 'DISABLED', requested: 'ENABLED', action: 'kept' },
    ]);
    expect(await cluster.getEnvironment('opc-p1')).toMatchObject(edited);
    const environmentWrites = (requests: Record<string, Record<string, number>>) =>
      Object.entries(requests)
        .filter(([route]) => route.startsWith('PUT /api/cluster/v2/environments'))
        .flatMap(([, byStatus]) => Object.values(byStatus))
        .reduce((n, count) => n + count, 0);
    expect(environmentWrites((await tb.dt.stats()).requests)).toBe(environmentWrites(writesBefore));
    expect(second.progress.steps.find((s) => s.name === 'environment')?.detail).toBe(
      'already existed; kept what operators changed: tags customer:opc, owner:ops-team (input: customer:opc, stage:p1, managed-by:dynatrace-autopilot); state DISABLED (input: ENABLED)',
    );

    const third = await onboard({ overwrite: ['state'] });
    expect(third.result.environmentDifferences.map((d) => [d.field, d.action])).toEqual([
      ['tags', 'kept'],
      ['state', 'overwritten'],
    ]);
    expect(await cluster.getEnvironment('opc-p1')).toMatchObject({ state: 'ENABLED', tags: edited.tags });
  });
});

describe('OnboardCustomer needs attention when a retry cannot help', () => {
  let tb: Testbed;
  let tokenFile: string;

  beforeAll(async () => {
    tb = await startTestbed();
    // A cluster token without ServiceProviderAPI: every environment call is a 403.
    const { token } = await tb.dt.control<{ token: string }>('/cluster-tokens', {
      name: 'too-weak',
      scopes: ['EnvironmentTokenManagement'],
    });
    tokenFile = path.join(tb.dir, 'cluster-token');
    writeFileSync(tokenFile, `${token}\n`);
  });
  afterAll(async () => {
    await tb.teardown();
  });

  it('waits with AutopilotPhase=NeedsAttention and the reason, then completes after retry with a good token', async () => {
    const worker = await tb.worker({
      dynatrace: testDynatraceAccess({
        dt: tb.dt,
        registry: tb.registry,
        secrets: tb.deps.secrets,
        clusterToken: new FileSecret(tokenFile, 'unused-initial'),
      }),
    });
    await worker.runUntil(async () => {
      writeFileSync(
        tokenFile,
        (
          await tb.dt.control<{ token: string }>('/cluster-tokens', {
            name: 'weak',
            scopes: ['EnvironmentTokenManagement'],
          })
        ).token,
      );
      const handle = await startOnboarding(
        tb.env.client,
        { customer: 'att', stage: 'p1' },
        { taskQueue: tb.taskQueue },
      );
      await waitFor(async () => (await handle.query(progressQuery)).phase === 'NeedsAttention');
      const progress = await handle.query(progressQuery);
      expect(progress.attention).toMatchObject({
        step: 'environment',
        failureType: FailureType.DynatraceForbidden,
        allowed: ['retry', 'abort'],
      });
      expect(progress.attention?.reason).toContain('Token is missing required scope. Use one of: ServiceProviderAPI');
      expect((await handle.describe()).typedSearchAttributes.get(AUTOPILOT_PHASE)).toBe('NeedsAttention');

      // Skipping a required step is refused up front.
      expect(await updateRejection(handle.executeUpdate(decideUpdate, { args: [{ action: 'skip' }] }))).toMatch(
        /cannot be skipped/,
      );

      // The operator rotates the token file; the worker picks it up without a restart.
      await new Promise((r) => setTimeout(r, 20));
      writeFileSync(tokenFile, tb.dt.clusterToken);
      await handle.signal(retrySignal, { reason: 'cluster token fixed' });
      const result = await handle.result();
      expect(result.createdEnvironment).toBe(true);
      const done = await handle.query(progressQuery);
      expect(done.phase).toBe('Completed');
      expect(done.decisions).toEqual([
        expect.objectContaining({ action: 'retry', step: 'environment', reason: 'cluster token fixed' }),
      ]);
      expect(done.steps[0]).toMatchObject({ status: 'done', attempts: 2 });
      await recordHistory(handle, 'onboard-customer-needs-attention-retry');
    });
  });

  it('lets an operator skip an optional step through the validated update', async () => {
    // The cluster's user-group API keeps answering 500: the step retries for its (short) retry window,
    // then asks a human instead of failing the onboarding.
    tb.dt.simulator.setKnobs({
      faults: {
        rate500: 1,
        rate429: 0,
        rateReset: 0,
        rateHang: 0,
        hangMs: 120_000,
        routes: ['GET /api/v1.0/onpremise/groups'],
      },
    });
    const worker = await tb.worker();
    await worker.runUntil(async () => {
      const handle = await startOnboarding(
        tb.env.client,
        { customer: 'skp', stage: 'p1', timeouts: { apiCall: '5 seconds', retryWindow: '3 seconds' } },
        { taskQueue: tb.taskQueue },
      );
      await waitFor(async () => (await handle.query(progressQuery)).attention?.step === 'groups', 30_000);
      const progress = await handle.query(progressQuery);
      expect(progress.attention?.allowed).toEqual(['retry', 'skip', 'abort']);
      expect(
        await handle.executeUpdate(decideUpdate, { args: [{ action: 'skip', reason: 'groups are managed by IAM' }] }),
      ).toEqual({
        step: 'groups',
        action: 'skip',
      });
      const result = await handle.result();
      expect(result.skippedSteps).toEqual(['groups']);
      expect(result.installer).toBeDefined();
    });
    tb.dt.simulator.setKnobs({
      faults: { rate500: 0, rate429: 0, rateReset: 0, rateHang: 0, hangMs: 120_000, routes: [] },
    });
  });

  it('refuses a decision while the workflow is not waiting for one', async () => {
    tb.dt.simulator.setKnobs({ latencyMs: 1500 });
    const worker = await tb.worker();
    await worker.runUntil(async () => {
      const handle = await startOnboarding(
        tb.env.client,
        { customer: 'nwt', stage: 'p1' },
        { taskQueue: tb.taskQueue },
      );
      expect(await updateRejection(handle.executeUpdate(decideUpdate, { args: [{ action: 'retry' }] }))).toBe(
        'Onboarding of environment nwt-p1 is not waiting for a decision (phase Running)',
      );
      tb.dt.simulator.setKnobs({ latencyMs: 0 });
      await handle.result();
    });
  });
});
