import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynatraceFailureType, type EnvironmentApi } from '../../src/dynatrace/index.js';
import { collect } from '../../src/dynatrace/pagination.js';
import { settingsValueMatches } from '../../src/dynatrace/settings-value-match.js';
import { failureOf, startTestCluster, type TestCluster } from '../helpers/simulator.js';

describe('Environment API contract: typed client against the Managed simulator', () => {
  let dt: TestCluster;
  let env: EnvironmentApi;
  let tokenManagementToken: string;
  let created: { token: string; tokenManagementToken: string };

  beforeAll(async () => {
    dt = await startTestCluster();
    created = await dt.environment('env-api');
    env = dt.client.environment('env-api', created.token);
    tokenManagementToken = created.tokenManagementToken;
  });
  afterAll(async () => {
    await dt.stop();
  });

  describe('access tokens v2', () => {
    it('creates a least-scope token with an expiry, looks it up, lists it across pages and revokes it', async () => {
      const tokens = dt.client.environment('env-api', tokenManagementToken).tokens;
      const expires = new Date(Date.now() + 7 * 86_400_000);
      const created = await tokens.create({
        name: 'installer-download',
        scopes: ['InstallerDownload'],
        expirationDate: expires,
      });
      expect(created.id).toMatch(/^dt0c01\.[A-Z0-9]{24}$/);
      expect(created.token.startsWith(`${created.id}.`)).toBe(true);
      expect(Date.parse(created.expirationDate!)).toBe(expires.getTime());

      const looked = await tokens.lookup(created.token);
      expect(looked).toMatchObject({ id: created.id, name: 'installer-download', scopes: ['InstallerDownload'] });

      for (let i = 0; i < 110; i++) await tokens.create({ name: `bulk-${i}`, scopes: ['metrics.read'] });
      const listed = await collect(tokens.list({ pageSize: 100 }));
      expect(listed.length).toBeGreaterThanOrEqual(112);
      expect(listed.find((t) => t.id === created.id)).toMatchObject({ scopes: ['InstallerDownload'] });
      expect(listed.every((t) => !('token' in t))).toBe(true);
      expect((await dt.stats()).requests['GET /e/{environmentId}/api/v2/apiTokens']?.[200]).toBe(2);

      expect(await tokens.revoke(created.id)).toBe(true);
      expect(await tokens.revoke(created.id)).toBe(false);
      expect(await tokens.get(created.id)).toBeUndefined();
      const revokedUse = await failureOf(() =>
        dt.client.environment('env-api', created.token).deployment.latestVersion(),
      );
      expect(revokedUse).toMatchObject({ status: 401 });
    });

    it('rejects unknown scopes and expiry dates in the past (400, non-retryable)', async () => {
      const tokens = dt.client.environment('env-api', tokenManagementToken).tokens;
      const unknown = await failureOf(() => tokens.create({ name: 'x', scopes: ['NotAScope'] }));
      expect(unknown).toMatchObject({ status: 400, type: DynatraceFailureType.badRequest, nonRetryable: true });
      expect(unknown.message).toContain('unknown scope NotAScope');
      const past = await failureOf(() =>
        tokens.create({ name: 'x', scopes: ['DataExport'], expirationDate: new Date(0) }),
      );
      expect(past.message).toContain('expirationDate');
    });

    it('stops expired tokens with 401', async () => {
      const tokens = dt.client.environment('env-api', tokenManagementToken).tokens;
      const shortLived = await tokens.create({
        name: 'short',
        scopes: ['InstallerDownload'],
        expirationDate: new Date(Date.now() + 300),
      });
      await new Promise((r) => setTimeout(r, 400));
      const expired = await failureOf(() =>
        dt.client.environment('env-api', shortLived.token).deployment.latestVersion(),
      );
      expect(expired).toMatchObject({ status: 401, type: DynatraceFailureType.unauthorized });
      expect(expired.message).toContain('Token expired');
      expect(expired.message).not.toContain(shortLived.token);
    });
  });

  describe('entities v2, hosts v1, OneAgents v1 (three pagination styles)', () => {
    beforeAll(async () => {
      for (let i = 1; i <= 6; i++) {
        await dt.control('/environments/env-api/hosts', {
          hostName: `web-${i}`,
          hostGroup: i <= 3 ? 'web' : 'db',
          tags: [{ context: 'CONTEXTLESS', key: 'tier', value: i <= 3 ? 'web' : 'db' }],
          ...(i === 1 ? { awsInstanceId: 'i-0abc1234def567890', awsInstanceType: 't3.micro' } : {}),
        });
      }
    });

    it('selects hosts by name (case-insensitive equals), by tag and across pages', async () => {
      const byName = await collect(
        env.entities.list({ entitySelector: 'type("HOST"),entityName.equals("WEB-1")', fields: '+properties,+tags' }),
      );
      expect(byName).toHaveLength(1);
      expect(byName[0]).toMatchObject({
        type: 'HOST',
        displayName: 'web-1',
        properties: { awsInstanceId: 'i-0abc1234def567890', hostGroupName: 'web' },
      });
      const byTag = await collect(env.entities.list({ entitySelector: 'type(HOST),tag("tier:db")' }));
      expect(byTag.map((e) => e.displayName).sort()).toEqual(['web-4', 'web-5', 'web-6']);
      const names = await collect(
        env.entities.list({ entitySelector: 'type("HOST"),entityName.in("web-2","web-3","nope")', pageSize: 1 }),
      );
      expect(names.map((e) => e.displayName).sort()).toEqual(['web-2', 'web-3']);
      const all = await collect(env.entities.list({ entitySelector: 'type("HOST")', pageSize: 4 }));
      expect(all).toHaveLength(6);
    });

    it('requires an entity selector with type or entityId (400)', async () => {
      const err = await failureOf(() => collect(env.entities.list({ entitySelector: 'entityName("web")' })));
      expect(err).toMatchObject({ status: 400 });
      expect(err.message).toContain('type(...) or entityId(...) is required');
    });

    it('reads a host by id from v2 and v1 (awsInstanceId), and 404 as undefined', async () => {
      const [host] = await collect(env.entities.list({ entitySelector: 'type("HOST"),entityName.equals("web-1")' }));
      const full = await env.entities.get(host!.entityId);
      expect(full?.properties).toMatchObject({
        awsInstanceId: 'i-0abc1234def567890',
        installerVersion: expect.any(String),
      });
      const v1 = await env.entities.hostV1(host!.entityId);
      expect(v1).toMatchObject({ cloudType: 'EC2', awsInstanceId: 'i-0abc1234def567890', awsInstanceType: 't3.micro' });
      expect(await env.entities.get('HOST-0000000000000000')).toBeUndefined();
    });

    it('pages hosts v1 through the Next-Page-Key header and OneAgents through the body key', async () => {
      const hosts = await collect(env.entities.listHostsV1({ pageSize: 4 }));
      expect(hosts).toHaveLength(6);
      const web = await collect(env.entities.listHostsV1({ hostGroupName: 'web', pageSize: 2 }));
      expect(web.map((h) => h.displayName).sort()).toEqual(['web-1', 'web-2', 'web-3']);
      const agents = await collect(env.entities.listOneAgents({ pageSize: 3 }));
      expect(agents).toHaveLength(6);
      expect(agents.every((a) => a.availabilityState === 'MONITORED')).toBe(true);
      const stats = await dt.stats();
      // 6 hosts in pages of 3: the third page is empty but was announced, and the client asked for it.
      expect(stats.requests['GET /e/{environmentId}/api/v1/oneagents']?.[200]).toBe(3);
    });
  });

  describe('problems v2/v1 and comments', () => {
    let problemIds: string[];
    beforeAll(async () => {
      await dt.control('/environments/env-api/hosts', { hostName: 'busy-1' });
      problemIds = [];
      // At least four, and at least one whose id starts with "-" (the simulator signs half of them).
      for (let i = 0; i < 4 || (!problemIds.some((id) => id.startsWith('-')) && i < 40); i++) {
        const p = await dt.control<{ problemId: string }>('/problems', {
          environmentId: 'env-api',
          hostName: 'busy-1',
        });
        problemIds.push(p.problemId);
      }
    });

    it('reads a CPU saturation problem as v2 (CPU_SATURATED evidence on a HOST, as real environments report it) and v1', async () => {
      // Problem ids can start with "-" (reference §0.4); the client must path-encode them correctly.
      expect(problemIds.some((id) => id.startsWith('-'))).toBe(true);
      for (const id of problemIds) {
        const problem = await env.problems.get(id, ['evidenceDetails']);
        expect(problem).toMatchObject({
          problemId: id,
          status: 'OPEN',
          severityLevel: 'RESOURCE_CONTENTION',
          endTime: -1,
        });
        expect(problem.evidenceDetails?.details[0]).toMatchObject({
          evidenceType: 'EVENT',
          eventType: 'CPU_SATURATED',
          displayName: 'CPU saturation',
          entity: { entityId: { type: 'HOST' }, name: 'busy-1' },
        });
        expect(problem.rootCauseEntity?.entityId.type).toBe('HOST');
        const v1 = await env.problems.getV1(id);
        expect(v1.rankedEvents[0]).toMatchObject({ eventType: 'CPU_SATURATED' });
      }
      // The name alerting profiles filter by (some builds report it in the evidence too [U]).
      const osi = await dt.control<{ problemId: string }>('/problems', {
        environmentId: 'env-api',
        hostName: 'busy-1',
        evidence: 'osi',
      });
      problemIds.push(osi.problemId);
      const osiProblem = await env.problems.get(osi.problemId, ['evidenceDetails']);
      expect(osiProblem.evidenceDetails?.details[0]?.eventType).toBe('OSI_HIGH_CPU');
      const open = await collect(env.problems.list({ problemSelector: 'status("open")' }));
      expect(open.map((p) => p.problemId).sort()).toEqual([...problemIds].sort());
      const missing = await failureOf(() => env.problems.get('-1_1V2'));
      expect(missing).toMatchObject({ status: 404, type: DynatraceFailureType.notFound });
    });

    it('sends fields with every nextPageKey, so page 2 carries evidence too (fields holds for one page, §13)', async () => {
      const listed = await collect(env.problems.list({ fields: 'evidenceDetails', pageSize: 2 }));
      expect(listed.map((p) => p.problemId).sort()).toEqual([...problemIds].sort());
      for (const p of listed) expect(p.evidenceDetails?.details[0]).toMatchObject({ evidenceType: 'EVENT' });

      const page = async (query: string) => {
        const response = await fetch(`${dt.simulator.url}/e/env-api/api/v2/problems?${query}`, {
          headers: { Authorization: `Api-Token ${created.token}` },
        });
        return { status: response.status, body: (await response.json()) as Record<string, unknown> };
      };
      type ProblemPage = { problems: { evidenceDetails?: unknown }[]; nextPageKey: string | null };
      const first = (await page('fields=evidenceDetails&pageSize=2')).body as ProblemPage;
      expect(first.problems[0]?.evidenceDetails).toBeDefined();
      const key = encodeURIComponent(first.nextPageKey!);
      const bare = (await page(`nextPageKey=${key}`)).body as ProblemPage;
      expect(bare.problems).toHaveLength(2);
      expect(bare.problems.every((p) => p.evidenceDetails === undefined)).toBe(true);
      const repeated = (await page(`nextPageKey=${key}&fields=evidenceDetails`)).body as ProblemPage;
      expect(repeated.problems.every((p) => p.evidenceDetails !== undefined)).toBe(true);
      // Every other parameter still must not go with the key.
      expect((await page(`nextPageKey=${key}&pageSize=2`)).status).toBe(400);
    });

    it('adds comments (v2 answers 201 without a body) and pages through them', async () => {
      const id = problemIds[0]!;
      for (let i = 0; i < 3; i++) await env.problems.addComment(id, { message: `note ${i}`, context: 'autopilot' });
      await env.problems.addCommentV1(id, { comment: 'v1 note', user: 'autopilot', context: 'autopilot' });
      const comments = await collect(env.problems.comments(id, { pageSize: 2 }));
      expect(comments.map((c) => c.content)).toEqual(['v1 note', 'note 2', 'note 1', 'note 0']);
      // Tokens are owned by the owner of the token that created them: here the cluster token "admin".
      expect(comments[1]).toMatchObject({ context: 'autopilot', authorName: 'admin' });
      const empty = await failureOf(() => env.problems.addComment(id, { message: '' }));
      expect(empty).toMatchObject({ status: 400 });
    });

    it('needs problems.write to comment (403 names the scope)', async () => {
      const { token } = await dt.environment('read-only', ['problems.read']);
      await dt.control('/environments/read-only/hosts', { hostName: 'ro-1' });
      const p = await dt.control<{ problemId: string }>('/problems', { environmentId: 'read-only', hostName: 'ro-1' });
      const readOnly = dt.client.environment('read-only', token);
      await readOnly.problems.get(p.problemId);
      const err = await failureOf(() => readOnly.problems.addComment(p.problemId, { message: 'x' }));
      expect(err).toMatchObject({ status: 403, type: DynatraceFailureType.forbidden, nonRetryable: true });
      expect(err.message).toContain('Use one of: problems.write (Write problems)');
    });
  });

  describe('settings 2.0: alerting profile and webhook notification', () => {
    it('creates, finds by externalId, updates and deletes objects; secret headers are never read back', async () => {
      const [profileId] = await env.settings.create([
        {
          schemaId: 'builtin:alerting.profile',
          scope: 'environment',
          externalId: 'autopilot:env-api:cpu',
          value: {
            name: 'env-api CPU saturation (immediate)',
            severityRules: [{ severityLevel: 'RESOURCE_CONTENTION', delayInMinutes: 0, tagFilterIncludeMode: 'NONE' }],
            eventFilters: [{ type: 'PREDEFINED', predefinedFilter: { eventType: 'OSI_HIGH_CPU', negate: false } }],
          },
        },
      ]);
      const [hookId] = await env.settings.create([
        {
          schemaId: 'builtin:problem.notifications',
          scope: 'environment',
          externalId: 'autopilot:env-api:webhook',
          value: {
            enabled: true,
            type: 'WEBHOOK',
            displayName: 'Autopilot',
            alertingProfile: profileId!,
            webHookNotification: {
              url: 'http://127.0.0.1:9/webhooks/dynatrace/env-api',
              headers: [{ name: 'X-Autopilot-Key', secret: true, secretValue: 'shh-secret' }],
              payload: '{"State":"{State}","PID":"{PID}","ImpactedEntities":{ImpactedEntities}}',
            },
          },
        },
      ]);
      const found = await collect(env.settings.list({ externalIds: ['autopilot:env-api:webhook'] }));
      expect(found).toHaveLength(1);
      expect(found[0]).toMatchObject({ objectId: hookId, externalId: 'autopilot:env-api:webhook' });
      expect(JSON.stringify(found[0])).not.toContain('shh-secret');

      const profiles = await collect(env.settings.list({ schemaIds: ['builtin:alerting.profile'], pageSize: 1 }));
      expect(profiles.map((p) => p.value.name).sort()).toEqual(['Default', 'env-api CPU saturation (immediate)']);

      const duplicate = await failureOf(() =>
        env.settings.create([
          {
            schemaId: 'builtin:alerting.profile',
            scope: 'environment',
            externalId: 'autopilot:env-api:cpu',
            value: { name: 'again' },
          },
        ]),
      );
      expect(duplicate).toMatchObject({ status: 409, type: DynatraceFailureType.conflict });

      const badPayload = await failureOf(() =>
        env.settings.create([
          {
            schemaId: 'builtin:problem.notifications',
            scope: 'environment',
            value: {
              enabled: true,
              type: 'WEBHOOK',
              displayName: 'broken',
              alertingProfile: profileId!,
              webHookNotification: { url: 'http://127.0.0.1:9/x', payload: '{"State":{State}}' },
            },
          },
        ]),
      );
      expect(badPayload).toMatchObject({ status: 400, type: DynatraceFailureType.badRequest });
      expect(badPayload.message).toContain('webHookNotification.payload: the rendered payload is not valid JSON');

      await env.settings.update(profileId!, {
        name: 'renamed',
        severityRules: [{ severityLevel: 'RESOURCE_CONTENTION', delayInMinutes: 0, tagFilterIncludeMode: 'NONE' }],
      });
      const renamed = await collect(env.settings.list({ externalIds: ['autopilot:env-api:cpu'] }));
      expect(renamed[0]?.value.name).toBe('renamed');

      await env.settings.delete(hookId!);
      expect(await collect(env.settings.list({ externalIds: ['autopilot:env-api:webhook'] }))).toEqual([]);
    });

    const profileValue = {
      name: 'env-api sets',
      severityRules: [
        { severityLevel: 'RESOURCE_CONTENTION', delayInMinutes: 0, tagFilterIncludeMode: 'NONE' },
        { severityLevel: 'AVAILABILITY', delayInMinutes: 5, tagFilterIncludeMode: 'NONE' },
      ],
      eventFilters: [{ type: 'PREDEFINED', predefinedFilter: { eventType: 'OSI_HIGH_CPU', negate: false } }],
    };

    it('returns set-typed properties in its own order and fills in defaults; the comparison treats both as equal', async () => {
      const [profileId] = await env.settings.create([
        { schemaId: 'builtin:alerting.profile', scope: 'environment', externalId: 'sets:profile', value: profileValue },
      ]);
      const hook = {
        enabled: true,
        type: 'WEBHOOK',
        displayName: 'sets',
        alertingProfile: profileId!,
        webHookNotification: {
          url: 'http://127.0.0.1:9/sets',
          headers: [
            { name: 'Z-Plain', secret: false, value: 'z' },
            { name: 'a-secret', secret: true, secretValue: 'shh-set-secret' },
            { name: 'M-Plain', value: 'm' },
          ],
          payload: '{"State":"{State}","PID":"{PID}"}',
        },
      };
      await env.settings.create([
        { schemaId: 'builtin:problem.notifications', scope: 'environment', externalId: 'sets:hook', value: hook },
      ]);
      const [readHook] = await collect(env.settings.list({ externalIds: ['sets:hook'] }));
      const readHeaders = (readHook!.value.webHookNotification as { headers: Record<string, unknown>[] }).headers;
      expect(readHeaders).toEqual([
        { name: 'a-secret', secret: true },
        { name: 'M-Plain', secret: false, value: 'm' },
        { name: 'Z-Plain', secret: false, value: 'z' },
      ]);
      expect(readHook!.value.webHookNotification).toMatchObject({
        acceptAnyCertificate: false,
        notifyClosedProblems: true,
      });
      expect(settingsValueMatches('builtin:problem.notifications', readHook!.value, hook)).toBe(true);
      const rotated = {
        ...hook,
        webHookNotification: {
          ...hook.webHookNotification,
          headers: [...hook.webHookNotification.headers.slice(0, 2), { name: 'M-Plain', value: 'changed' }],
        },
      };
      expect(settingsValueMatches('builtin:problem.notifications', readHook!.value, rotated)).toBe(false);

      const [readProfile] = await collect(env.settings.list({ externalIds: ['sets:profile'] }));
      expect((readProfile!.value.severityRules as { severityLevel: string }[]).map((r) => r.severityLevel)).toEqual([
        'AVAILABILITY',
        'RESOURCE_CONTENTION',
      ]);
      expect(settingsValueMatches('builtin:alerting.profile', readProfile!.value, profileValue)).toBe(true);
      // An ordered list stays ordered: the same elements swapped are a difference there.
      expect(settingsValueMatches('builtin:other', { list: [1, 2] }, { list: [2, 1] })).toBe(false);
      expect(settingsValueMatches('builtin:other', { list: [1, 2] }, { list: [1, 2] })).toBe(true);
    });

    it('can ignore the externalIds filter like an older cluster: the whole schema, Default first', async () => {
      await dt.control('/knobs', { settingsIgnoreExternalIdsFilter: true });
      try {
        const listed = await collect(
          env.settings.list({ externalIds: ['sets:profile'], schemaIds: ['builtin:alerting.profile'], pageSize: 1 }),
        );
        expect(listed.length).toBeGreaterThan(1);
        expect(listed[0]).toMatchObject({ value: { name: 'Default' } });
        expect(listed.map((o) => o.externalId)).toContain('sets:profile');
        expect(listed.every((o, i) => i === 0 || (o.created ?? 0) >= (listed[i - 1]!.created ?? 0))).toBe(true);
        const withoutSchema = await failureOf(() => collect(env.settings.list({ externalIds: ['sets:profile'] })));
        expect(withoutSchema).toMatchObject({ status: 400, type: DynatraceFailureType.badRequest });
      } finally {
        await dt.control('/knobs', { settingsIgnoreExternalIdsFilter: false });
      }
      expect(await collect(env.settings.list({ externalIds: ['sets:profile'] }))).toHaveLength(1);
    });

    it('protects the name of the Default alerting profile (400 naming the field)', async () => {
      const [defaultProfile] = (await collect(env.settings.list({ schemaIds: ['builtin:alerting.profile'] }))).filter(
        (o) => o.value.name === 'Default',
      );
      const renamed = await failureOf(() =>
        env.settings.update(defaultProfile!.objectId, { ...defaultProfile!.value, name: 'Not default' }),
      );
      expect(renamed).toMatchObject({ status: 400, type: DynatraceFailureType.badRequest, nonRetryable: true });
      expect(renamed.message).toContain('name: This is the default alerting profile');
    });
  });
});
