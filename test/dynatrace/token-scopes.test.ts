import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities, type ActivityDeps } from '../../src/activities/index.js';
import { TOKEN_PURPOSES } from '../../src/activities/onboarding/ensure-environment-token.js';
import { checkClusterToken, checkEnvironment, CLUSTER_SCOPE_PROBES } from '../../src/cli/doctor-checks.js';
import { projectRoot } from '../../src/config/config.js';
import { Secret } from '../../src/config/secret.js';
import {
  featuresNeeding,
  requiredScopes,
  SCOPE_REQUIREMENTS,
  scopesFromForbiddenMessage,
  TOKEN_KINDS,
  TOKEN_LABELS,
  type TokenKind,
} from '../../src/dynatrace/token-scopes.js';
import { Router } from '../../sandbox/dynatrace/router.js';
import { registerApiTokenRoutes } from '../../sandbox/dynatrace/routes/api-tokens.js';
import { registerClusterRoutes } from '../../sandbox/dynatrace/routes/cluster.js';
import { registerDeploymentRoutes } from '../../sandbox/dynatrace/routes/deployment.js';
import { registerEntityRoutes } from '../../sandbox/dynatrace/routes/entities.js';
import { registerProblemRoutes } from '../../sandbox/dynatrace/routes/problems.js';
import { registerSettingsRoutes } from '../../sandbox/dynatrace/routes/settings.js';
import type { SimulatorServices } from '../../sandbox/dynatrace/services.js';
import { CLUSTER_SCOPES, ENVIRONMENT_SCOPES, scopeList } from '../../sandbox/dynatrace/tokens.js';
import { secretRefs } from '../../src/secrets/secret-store.js';
import { quietActivityEnvironment, testActivityDeps, testFleetDatabase } from '../helpers/autopilot.js';
import { startTestCluster, type TestCluster } from '../helpers/simulator.js';
import { markdownTableRows } from '../helpers/markdown-table.js';

/** Route names differ in parameter names only (`{id}` in the simulator, `{environmentId}` in the table). */
const routeKey = (route: string) => route.replace(/\{[^}]*\}/g, '{}');

const tableRoutes = (kind?: TokenKind) =>
  new Set(
    SCOPE_REQUIREMENTS.filter((r) => !kind || r.token === kind).flatMap((r) =>
      r.endpoints.map((e) => routeKey(`${e.method} ${e.path}`)),
    ),
  );

/** The simulator's routes with the scopes each declares, built without starting it. */
function simulatorRouter(): Router {
  const router = new Router();
  // Registration only records routes; the services are used by handlers, which never run here.
  const svc = {} as SimulatorServices;
  registerClusterRoutes(router, svc);
  registerApiTokenRoutes(router, svc);
  registerDeploymentRoutes(router, svc);
  registerEntityRoutes(router);
  registerProblemRoutes(router, svc);
  registerSettingsRoutes(router, svc);
  return router;
}

/** A concrete path for a table path: every parameter gets a plausible value. */
function concrete(pathTemplate: string): string {
  const values: Record<string, string> = {
    osType: 'unix',
    installerType: 'default',
    version: '1.301.42.20260915-101500',
  };
  return pathTemplate.replace(/\{(\w+)\}/g, (_, name: string) => values[name] ?? `x-${name}`);
}

describe('SCOPE_REQUIREMENTS, the table', () => {
  it('has one scope per token and call, and says for each why and for what', () => {
    const scopeOf = new Map<string, string>();
    for (const r of SCOPE_REQUIREMENTS) {
      expect(r.feature.length, r.scope).toBeGreaterThan(0);
      expect(r.why.length, r.scope).toBeGreaterThan(0);
      expect(r.endpoints.length, r.scope).toBeGreaterThan(0);
      for (const e of r.endpoints) {
        const key = `${r.token} ${e.method} ${e.path}`;
        expect(scopeOf.get(key) ?? r.scope, key).toBe(r.scope);
        scopeOf.set(key, r.scope);
      }
    }
    expect(new Set(SCOPE_REQUIREMENTS.map((r) => r.token))).toEqual(new Set(TOKEN_KINDS));
  });

  it('names only scopes Dynatrace has, cluster scopes on the cluster token and environment scopes elsewhere', () => {
    for (const r of SCOPE_REQUIREMENTS) {
      const known: readonly string[] = r.token === 'cluster' ? CLUSTER_SCOPES : ENVIRONMENT_SCOPES;
      expect(known, `${r.token} ${r.scope}`).toContain(r.scope);
    }
  });

  it('the onboarding mints the installer-download and automation tokens with exactly the required scopes', () => {
    expect(Object.keys(TOKEN_PURPOSES).sort()).toEqual(['automation', 'installer-download']);
    for (const purpose of ['installer-download', 'automation'] as const) {
      expect([...TOKEN_PURPOSES[purpose]].sort(), purpose).toEqual(requiredScopes(purpose).sort());
    }
  });

  it('agrees with the scope the simulator checks on every call it lists', () => {
    const router = simulatorRouter();
    for (const r of SCOPE_REQUIREMENTS) {
      for (const e of r.endpoints) {
        const matched = router.match(e.method, concrete(e.path));
        if (matched === undefined || matched === 'method-not-allowed') {
          throw new Error(`the simulator has no route for ${e.method} ${e.path}`);
        }
        expect(matched.route.area, `${e.method} ${e.path}`).toBe(r.token === 'cluster' ? 'cluster' : 'environment');
        expect(matched.route.scopes, `${e.method} ${e.path}`).toContain(r.scope);
      }
    }
  });

  it('doctor has a harmless probe for every cluster scope and nothing else', () => {
    expect(Object.keys(CLUSTER_SCOPE_PROBES).sort()).toEqual(requiredScopes('cluster').sort());
  });

  it('featuresNeeding lists each feature once, in table order', () => {
    expect(featuresNeeding('cluster', 'ServiceProviderAPI')).toEqual([
      'Onboarding: environment',
      'Onboarding: user groups',
      'autopilot doctor',
    ]);
    expect(featuresNeeding('installer-download', 'InstallerDownload')).toEqual([
      'Onboarding: OneAgent installer',
      'Enrollment: install OneAgent',
    ]);
    expect(featuresNeeding('automation', 'apiTokens.read')).toEqual([]);
  });
});

describe('scopesFromForbiddenMessage', () => {
  it('reads the scope names of Dynatrace 403 answers, labels and all', () => {
    expect(
      scopesFromForbiddenMessage('Token is missing required scope. Use one of: problems.read (Read problems)'),
    ).toEqual(['problems.read']);
    // Labels hold commas: names are what stands before each parenthesis.
    expect(
      scopesFromForbiddenMessage(
        `Token is missing required scope. Use one of: ${scopeList(['DataExport', 'ReadConfig'])}`,
      ),
    ).toEqual(['DataExport', 'ReadConfig']);
    expect(
      scopesFromForbiddenMessage(
        `Token is missing required scope. Use one of: ${scopeList(['InstallerDownload', 'EnvironmentTokenManagement'])}`,
      ),
    ).toEqual(['InstallerDownload', 'EnvironmentTokenManagement']);
  });

  it('reads an answer without labels, whatever the case of the marker', () => {
    expect(
      scopesFromForbiddenMessage('Token is missing required scope. USE ONE OF: problems.read, DataExport.'),
    ).toEqual(['problems.read', 'DataExport']);
    expect(scopesFromForbiddenMessage('use one of: apiTokens.read')).toEqual(['apiTokens.read']);
  });

  it('finds nothing in other answers', () => {
    expect(scopesFromForbiddenMessage('Token Authentication failed')).toEqual([]);
    expect(scopesFromForbiddenMessage('Forbidden (no reason given)')).toEqual([]);
    expect(scopesFromForbiddenMessage('')).toEqual([]);
  });
});

describe('docs/least-privilege.md', () => {
  const doc = readFileSync(path.join(projectRoot, 'docs/least-privilege.md'), 'utf8');

  /** The body rows of the table between `<!-- name -->` and `<!-- /name -->`, cells trimmed. */
  const rows = (name: string): string[][] => {
    const start = doc.indexOf(`<!-- ${name} -->`);
    const end = doc.indexOf(`<!-- /${name} -->`);
    expect(start, name).toBeGreaterThanOrEqual(0);
    expect(end, name).toBeGreaterThan(start);
    return markdownTableRows(doc.slice(start, end));
  };
  const unquote = (cell: string) => cell.replace(/^`|`$/g, '');
  const kindOf = (label: string) => TOKEN_KINDS.find((k) => TOKEN_LABELS[k] === label) ?? label;

  it('lists exactly the scopes of each token', () => {
    expect(rows('scopes:summary').map(([token, scopes]) => [kindOf(token!), scopes!.split(', ').map(unquote)])).toEqual(
      TOKEN_KINDS.map((k) => [k, requiredScopes(k)]),
    );
  });

  it('lists exactly the requirements: token, scope, feature and calls', () => {
    expect(
      rows('scopes:detail').map(([token, scope, feature, calls]) => ({
        token: kindOf(token!),
        scope: unquote(scope!),
        feature,
        calls: calls!.split('<br>').map(unquote),
      })),
    ).toEqual(
      SCOPE_REQUIREMENTS.map((r) => ({
        token: r.token,
        scope: r.scope,
        feature: r.feature,
        calls: r.endpoints.map((e) => `${e.method} ${e.path}`),
      })),
    );
  });
});

/**
 * The real activities, each token holding exactly `requiredScopes(kind)`, against the simulator:
 * nothing may be refused (the scopes suffice), every call made must be in the table, and every call
 * in the table must be made (so it lists nothing the code does not do).
 */
describe('the activities with least-privilege tokens against the simulator', () => {
  let dt: TestCluster;
  let deps: ActivityDeps;
  let acts: ReturnType<typeof createActivities>;
  let clusterToken: string;
  let database: Awaited<ReturnType<typeof testFleetDatabase>> | undefined;
  const activity = quietActivityEnvironment();
  /** Requests made by activities (setup calls of the test are not counted), by route and status. */
  const made = new Map<string, Map<number, number>>();

  const run = async <R>(fn: () => Promise<R>): Promise<R> => {
    const before = structuredClone(dt.simulator.stats.requests);
    try {
      return await activity.run(fn);
    } finally {
      for (const [route, statuses] of Object.entries(dt.simulator.stats.requests)) {
        for (const [status, count] of Object.entries(statuses)) {
          const delta = count - (before[route]?.[status] ?? 0);
          if (delta <= 0) continue;
          const byStatus = made.get(route) ?? new Map<number, number>();
          byStatus.set(Number(status), (byStatus.get(Number(status)) ?? 0) + delta);
          made.set(route, byStatus);
        }
      }
    }
  };

  /** A token-management token for the test's own setup calls (not counted: made outside `run`). */
  const setupTokenManagement = (environmentId: string) =>
    dt.client
      .cluster(dt.clusterToken)
      .createTokenManagementToken(environmentId, { name: 'test setup', expiresInSeconds: 600 });

  beforeAll(async () => {
    dt = await startTestCluster();
    clusterToken = (
      await dt.control<{ token: string }>('/cluster-tokens', { name: 'least', scopes: requiredScopes('cluster') })
    ).token;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-scopes-'));
    database = await testFleetDatabase(dir);
    deps = testActivityDeps({
      dt,
      dir,
      registry: database.registry,
      clusterToken: new Secret(clusterToken),
      webhook: { publicUrl: 'http://127.0.0.1:9/hooks', apiKey: new Secret('k'.repeat(32)) },
    });
    acts = createActivities(deps);
  });
  afterAll(async () => {
    await dt?.stop();
    await database?.close();
  });

  it('cluster token: environments, groups shared by two environments, short-lived token management', async () => {
    for (const id of ['lp-p1', 'lp-p2']) {
      await run(() => acts.ensureEnvironment({ environmentId: id, name: `Least privilege ${id}`, tags: [] }));
      // The second environment merges its rights into the group the first created (the PUT).
      await run(() =>
        acts.ensureUserGroups({
          environmentId: id,
          groups: [{ name: 'lp-admins', permissions: ['VIEWER'], ldapGroupNames: [] }],
        }),
      );
    }
    expect(await run(() => acts.ensureTokenManagementToken({ environmentId: 'lp-p1' }))).toEqual({
      action: 'short-lived',
    });
    // A permanent token-management token an earlier version kept: revoked and forgotten.
    const legacy = await setupTokenManagement('lp-p2');
    await deps.secrets.put(secretRefs.tokenManagementToken('lp-p2'), legacy, { source: 'createToken' });
    expect(await run(() => acts.ensureTokenManagementToken({ environmentId: 'lp-p2' }))).toEqual({
      action: 'short-lived',
      legacyRevoked: true,
    });
    expect(await deps.secrets.get(secretRefs.tokenManagementToken('lp-p2'))).toBeUndefined();
    expect(
      await dt.client
        .environment('lp-p2', legacy)
        .tokens.lookup(legacy)
        .catch((e: Error) => e.message),
    ).toMatch(/401/);
  });

  it('short-lived token-management token: mints, reuses and revokes environment tokens', async () => {
    // An orphan of a crashed run, for the revoke.
    const tmt = await setupTokenManagement('lp-p1');
    await dt.client
      .environment('lp-p1', tmt)
      .tokens.create({ name: 'dynatrace-autopilot-automation', scopes: ['entities.read'] });
    for (const purpose of ['installer-download', 'automation'] as const) {
      const ensure = () =>
        acts.ensureEnvironmentToken({ environmentId: 'lp-p1', purpose, validityDays: 30, rotateBeforeDays: 7 });
      expect((await run(ensure)).action).toBe('created');
      expect((await run(ensure)).action).toBe('reused');
    }
  });

  it('installer-download token: the latest installer into the cache', async () => {
    expect((await run(() => acts.ensureInstaller({ environmentId: 'lp-p1', arch: 'x86' }))).action).toBe('downloaded');
  });

  it('automation token: notifications written then updated, host lookup, problem validation, comments', async () => {
    expect((await run(() => acts.ensureProblemNotifications({ environmentId: 'lp-p1' }))).status).toBe('configured');
    deps.webhook = { publicUrl: 'http://127.0.0.1:9/moved', apiKey: new Secret('k'.repeat(32)) };
    await run(() => acts.ensureProblemNotifications({ environmentId: 'lp-p1' }));

    const { entityId } = await dt.control<{ entityId: string }>('/environments/lp-p1/hosts', { hostName: 'lp-host' });
    expect(await run(() => acts.findReportingHost({ environmentId: 'lp-p1', hostname: 'lp-host' }))).toMatchObject({
      entityId,
    });
    // No EC2 instance id anywhere: both lookups are made, and the answer comes before any AWS call.
    expect(
      await run(() => acts.resolveCatalogContext({ environmentId: 'lp-p1', hostEntityId: entityId })),
    ).toMatchObject({ ok: false });

    const cpuEventTypes = ['OSI_HIGH_CPU', 'CPU_SATURATED'];
    const cpu = await dt.control<{ problemId: string }>('/problems', { environmentId: 'lp-p1', hostName: 'lp-host' });
    expect(
      await run(() =>
        acts.validateProblemOccurrence({
          environmentId: 'lp-p1',
          problemId: cpu.problemId,
          hostEntityId: entityId,
          cpuEventTypes,
        }),
      ),
    ).toMatchObject({ valid: true });
    // Without CPU evidence in v2 the ranked events of v1 are asked.
    const memory = await dt.control<{ problemId: string }>('/problems', {
      environmentId: 'lp-p1',
      hostName: 'lp-host',
      kind: 'MEMORY_SATURATION',
    });
    expect(
      await run(() =>
        acts.validateProblemOccurrence({
          environmentId: 'lp-p1',
          problemId: memory.problemId,
          hostEntityId: entityId,
          cpuEventTypes,
        }),
      ),
    ).toMatchObject({ valid: false });
    expect(
      await run(() =>
        acts.commentOnProblems({
          environmentId: 'lp-p1',
          problemIds: [cpu.problemId],
          message: 'resized',
          marker: 'lp',
        }),
      ),
    ).toEqual({ commented: [cpu.problemId], alreadyCommented: [] });
  });

  it('doctor: lists the environments and finds every least-privilege token complete', async () => {
    const endpoint = { url: dt.simulator.url, token: new Secret(clusterToken), source: 'test', sandbox: false };
    const cluster = await run(() => checkClusterToken(dt.client, endpoint));
    expect(cluster.check).toMatchObject({ status: 'ok', grantedScopes: requiredScopes('cluster') });
    const checks = await run(() =>
      checkEnvironment(dt.client, deps.secrets, 'lp-p1', {
        now: Date.now(),
        warnDays: 7,
        url: dt.simulator.url,
        sandbox: false,
        clusterToken,
      }),
    );
    expect(checks.map((c) => [c.token, c.status])).toEqual([
      ['token-management', 'ok'],
      ['installer-download', 'ok'],
      ['automation', 'ok'],
    ]);
  });

  it('automation token: the fleet scan reads every environment’s problems and counts hosts', async () => {
    const report = await run(() =>
      acts.scanFleet({
        intervalSeconds: 30,
        hostCensusMinutes: 10,
        retentionDays: 30,
        concurrency: 10,
        incident: { environments: 5, windowMinutes: 10 },
      }),
    );
    // lp-p2 was only half onboarded above: the scan says so for it and reads the rest.
    expect(report.failures.map((f) => f.error)).toEqual(
      Array(report.failed).fill(expect.stringContaining('no automation token in the secret store')),
    );
    expect(report.environments - report.failed).toBeGreaterThan(0);
    expect(report.hostCensuses).toBeGreaterThan(0);
  });

  it('nothing was refused, every call made is in the table, and every call in the table was made', () => {
    const refused = [...made].filter(([, statuses]) => statuses.has(401) || statuses.has(403)).map(([route]) => route);
    expect(refused).toEqual([]);
    const api = [...made.keys()].filter((r) => /^[A-Z]+ \/(api|e)\//.test(r)).map(routeKey);
    expect(api.filter((r) => !tableRoutes().has(r))).toEqual([]);
    expect([...tableRoutes()].filter((r) => !api.includes(r))).toEqual([]);
  });
});
