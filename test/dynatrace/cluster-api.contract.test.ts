import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupSchema } from '../../src/dynatrace/cluster-api.js';
import { DynatraceApiError, DynatraceFailureType } from '../../src/dynatrace/index.js';
import { collect } from '../../src/dynatrace/pagination.js';
import { failureOf, startTestCluster, type TestCluster } from '../helpers/simulator.js';

describe('Cluster API contract: typed client against the Managed simulator', () => {
  let dt: TestCluster;
  beforeAll(async () => {
    dt = await startTestCluster();
  });
  afterAll(async () => {
    await dt.stop();
  });

  describe('environments (PUT with our id, POST with theirs)', () => {
    it('creates with PUT (201 + token management token) and updates with a second PUT (204, no token)', async () => {
      const cluster = dt.client.cluster(dt.clusterToken);
      const first = await cluster.putEnvironment(
        'abc-p1',
        { name: 'ABC production 1', tags: ['owner:abc'] },
        { createToken: true },
      );
      expect(first.created).toBe(true);
      expect(first.created && first.tokenManagementToken).toMatch(/^dt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64}$/);

      const second = await cluster.putEnvironment('abc-p1', { name: 'ABC production one' }, { createToken: true });
      expect(second).toEqual({ created: false });
      expect(await cluster.getEnvironment('abc-p1')).toMatchObject({
        id: 'abc-p1',
        name: 'ABC production one',
        state: 'ENABLED',
        tags: ['owner:abc'],
      });
      const stats = await dt.stats();
      expect(stats.created.environments).toBe(1);
      expect(stats.duplicateCreateAttempts.environments).toBe(1);
      expect(stats.requests['PUT /api/cluster/v2/environments/{id}']).toEqual({ 201: 1, 204: 1 });
    });

    it('rejects ids outside [a-zA-Z0-9_-]{1,70} and a body id that differs from the path', async () => {
      const cluster = dt.client.cluster(dt.clusterToken);
      const badId = await failureOf(() => cluster.putEnvironment('abc p1', { name: 'x' }));
      expect(badId).toBeInstanceOf(DynatraceApiError);
      expect(badId).toMatchObject({ status: 400, type: DynatraceFailureType.badRequest, nonRetryable: true });
      const mismatch = await failureOf(() =>
        cluster.putEnvironment('abc-p2', { name: 'x', ...({ id: 'other' } as object) }),
      );
      expect(mismatch.message).toMatch(/HTTP 400.*does not match/);
    });

    it('refuses a display name longer than 100 characters on PUT and POST (typed 400 naming name)', async () => {
      const cluster = dt.client.cluster(dt.clusterToken);
      const tooLong = await failureOf(() => cluster.putEnvironment('long-name', { name: 'n'.repeat(101) }));
      expect(tooLong).toBeInstanceOf(DynatraceApiError);
      expect(tooLong).toMatchObject({ status: 400, type: DynatraceFailureType.badRequest, nonRetryable: true });
      expect((tooLong as DynatraceApiError).constraintViolations).toEqual([
        expect.objectContaining({ path: 'name', message: 'size must be between 1 and 100' }),
      ]);
      expect(await cluster.getEnvironment('long-name')).toBeUndefined();
      expect(await cluster.putEnvironment('long-name', { name: 'n'.repeat(100) })).toEqual({ created: true });
      const renamed = await failureOf(() => cluster.putEnvironment('long-name', { name: 'n'.repeat(101) }));
      expect(renamed).toMatchObject({ status: 400 });
      expect((await cluster.getEnvironment('long-name'))?.name).toBe('n'.repeat(100));

      const post = await fetch(`${dt.simulator.url}/api/cluster/v2/environments`, {
        method: 'POST',
        headers: { Authorization: `Api-Token ${dt.clusterToken}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: 'p'.repeat(101) }),
      });
      expect(post.status).toBe(400);
      const body = (await post.json()) as { error: { constraintViolations: { path: string }[] } };
      expect(body.error.constraintViolations.map((v) => v.path)).toEqual(['name']);
    });

    it('POST assigns a UUID and refuses an id in the body', async () => {
      const raw = await fetch(`${dt.simulator.url}/api/cluster/v2/environments`, {
        method: 'POST',
        headers: { Authorization: `Api-Token ${dt.clusterToken}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: 'Server-assigned' }),
      });
      expect(raw.status).toBe(201);
      const body = (await raw.json()) as { id: string };
      expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(raw.headers.get('location')).toBe(`${dt.simulator.url}/api/cluster/v2/environments/${body.id}`);

      const withId = await fetch(`${dt.simulator.url}/api/cluster/v2/environments`, {
        method: 'POST',
        headers: { Authorization: `Api-Token ${dt.clusterToken}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: 'x', id: 'mine' }),
      });
      expect(withId.status).toBe(400);
    });

    it('lists across several pages (nextPageKey only) with a filter', async () => {
      const cluster = dt.client.cluster(dt.clusterToken);
      for (let i = 0; i < 7; i++) await cluster.putEnvironment(`page-${i}`, { name: `Paged ${i}`, tags: ['paged'] });
      const paged = await collect(cluster.listEnvironments({ filter: 'tag(paged)', pageSize: 3 }));
      expect(paged.map((e) => e.id).sort()).toEqual([
        'page-0',
        'page-1',
        'page-2',
        'page-3',
        'page-4',
        'page-5',
        'page-6',
      ]);
      const stats = await dt.stats();
      expect(stats.requests['GET /api/cluster/v2/environments']?.[200]).toBe(3);
    });

    it('deletes only disabled environments (400 first, then disable and 204)', async () => {
      const cluster = dt.client.cluster(dt.clusterToken);
      await cluster.putEnvironment('to-delete', { name: 'Doomed' });
      expect(await failureOf(() => cluster.deleteEnvironment('to-delete'))).toMatchObject({ status: 400 });
      await cluster.putEnvironment('to-delete', { name: 'Doomed', state: 'DISABLED' });
      await cluster.deleteEnvironment('to-delete');
      expect(await cluster.getEnvironment('to-delete')).toBeUndefined();
    });

    it('issues a token management token later only with EnvironmentTokenManagement', async () => {
      const cluster = dt.client.cluster(dt.clusterToken);
      const token = await cluster.createTokenManagementToken('abc-p1', { name: 'recovery', expiresInSeconds: 3600 });
      const metadata = await dt.client.environment('abc-p1', token).tokens.lookup(token);
      expect(metadata.scopes).toEqual(['apiTokens.read', 'apiTokens.write', 'TenantTokenManagement']);
      expect(Date.parse(metadata.expirationDate!)).toBeGreaterThan(Date.now() + 3500_000);

      const { token: providerOnly } = await dt.control<{ token: string }>('/cluster-tokens', {
        name: 'provider-only',
        scopes: ['ServiceProviderAPI'],
      });
      const forbidden = await failureOf(() =>
        dt.client.cluster(providerOnly).createTokenManagementToken('abc-p1', { name: 'x', expiresInSeconds: 60 }),
      );
      expect(forbidden).toMatchObject({ status: 403, type: DynatraceFailureType.forbidden, nonRetryable: true });
      expect(forbidden.message).toContain(
        'Token is missing required scope. Use one of: EnvironmentTokenManagement (Environment token management)',
      );
      expect(forbidden.message).not.toContain(providerOnly);
    });

    it('keeps cluster and environment tokens apart (401 both ways)', async () => {
      const { token } = await dt.environment('worlds-apart');
      const envTokenOnCluster = await failureOf(() => dt.client.cluster(token).listAllEnvironments());
      expect(envTokenOnCluster).toMatchObject({ status: 401, type: DynatraceFailureType.unauthorized });
      const clusterTokenOnEnv = await failureOf(() =>
        dt.client.environment('worlds-apart', dt.clusterToken).deployment.latestVersion(),
      );
      expect(clusterTokenOnEnv).toMatchObject({ status: 401 });
      const unknown = await failureOf(() => dt.client.cluster('dt0c01.NOPE').listAllEnvironments());
      expect(unknown).toMatchObject({ status: 401 });
    });
  });

  describe('user groups (v1, 406 on a duplicate name)', () => {
    it('creates, lists, updates and deletes groups; a duplicate name is a typed non-retryable conflict', async () => {
      const cluster = dt.client.cluster(dt.clusterToken);
      const group = await cluster.createGroup({
        name: 'Sales Group',
        ldapGroupNames: ['cn=sales'],
        accessRight: { VIEWER: ['abc-p1'] },
      });
      expect(group).toMatchObject({ id: 'salesgroup', name: 'Sales Group', accessRight: { VIEWER: ['abc-p1'] } });

      const duplicate = await failureOf(() => cluster.createGroup({ name: 'Sales Group', accessRight: {} }));
      expect(duplicate).toMatchObject({ status: 406, type: DynatraceFailureType.conflict, nonRetryable: true });

      const updated = await cluster.updateGroup({
        ...group,
        accessRight: { ...group.accessRight, MANAGE_SETTINGS: ['abc-p1'] },
      });
      expect(updated.accessRight).toEqual({ VIEWER: ['abc-p1'], MANAGE_SETTINGS: ['abc-p1'] });
      expect((await cluster.listGroups()).map((g) => g.name)).toContain('Sales Group');
      expect(await cluster.getGroup('salesgroup')).toMatchObject({ name: 'Sales Group' });

      const unknownEnv = await failureOf(() => cluster.createGroup({ name: 'x', accessRight: { VIEWER: ['nope'] } }));
      expect(unknownEnv).toMatchObject({ status: 400 });

      await cluster.deleteGroup('salesgroup');
      expect(await cluster.getGroup('salesgroup')).toBeUndefined();
      const stats = await dt.stats();
      expect(stats.duplicateCreateAttempts.groups).toBe(1);
    });

    it('account flags are write-only, read back as has…Role; a PUT without them resets them, updateGroup carries them', async () => {
      const cluster = dt.client.cluster(dt.clusterToken);
      const call = async (method: string, path: string, body?: unknown) => {
        const response = await fetch(`${dt.simulator.url}/api/v1.0/onpremise/groups${path}`, {
          method,
          headers: { Authorization: `Api-Token ${dt.clusterToken}`, 'Content-Type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        return (await response.json()) as Record<string, unknown>;
      };
      const created = await call('POST', '', {
        name: 'Flagged',
        isClusterAdminGroup: false,
        isAccessAccount: true,
        isManageAccount: true,
        accessRight: {},
      });
      expect(created).toMatchObject({ hasAccessAccountRole: true, hasManageAccountAndViewProductUsageRole: true });
      expect(created).not.toHaveProperty('isAccessAccount');
      expect(created).not.toHaveProperty('isManageAccount');

      // Sending back what was read (read-only flags included) loses the write-only ones.
      const echoed = await call('PUT', '', { ...created, ldapGroupNames: ['cn=flagged'] });
      expect(echoed).toMatchObject({ hasAccessAccountRole: false, hasManageAccountAndViewProductUsageRole: false });

      await call('PUT', '', { ...echoed, isAccessAccount: true });
      const group = (await cluster.getGroup(String(created.id)))!;
      expect(group).toMatchObject({ isAccessAccount: true, isManageAccount: false });
      expect(group).not.toHaveProperty('hasAccessAccountRole');
      await cluster.updateGroup({ ...group, accessRight: { VIEWER: ['abc-p1'] } });
      expect(await call('GET', `/${String(created.id)}`)).toMatchObject({
        accessRight: { VIEWER: ['abc-p1'] },
        hasAccessAccountRole: true,
        hasManageAccountAndViewProductUsageRole: false,
      });

      // Older clusters echo the writable spelling, TF's client another one: all read the same.
      const base = { id: 'g', name: 'g' };
      expect(groupSchema.parse({ ...base, isAccessAccount: true })).toMatchObject({ isAccessAccount: true });
      expect(groupSchema.parse({ ...base, accessAccount: true, manageAccount: false })).toMatchObject({
        isAccessAccount: true,
        isManageAccount: false,
      });
      expect(groupSchema.parse(base)).not.toHaveProperty('isAccessAccount');
      await cluster.deleteGroup(String(created.id));
    });
  });
});

describe('DynatraceApiError', () => {
  it('is an ApplicationFailure Temporal understands', async () => {
    const { ApplicationFailure } = await import('@temporalio/common');
    const err = new DynatraceApiError(
      { method: 'GET', path: '/x' },
      503,
      DynatraceFailureType.serverError,
      'down',
      [],
      5000,
    );
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err.nonRetryable).toBe(false);
    expect(err.nextRetryDelay).toBe(5000);
  });
});
