import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect } from '../../src/dynatrace/pagination.js';
import { startTestCluster, type TestCluster } from '../helpers/simulator.js';

const MZ = 'builtin:management-zones';
const TAGS = 'builtin:tags.auto-tagging';
const ENV = 'std-p1';

interface Rule {
  type: string;
  entitySelector?: string;
  attributeRule?: { entityType: string; conditions: { key: string; operator: string; stringValue?: string }[] };
}

interface ItemResult {
  code: number;
  objectId?: string;
  error?: { code: number; message: string; constraintViolations: { path: string; message: string }[] };
}

const hostGroupRule = (group: string): Rule => ({
  type: 'ME',
  attributeRule: {
    entityType: 'HOST',
    conditions: [{ key: 'HOST_GROUP_NAME', operator: 'EQUALS', stringValue: group }],
  },
});

describe('simulator: Settings 2.0 management zones and auto-tags behave like a cluster', () => {
  let dt: TestCluster;
  let token: string;

  beforeAll(async () => {
    dt = await startTestCluster();
    ({ token } = await dt.environment(ENV));
  });
  afterAll(async () => {
    await dt.stop();
  });

  const settings = () => dt.client.environment(ENV, token).settings;

  /** Raw calls: the typed client turns a 207 or a 400 into an exception and hides the item codes. */
  async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await fetch(`${dt.simulator.url}/e/${ENV}/api/v2/settings/objects${path}`, {
      method,
      headers: { Authorization: `Api-Token ${token}`, 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  const read = async (objectId: string) =>
    (await api<{ value: Record<string, unknown>; schemaVersion: string }>('GET', `/${encodeURIComponent(objectId)}`))
      .body;

  it('fills in the management-zone defaults the client omitted', async () => {
    const [id] = await settings().create([
      {
        schemaId: MZ,
        scope: 'environment',
        externalId: 'mz-defaults',
        value: { name: 'abc', rules: [hostGroupRule('abc')] },
      },
    ]);
    const stored = await read(id!);
    expect(stored.schemaVersion).toBe('1.0.6');
    expect(stored.value).toEqual({
      name: 'abc',
      description: null,
      rules: [
        {
          enabled: true,
          type: 'ME',
          attributeRule: {
            entityType: 'HOST',
            conditions: [{ key: 'HOST_GROUP_NAME', operator: 'EQUALS', stringValue: 'abc', caseSensitive: true }],
            hostToPGPropagation: true,
            serviceToHostPropagation: false,
            serviceToPGPropagation: false,
          },
        },
      ],
    });

    const [bare] = await settings().create([{ schemaId: MZ, scope: 'environment', value: { name: 'empty' } }]);
    expect((await read(bare!)).value).toEqual({ name: 'empty', description: null, rules: [] });
  });

  it('fills in the auto-tagging defaults the client omitted', async () => {
    const [id] = await settings().create([
      {
        schemaId: TAGS,
        scope: 'environment',
        value: { name: 'customer', rules: [{ type: 'SELECTOR', entitySelector: 'type(HOST),hostGroupName(abc)' }] },
      },
    ]);
    const stored = await read(id!);
    expect(stored.schemaVersion).toBe('1.0.3');
    expect(stored.value).toEqual({
      name: 'customer',
      description: null,
      rules: [
        {
          enabled: true,
          type: 'SELECTOR',
          valueFormat: null,
          valueNormalization: 'Leave text as-is',
          entitySelector: 'type(HOST),hostGroupName(abc)',
        },
      ],
    });
  });

  it('returns set-typed rules and conditions in its own order, the same whatever order they were sent in', async () => {
    const selector: Rule = { type: 'SELECTOR', entitySelector: 'type(SERVICE),tag(customer:abc)' };
    const service: Rule = {
      type: 'ME',
      attributeRule: {
        entityType: 'SERVICE',
        conditions: [{ key: 'SERVICE_NAME', operator: 'CONTAINS', stringValue: 'abc' }],
      },
    };
    const host: Rule = {
      type: 'ME',
      attributeRule: {
        entityType: 'HOST',
        conditions: [
          { key: 'HOST_NAME', operator: 'BEGINS_WITH', stringValue: 'abc-' },
          { key: 'HOST_GROUP_NAME', operator: 'EQUALS', stringValue: 'abc' },
        ],
      },
    };
    const sent = [selector, service, host];
    const [first, second] = await settings().create([
      { schemaId: MZ, scope: 'environment', externalId: 'mz-order-1', value: { name: 'order 1', rules: sent } },
      {
        schemaId: MZ,
        scope: 'environment',
        externalId: 'mz-order-2',
        value: {
          name: 'order 2',
          rules: [host, selector, service].map((r) =>
            r.attributeRule
              ? { ...r, attributeRule: { ...r.attributeRule, conditions: [...r.attributeRule.conditions].reverse() } }
              : r,
          ),
        },
      },
    ]);
    const rules = (await read(first!)).value.rules as Rule[];
    const summary = rules.map((r) => r.attributeRule?.entityType ?? r.entitySelector);
    expect(summary).toEqual(['HOST', 'SERVICE', 'type(SERVICE),tag(customer:abc)']);
    expect(sent.map((r) => r.attributeRule?.entityType ?? r.entitySelector)).toEqual([
      'type(SERVICE),tag(customer:abc)',
      'SERVICE',
      'HOST',
    ]);
    expect(rules[0]!.attributeRule!.conditions.map((c) => c.key)).toEqual(['HOST_GROUP_NAME', 'HOST_NAME']);
    expect((await read(second!)).value.rules).toEqual(rules);

    const listed = await collect(settings().list({ schemaIds: [MZ], externalIds: ['mz-order-1'] }));
    expect(listed.find((o) => o.externalId === 'mz-order-1')?.value.rules).toEqual(rules);
  });

  it('refuses a SELECTOR rule without entitySelector, naming the field', async () => {
    for (const [schemaId, rule] of [
      [MZ, { type: 'SELECTOR' }],
      [TAGS, { type: 'SELECTOR', entitySelector: '' }],
    ] as const) {
      const response = await api<ItemResult[]>('POST', '', [
        { schemaId, scope: 'environment', value: { name: 'no selector', rules: [hostGroupRule('x'), rule] } },
      ]);
      expect(response.status).toBe(400);
      expect(response.body).toEqual([
        expect.objectContaining({
          code: 400,
          error: expect.objectContaining({
            constraintViolations: [
              expect.objectContaining({ path: 'rules/1/entitySelector', parameterLocation: 'PAYLOAD_BODY' }),
            ],
          }),
        }),
      ]);
    }
  });

  it('refuses an ME rule without attributeRule, naming the field', async () => {
    for (const schemaId of [MZ, TAGS]) {
      const response = await api<ItemResult[]>('POST', '', [
        { schemaId, scope: 'environment', value: { name: 'no attribute rule', rules: [{ type: 'ME' }] } },
      ]);
      expect(response.status).toBe(400);
      expect(response.body[0]!.error!.constraintViolations).toEqual([
        expect.objectContaining({ path: 'rules/0/attributeRule', message: expect.stringMatching(/must not be null/) }),
      ]);
    }
    const noConditions = await api<ItemResult[]>('POST', '', [
      {
        schemaId: MZ,
        scope: 'environment',
        value: {
          name: 'no conditions',
          rules: [{ type: 'ME', attributeRule: { entityType: 'HOST', conditions: [] } }],
        },
      },
    ]);
    expect(noConditions.body[0]!.error!.constraintViolations.map((v) => v.path)).toEqual([
      'rules/0/attributeRule/conditions',
    ]);
  });

  it('answers a batch with one invalid object 207 with a code per item, and keeps the valid one', async () => {
    const response = await api<ItemResult[]>('POST', '', [
      { schemaId: MZ, scope: 'environment', externalId: 'mz-batch-ok', value: { name: 'batch ok' } },
      { schemaId: TAGS, scope: 'environment', externalId: 'tag-batch-bad', value: { rules: [] } },
      { schemaId: TAGS, scope: 'environment', externalId: 'tag-batch-ok', value: { name: 'batch ok' } },
    ]);
    expect(response.status).toBe(207);
    expect(response.body.map((r) => r.code)).toEqual([200, 400, 200]);
    expect(response.body[0]!.objectId).toEqual(expect.any(String));
    expect(response.body[1]!.error!.constraintViolations).toEqual([
      expect.objectContaining({ path: 'name', message: 'must not be null' }),
    ]);
    const stored = await collect(
      settings().list({ schemaIds: [MZ, TAGS], externalIds: ['mz-batch-ok', 'tag-batch-bad', 'tag-batch-ok'] }),
    );
    expect(stored.map((o) => o.externalId).sort()).toEqual(['mz-batch-ok', 'tag-batch-ok']);
  });

  it('fills in defaults on update (PUT) too, and refuses an invalid update', async () => {
    const [id] = await settings().create([
      { schemaId: TAGS, scope: 'environment', value: { name: 'to update', description: 'before' } },
    ]);
    await settings().update(id!, {
      name: 'updated',
      rules: [
        {
          type: 'ME',
          attributeRule: {
            entityType: 'PROCESS_GROUP',
            conditions: [{ key: 'PROCESS_GROUP_NAME', operator: 'EXISTS' }],
          },
        },
      ],
    });
    expect((await read(id!)).value).toEqual({
      name: 'updated',
      description: null,
      rules: [
        {
          enabled: true,
          type: 'ME',
          valueFormat: null,
          valueNormalization: 'Leave text as-is',
          attributeRule: {
            entityType: 'PROCESS_GROUP',
            conditions: [{ key: 'PROCESS_GROUP_NAME', operator: 'EXISTS', caseSensitive: true }],
            hostToPGPropagation: true,
            serviceToHostPropagation: false,
            serviceToPGPropagation: false,
          },
        },
      ],
    });
    const refused = await api<{ error: ItemResult['error'] }>('PUT', `/${encodeURIComponent(id!)}`, {
      value: { name: 'updated', rules: [{ type: 'SELECTOR' }] },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error!.constraintViolations.map((v) => v.path)).toEqual(['rules/0/entitySelector']);
  });

  it('lists with fields=objectId,value,externalId,schemaId,scope,created', async () => {
    const response = await api<{ items: Record<string, unknown>[] }>(
      'GET',
      `?schemaIds=${encodeURIComponent(MZ)}&externalIds=mz-defaults&fields=objectId,value,externalId,schemaId,scope,created`,
    );
    expect(response.status).toBe(200);
    expect(response.body.items).toEqual([
      {
        objectId: expect.any(String),
        value: expect.objectContaining({ name: 'abc', description: null }),
        externalId: 'mz-defaults',
        schemaId: MZ,
        scope: 'environment',
        created: expect.any(Number),
      },
    ]);
  });

  it('counts creates, updates and deletes, so a test can tell each object was written once', async () => {
    const other = 'std-p2';
    const { token: otherToken } = await dt.environment(other);
    const api2 = dt.client.environment(other, otherToken).settings;
    const before = await dt.stats();
    const ids = await api2.create([
      { schemaId: MZ, scope: 'environment', value: { name: 'one' } },
      { schemaId: TAGS, scope: 'environment', value: { name: 'two' } },
    ]);
    await api2.update(ids[0]!, { name: 'one, renamed' });
    for (const id of ids) await api2.delete(id);
    const after = await dt.stats();
    expect(after.byEnvironment[other]).toMatchObject({
      settingsObjectsCreated: 2,
      settingsUpdatesCreated: 1,
      settingsDeletesCreated: 2,
    });
    expect((after.created.settingsDeletes ?? 0) - (before.created.settingsDeletes ?? 0)).toBe(2);
    expect(await collect(api2.list({ schemaIds: [MZ, TAGS] }))).toEqual([]);
  });
});
