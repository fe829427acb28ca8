import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgresServer, type PostgresServer } from '../../sandbox/postgres-server.js';
import { openFleetDatabase, type FleetDatabase } from '../../src/database/open-fleet-database.js';
import { EnvironmentRegistry } from '../../src/registry/environment-registry.js';

const DAY = 86_400_000;

/** The same tests against both databases the product runs on: they speak the same SQL. */
const backends: [string, () => Promise<{ open: () => Promise<FleetDatabase>; stop: () => Promise<void> }>][] = [
  [
    'the embedded database (PGlite)',
    async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'fleet-db-'));
      return {
        open: () => openFleetDatabase({ embeddedDir: dir }),
        stop: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  ],
  [
    'PostgreSQL from Debian',
    async () => {
      const server: PostgresServer = await startPostgresServer();
      return {
        open: () => openFleetDatabase({ url: server.url, embeddedDir: '/nonexistent' }),
        stop: () => server.stop(),
      };
    },
  ],
];

describe.each(backends)('the environment registry on %s', (_name, start) => {
  let backend: Awaited<ReturnType<typeof start>>;
  let database: FleetDatabase;
  let registry: EnvironmentRegistry;

  beforeAll(async () => {
    backend = await start();
    database = await backend.open();
    registry = new EnvironmentRegistry(database.db);
  }, 120_000);
  afterAll(async () => {
    await database.close();
    await backend.stop();
  });

  const managed = (id: string, source: 'onboarded' | 'adopted' = 'onboarded') => {
    const [customer, stage] = id.split('-');
    return {
      id,
      kind: 'managed' as const,
      cluster: 'eu1',
      apiUrl: `https://eu1.example.com/e/${id}`,
      customer,
      stage,
      source,
    };
  };
  const mint = (environmentId: string, tokenId: string, expiresAt: Date, reason = 'onboarding') =>
    registry.tokenMinted({
      environmentId,
      purpose: 'automation',
      tokenId,
      secretRef: `dynatrace/${environmentId}/automation-token`,
      scopes: ['entities.read', 'problems.read'],
      expiresAt,
      mintedByUs: true,
      reason,
      replacedRevokeAfter: new Date(expiresAt.getTime() - 20 * DAY),
    });

  it('records environments once, keeps the first source, and selects them by glob, cluster and kind', async () => {
    for (const id of ['abc-p1', 'abc-t1', 'xyz-p1', 'xyz-p2']) await registry.record(managed(id));
    await registry.record({ ...managed('abc-p1', 'adopted'), apiUrl: 'https://eu1.example.com/e/abc-p1' });
    await registry.record({
      id: 'saas1',
      kind: 'saas',
      apiUrl: 'https://saas1.live.dynatrace.com',
      source: 'registered',
    });
    expect((await registry.get('abc-p1'))!).toMatchObject({
      source: 'onboarded',
      customer: 'abc',
      stage: 'p1',
      cluster: 'eu1',
      tokens: [],
    });
    expect((await registry.list('*-p*')).map((e) => e.id)).toEqual(['abc-p1', 'xyz-p1', 'xyz-p2']);
    expect((await registry.list('customer:abc')).map((e) => e.id)).toEqual(['abc-p1', 'abc-t1']);
    expect((await registry.list('kind:saas')).map((e) => e.id)).toEqual(['saas1']);
    expect((await registry.list('cluster:eu1 stage:p?,stage:t1')).map((e) => e.id)).toEqual([
      'abc-p1',
      'abc-t1',
      'xyz-p1',
      'xyz-p2',
    ]);
    expect(await registry.list('nothing-*')).toEqual([]);
  });

  it('keeps one current token per purpose; a new one supersedes it and the rotation is written down', async () => {
    const asOf = new Date('2027-01-01T00:00:00Z');
    await mint('xyz-p1', 'dt0c01.FIRST', new Date(asOf.getTime() + 30 * DAY));
    await mint('xyz-p1', 'dt0c01.SECOND', new Date(asOf.getTime() + 60 * DAY), 'rotation');
    const tokens = (await registry.get('xyz-p1'))!.tokens;
    expect(tokens.map((t) => [t.tokenId, t.state])).toEqual([
      ['dt0c01.FIRST', 'superseded'],
      ['dt0c01.SECOND', 'current'],
    ]);
    expect((await registry.currentToken('xyz-p1', 'automation'))!.tokenId).toBe('dt0c01.SECOND');
    const [latest] = await registry.rotations('xyz-p1');
    expect(latest).toMatchObject({ old_token_id: 'dt0c01.FIRST', new_token_id: 'dt0c01.SECOND', reason: 'rotation' });
    await registry.tokenRevoked('dt0c01.FIRST', asOf);
    expect((await registry.get('xyz-p1'))!.tokens.map((t) => t.tokenId)).toEqual(['dt0c01.SECOND']);
  });

  it('finds what maintenance has to do from the registry alone', async () => {
    const asOf = new Date('2027-01-01T00:00:00Z');
    await mint('abc-p1', 'dt0c01.SOON', new Date(asOf.getTime() + 5 * DAY));
    await mint('abc-t1', 'dt0c01.LATER', new Date(asOf.getTime() + 25 * DAY));
    for (const { id } of await registry.list()) await registry.scopesChecked(id, asOf, undefined);
    const policy = { rotateBeforeMs: 7 * DAY, scopeCheckMs: DAY };
    const due = await registry.dueForMaintenance(asOf, policy, { limit: 100 });
    expect(
      due.map((d) => [
        d.environmentId,
        d.expiring.map((t) => t.tokenId),
        d.toRevoke.map((t) => t.tokenId),
        d.scopeCheck,
      ]),
    ).toEqual([['abc-p1', ['dt0c01.SOON'], [], false]]);
    // A day later every scope check is due again; twenty days later the superseded token's grace is over.
    const later = await registry.dueForMaintenance(new Date(asOf.getTime() + 41 * DAY), policy, { limit: 2 });
    expect(later.map((d) => d.environmentId)).toEqual(['abc-p1', 'abc-t1']);
    expect(later.every((d) => d.scopeCheck)).toBe(true);
    await registry.scopesChecked('abc-p1', asOf, 'the automation token lacks problems.write');
    expect((await registry.get('abc-p1'))!).toMatchObject({
      state: 'needs-attention',
      attention: 'the automation token lacks problems.write',
    });
  });

  it('pages through everything due in the database\'s own order, ids with "-", "_" and capitals included', async () => {
    const asOf = new Date('2030-01-01T00:00:00Z');
    const ids = ['pg-x', 'pg_x', 'pg1', 'PG1'];
    for (const id of ids) {
      await registry.record({
        id,
        kind: 'managed',
        cluster: 'eu1',
        apiUrl: `https://eu1.example.com/e/${id}`,
        source: 'adopted',
      });
      await mint(id, `dt0c01.PAGE${ids.indexOf(id)}`, new Date(asOf.getTime() + DAY));
    }
    for (const { id } of await registry.list()) await registry.scopesChecked(id, asOf, undefined);
    const seen: string[] = [];
    let after: string | undefined;
    for (let pages = 0; pages < 20; pages++) {
      const page = await registry.dueForMaintenance(
        asOf,
        { rotateBeforeMs: 7 * DAY, scopeCheckMs: DAY },
        { ...(after ? { after } : {}), limit: 1 },
      );
      if (page.length === 0) break;
      seen.push(...page.map((d) => d.environmentId));
      after = page.at(-1)!.environmentId;
    }
    expect(seen.filter((id) => ids.includes(id)).sort()).toEqual([...ids].sort());
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('survives a restart of the process that owns it, and forgets an environment with its tokens', async () => {
    await database.close();
    database = await backend.open();
    registry = new EnvironmentRegistry(database.db);
    expect((await registry.list()).length).toBe(9);
    expect((await registry.get('abc-p1'))!.tokens.map((t) => t.tokenId)).toEqual(['dt0c01.SOON']);
    expect(await registry.remove('abc-p1')).toBe(true);
    expect(await registry.get('abc-p1')).toBeUndefined();
    expect(await registry.remove('abc-p1')).toBe(false);
  });
});
