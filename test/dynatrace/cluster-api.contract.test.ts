import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
