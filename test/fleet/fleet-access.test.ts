import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config.js';
import type { FleetDatabase } from '../../src/database/open-fleet-database.js';
import type { FleetAnswer } from '../../src/fleet/fleet-query.js';
import { startFleetServer, type RunningFleetServer } from '../../src/fleet-server/start-fleet-server.js';
import type { EnvironmentRegistry } from '../../src/registry/environment-registry.js';
import { createJsonLogger } from '../../src/observability/json-logger.js';
import { FileSecretStore } from '../../src/secrets/file-secret-store.js';
import { testDynatraceAccess, testFleetDatabase } from '../helpers/autopilot.js';
import { insertEnvironments, seedFleetEnvironments } from '../helpers/fleet-seed.js';
import { startTestIssuer, type TestIssuer } from '../helpers/oidc-issuer.js';
import { freePort } from '../helpers/processes.js';
import { rawRequest } from '../helpers/raw-http.js';
import { startTestCluster, type TestCluster } from '../helpers/simulator.js';
import { testConfig } from '../helpers/temporal.js';
import { thrownBy } from '../helpers/thrown.js';

const READ = `fleet-read-${randomBytes(12).toString('hex')}`;
const WRITE = `fleet-write-${randomBytes(12).toString('hex')}`;
const AUDIENCE = 'autopilot-fleet';
const MZ = 'builtin:management-zones';
const ENVIRONMENTS = ['acc1-p1', 'acc2-p1', 'acc3-p1'];
/** Small limits, so that a few settings objects reach them. */
const MAX_PAGES = 5;
const MAX_BYTES = 4096;
const logger = createJsonLogger('ERROR', () => undefined);

type Line = FleetAnswer & { done?: true; outcome?: string };
const lines = (text: string): Line[] =>
  text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line);

/**
 * Who may do what at the fleet server, against a real one on loopback in front of the simulator:
 * the read and the write token, OIDC readers and writers, browser sessions and signing out, the
 * host name and origin checks, fleet API paths, the limits of an answer, and selectors that used to
 * take seconds. Every refusal is checked to have changed nothing in the simulator.
 */
describe('fleet server access: every credential does one job', () => {
  let dt: TestCluster;
  let database: FleetDatabase & { registry: EnvironmentRegistry };
  let issuer: TestIssuer;
  let fleet: RunningFleetServer;
  let base: string;
  let host: string;
  const tokens = new Map<string, string>();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-fleet-access-'));

  /** A request as a script or a browser sends it, with every header given (Host included). */
  const send = (
    route: string,
    options: { method?: string; headers?: Record<string, string | undefined>; body?: string; bearer?: string } = {},
  ) =>
    rawRequest(`${base}${route}`, {
      method: options.method ?? 'GET',
      headers: {
        host,
        ...(options.bearer ? { authorization: `Bearer ${options.bearer}` } : {}),
        ...(options.body !== undefined && !options.headers?.['content-type']
          ? { 'content-type': 'application/json' }
          : {}),
        ...options.headers,
      },
      ...(options.body !== undefined ? { body: options.body } : {}),
    });

  /** Straight to the simulator with the environment's own token: what is there, untouched by the fleet server. */
  const direct = async (id: string, method: string, route: string, body?: unknown) => {
    const response = await fetch(`${dt.simulator.url}/e/${id}/api/${route}`, {
      method,
      headers: { authorization: `Api-Token ${tokens.get(id)}`, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    expect(response.ok, `${method} ${route}`).toBe(true);
    return response.status === 204 ? undefined : await response.json();
  };
  const zones = async (id: string) =>
    (
      (await direct(id, 'GET', `v2/settings/objects?schemaIds=${MZ}&fields=objectId,value&pageSize=500`)) as {
        items: { objectId: string; value: { name: string; description: string | null } }[];
      }
    ).items;
  const createZone = async (id: string, name: string, description: string | null = null) =>
    (
      (await direct(id, 'POST', 'v2/settings/objects', [
        { schemaId: MZ, scope: 'environment', value: { name, description } },
      ])) as { objectId: string }[]
    )[0]!.objectId;
  /** Every request the simulator has served (its control API aside). */
  const served = async () => (await dt.stats()).requestsTotal;
  /** Runs an attack and checks that the simulator served nothing and no zone changed meanwhile. */
  const changesNothing = async <T>(attack: () => Promise<T>): Promise<T> => {
    const zonesBefore = await Promise.all(ENVIRONMENTS.map(zones));
    const before = await served();
    const result = await attack();
    expect(await served()).toBe(before);
    expect(await Promise.all(ENVIRONMENTS.map(zones))).toEqual(zonesBefore);
    return result;
  };
  const signIn = async (token: string) => {
    const response = await send('/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base },
      body: new URLSearchParams({ token }).toString(),
    });
    expect(response.status, response.text).toBe(303);
    const setCookie = String(response.headers['set-cookie']);
    return { setCookie, cookie: setCookie.split(';')[0]! };
  };

  beforeAll(async () => {
    dt = await startTestCluster();
    database = await testFleetDatabase(dir);
    const secrets = new FileSecretStore(path.join(dir, 'secrets'), randomBytes(32));
    for (const [id, token] of await seedFleetEnvironments(dt, database.registry, secrets, ENVIRONMENTS)) {
      tokens.set(id, token);
    }
    issuer = await startTestIssuer();
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    host = `127.0.0.1:${port}`;
    fleet = await startFleetServer(
      testConfig({
        AUTOPILOT_FLEET_PORT: String(port),
        AUTOPILOT_FLEET_READ_TOKEN: READ,
        AUTOPILOT_FLEET_WRITE_TOKEN: WRITE,
        AUTOPILOT_FLEET_OIDC_ISSUER: issuer.issuer,
        AUTOPILOT_FLEET_OIDC_AUDIENCE: AUDIENCE,
        AUTOPILOT_FLEET_OIDC_WRITERS: 'fleet-writers',
        AUTOPILOT_FLEET_QUERY_MAX_PAGES: String(MAX_PAGES),
        AUTOPILOT_FLEET_QUERY_MAX_BYTES: String(MAX_BYTES),
      }),
      {
        dynatrace: testDynatraceAccess({ dt, registry: database.registry, secrets }),
        client: undefined,
        logger,
      },
      { sandbox: false, pageDir: path.join(dir, 'no-page') },
    );
    expect(fleet.url).toBe(base);
  }, 120_000);

  afterAll(async () => {
    await fleet?.stop();
    await issuer?.stop();
    await database?.close();
    await dt?.stop();
  });

  it('reads with either token; POST, PUT and DELETE with the read token are 403 and change nothing', async () => {
    for (const bearer of [READ, WRITE]) expect((await send('/fleet/status', { bearer })).status).toBe(200);
    const zone = await createZone('acc1-p1', 'before');
    for (const [method, route, body] of [
      ['PUT', `/fleet/api/v2/settings/objects/${zone}?environments=acc1-p1`, { value: { name: 'after' } }],
      ['DELETE', `/fleet/api/v2/settings/objects/${zone}?environments=acc1-p1`, undefined],
      ['POST', '/fleet/api/v2/settings/objects?environments=acc*', [{ schemaId: MZ, scope: 'environment', value: {} }]],
    ] as const) {
      const refused = await changesNothing(() =>
        send(route, { method, bearer: READ, ...(body ? { body: JSON.stringify(body) } : {}) }),
      );
      expect(refused.status, method).toBe(403);
      expect(JSON.parse(refused.text)).toMatchObject({ error: 'read_only_credential' });
      expect(refused.text).toContain('AUTOPILOT_FLEET_WRITE_TOKEN');
    }
    expect((await zones('acc1-p1')).find((z) => z.objectId === zone)?.value.name).toBe('before');
  });

  it('writes with the write token: a PUT and a POST with a body reach every selected environment', async () => {
    const zone = (await zones('acc1-p1'))[0]!.objectId;
    const put = await send(`/fleet/api/v2/settings/objects/${zone}?environments=acc1-p1`, {
      method: 'PUT',
      bearer: WRITE,
      body: JSON.stringify({ value: { name: 'renamed through the fleet' } }),
    });
    expect(put.status).toBe(200);
    const answers = lines(put.text);
    expect(answers[0]).toMatchObject({ environmentId: 'acc1-p1', ok: true, status: 200 });
    expect(answers.at(-1)).toMatchObject({ done: true, outcome: 'complete' });
    expect((await zones('acc1-p1')).find((z) => z.objectId === zone)?.value.name).toBe('renamed through the fleet');

    const post = await send('/fleet/api/v2/settings/objects?environments=acc*', {
      method: 'POST',
      bearer: WRITE,
      body: JSON.stringify([{ schemaId: MZ, scope: 'environment', value: { name: 'fleet-wide' } }]),
    });
    expect(lines(post.text).at(-1)).toMatchObject({ done: true, environments: 3, ok: 3, outcome: 'complete' });
    for (const id of ENVIRONMENTS) expect((await zones(id)).map((z) => z.value.name)).toContain('fleet-wide');
  });

  it('OIDC: a token for another audience is 401, a reader cannot write, a member of a writer group can', async () => {
    const reader = await issuer.sign({ aud: AUDIENCE, groups: ['fleet-viewers'] });
    const writer = await issuer.sign({ aud: AUDIENCE, groups: ['fleet-viewers', 'fleet-writers'] });
    const otherApp = await issuer.sign({ aud: 'another-app', groups: ['fleet-writers'] });
    const zone = (await zones('acc2-p1'))[0]!.objectId;
    const put = (bearer: string, name: string) =>
      send(`/fleet/api/v2/settings/objects/${zone}?environments=acc2-p1`, {
        method: 'PUT',
        bearer,
        body: JSON.stringify({ value: { name } }),
      });

    expect((await send('/fleet/status', { bearer: reader })).status).toBe(200);
    const foreign = await changesNothing(() => put(otherApp, 'by another app'));
    expect(foreign.status).toBe(401);
    expect(JSON.parse(foreign.text)).toMatchObject({
      error: 'unauthorized',
      message: 'access token rejected (ERR_JWT_CLAIM_VALIDATION_FAILED)',
    });
    expect((await send('/fleet/status', { bearer: otherApp })).status).toBe(401);
    const read = await changesNothing(() => put(reader, 'by a reader'));
    expect(read.status).toBe(403);
    expect(JSON.parse(read.text)).toMatchObject({ error: 'read_only_credential' });
    expect(read.text).toContain('groups claim');

    const written = await put(writer, 'by a writer');
    expect(lines(written.text)[0]).toMatchObject({ ok: true, status: 200 });
    expect((await zones('acc2-p1')).find((z) => z.objectId === zone)?.value.name).toBe('by a writer');
  });

  it('refuses another host name (DNS rebinding) and writes from another site, before anything is asked', async () => {
    const zone = (await zones('acc3-p1'))[0]!.objectId;
    const route = `/fleet/api/v2/settings/objects/${zone}?environments=acc3-p1`;
    const body = JSON.stringify({ value: { name: 'attacker' } });
    await changesNothing(async () => {
      // A page of rebind.example whose name now resolves to this server: the browser sends its Host.
      for (const [method, headers] of [
        ['GET', { host: `rebind.example:${host.split(':')[1]}` }],
        ['PUT', { host: `rebind.example:${host.split(':')[1]}` }],
        ['GET', { host: 'localhost' }],
      ] as const) {
        const answer = await send(method === 'GET' ? '/fleet/status' : route, {
          method,
          bearer: WRITE,
          headers,
          ...(method === 'PUT' ? { body } : {}),
        });
        expect(answer.status, `${method} ${headers.host}`).toBe(403);
        expect(JSON.parse(answer.text)).toMatchObject({ error: 'host_not_allowed' });
        expect(answer.text).toContain('DNS rebinding');
      }
      // Another site's page calling fetch, or posting a form, with the write credential in a cookie.
      const { cookie } = await signIn(WRITE);
      for (const headers of [
        { origin: 'https://attacker.example', authorization: `Bearer ${WRITE}` },
        { origin: 'null', cookie },
        { 'sec-fetch-site': 'cross-site', cookie },
        { 'sec-fetch-site': 'same-site', cookie },
        { origin: 'https://attacker.example', 'content-type': 'application/x-www-form-urlencoded', cookie },
      ]) {
        const answer = await send(route, { method: 'PUT', headers, body });
        expect(answer.status, JSON.stringify(headers)).toBe(403);
        expect(JSON.parse(answer.text)).toMatchObject({ error: 'cross_origin' });
      }
      // Signing in and out from another site is refused as well.
      const foreignSignIn = await send('/login', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://attacker.example' },
        body: new URLSearchParams({ token: WRITE }).toString(),
      });
      expect(foreignSignIn.status).toBe(403);
      expect(foreignSignIn.headers['set-cookie']).toBeUndefined();
      const foreignSignOut = await send('/logout', {
        method: 'POST',
        headers: { origin: 'https://attacker.example', cookie },
      });
      expect(foreignSignOut.status).toBe(403);
      expect((await send('/fleet/status', { headers: { cookie } })).status).toBe(200);
    });
    // Health answers whatever name a probe uses; it says nothing about the fleet.
    expect((await send('/healthz', { headers: { host: 'probe.internal' } })).status).toBe(200);
    // The server's own page (same origin) and scripts without a browser may write.
    const own = await send(route, { method: 'PUT', bearer: WRITE, headers: { origin: base }, body });
    expect(lines(own.text)[0]).toMatchObject({ ok: true, status: 200 });
  });

  it('browser sessions carry their role, expire, and stay signed out even when the cookie is replayed', async () => {
    const zone = (await zones('acc1-p1'))[0]!.objectId;
    const route = `/fleet/api/v2/settings/objects/${zone}?environments=acc1-p1`;
    const put = (headers: Record<string, string>, name: string) =>
      send(route, { method: 'PUT', headers: { origin: base, ...headers }, body: JSON.stringify({ value: { name } }) });

    const reader = await signIn(READ);
    expect(reader.setCookie).toMatch(/^autopilot_fleet_session=reader\./);
    expect(reader.setCookie).toContain('HttpOnly');
    expect(reader.setCookie).toContain('SameSite=Strict');
    expect(reader.setCookie).toContain('Max-Age=43200');
    expect(reader.setCookie).not.toContain('Secure');
    expect(reader.setCookie).not.toContain(READ);
    const session = JSON.parse((await send('/fleet/session', { headers: { cookie: reader.cookie } })).text) as {
      role: string;
      via: string;
      expiresAt: string;
    };
    expect(session).toMatchObject({ role: 'reader', via: 'session' });
    expect(Date.parse(session.expiresAt) - Date.now()).toBeGreaterThan(11 * 3_600_000);
    const readerWrite = await changesNothing(() => put({ cookie: reader.cookie }, 'by a reader session'));
    expect(readerWrite.status).toBe(403);
    // The role is signed: a reader's cookie renamed to a writer's is no session at all.
    const forged = reader.cookie.replace('=reader.', '=writer.');
    expect((await changesNothing(() => put({ cookie: forged }, 'by a forged session'))).status).toBe(401);
    expect((await send('/fleet/status', { headers: { cookie: forged } })).status).toBe(401);

    const writer = await signIn(WRITE);
    expect(writer.cookie).toMatch(/^autopilot_fleet_session=writer\./);
    expect(lines((await put({ cookie: writer.cookie }, 'by a writer session')).text)[0]).toMatchObject({ ok: true });

    const signOut = await send('/logout', { method: 'POST', headers: { origin: base, cookie: writer.cookie } });
    expect(signOut.status).toBe(303);
    expect(signOut.headers.location).toBe('/login');
    expect(String(signOut.headers['set-cookie'])).toMatch(/^autopilot_fleet_session=; Max-Age=0/);
    // The same cookie, replayed after signing out, is refused for reading and writing.
    expect((await send('/fleet/status', { headers: { cookie: writer.cookie } })).status).toBe(401);
    const replayed = await changesNothing(() => put({ cookie: writer.cookie }, 'by a signed-out session'));
    expect(replayed.status).toBe(401);
    // Other sessions go on.
    expect((await send('/fleet/status', { headers: { cookie: reader.cookie } })).status).toBe(200);
  });

  it('behind https: the cookie is Secure and __Host-, and only the public host name is answered', async () => {
    const port = await freePort();
    const publicUrl = 'https://fleet.example.test';
    const secure = await startFleetServer(
      testConfig({
        AUTOPILOT_FLEET_PORT: String(port),
        AUTOPILOT_FLEET_READ_TOKEN: READ,
        AUTOPILOT_FLEET_WRITE_TOKEN: WRITE,
        AUTOPILOT_FLEET_PUBLIC_URL: publicUrl,
      }),
      {
        dynatrace: testDynatraceAccess({
          dt,
          registry: database.registry,
          secrets: new FileSecretStore(path.join(dir, 'secrets'), randomBytes(32)),
        }),
        client: undefined,
        logger,
      },
      { sandbox: false, pageDir: path.join(dir, 'no-page') },
    );
    try {
      expect(secure.url).toBe(publicUrl);
      const at = (route: string, options: Parameters<typeof rawRequest>[1]) =>
        rawRequest(`http://127.0.0.1:${port}${route}`, options);
      const signIn = await at('/login', {
        method: 'POST',
        headers: {
          host: 'fleet.example.test',
          origin: publicUrl,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ token: READ }).toString(),
      });
      expect(signIn.status).toBe(303);
      const setCookie = String(signIn.headers['set-cookie']);
      expect(setCookie).toMatch(
        /^__Host-autopilot_fleet_session=reader\..*; Path=\/; HttpOnly; SameSite=Strict; Secure$/,
      );
      const cookie = setCookie.split(';')[0]!;
      expect((await at('/fleet/status', { headers: { host: 'fleet.example.test:443', cookie } })).status).toBe(200);
      // The listen address is not the public name: refused, credential or not.
      const direct = await at('/fleet/status', { headers: { host: `127.0.0.1:${port}`, cookie } });
      expect(direct.status).toBe(403);
      expect(JSON.parse(direct.text)).toMatchObject({ error: 'host_not_allowed' });
      // Writes from the http origin of the same name are another origin.
      const plain = await at('/logout', {
        method: 'POST',
        headers: { host: 'fleet.example.test', origin: 'http://fleet.example.test', cookie },
      });
      expect(plain.status).toBe(403);
    } finally {
      await secure.stop();
    }
  });

  it('refuses fleet API paths that decode into dot segments, encoded slashes, backslashes or NUL with 400', async () => {
    await changesNothing(async () => {
      for (const [route, why] of [
        ['v2/%252e%252e/%252e%252e/api/cluster/v2/environments', '"." or ".." segment'],
        ['v2/%2e%2e/%2e%2e/api/cluster/v2/environments', '"." or ".." segment'],
        ['v2/../../api/cluster/v2/environments', '"." or ".." segment'],
        ['v2/problems/./../../cluster', '"." or ".." segment'],
        ['v2/problems%2f..%2f..%2fcluster', 'encoded slash or backslash'],
        ['v2/problems%252f..%252fcluster', 'encoded slash or backslash'],
        ['v2/%25252e%25252e%25252f%25252e%25252e', 'encoded slash or backslash'],
        ['v2/problems%5c..%5ccluster', 'encoded slash or backslash'],
        ['v2/problems\\..\\cluster', 'backslash or a control character'],
        ['v2/problems%00', 'backslash or a control character'],
        ['v2/problems%2500', 'backslash or a control character'],
        ['v2/%25%25%25zz', 'percent-encoding is malformed'],
        ['v2/%2525252525252e', 'percent-encoded too many times over'],
        ['v2//problems', 'empty segment'],
        ['cluster/v2/environments', ''],
      ]) {
        const answer = await send(`/fleet/api/${route}?environments=acc*`, { bearer: WRITE });
        expect(answer.status, route).toBe(400);
        expect(JSON.parse(answer.text), route).toMatchObject({ error: 'bad_request' });
        const { message } = JSON.parse(answer.text) as { message: string };
        expect(message, route).toContain('not an environment API path');
        expect(message, route).toContain(why);
      }
      const token = await send('/fleet/api/v2/problems?environments=acc*&API-TOKEN=x', { bearer: WRITE });
      expect(token.status).toBe(400);
    });
    // An encoded character that is not a separator is decoded and passed on.
    const fine = await send(
      `/fleet/api/v2/settings/%6Fbjects?schemaIds=${encodeURIComponent(MZ)}&environments=acc1-p1`,
      {
        bearer: READ,
      },
    );
    expect(lines(fine.text)[0]).toMatchObject({ ok: true });
  });

  it('allPages stops at the page and byte limits and says so; a single answer beyond the byte limit is refused', async () => {
    // acc2: many small zones, more pages than allowed. acc3: zones of about a kilobyte each.
    for (let i = 0; i < MAX_PAGES + 3; i++) await createZone('acc2-p1', `small-${i}`);
    for (let i = 0; i < 4; i++) await createZone('acc3-p1', `large-${i}`, 'x'.repeat(1_200));
    const route = (id: string, extra: string) =>
      `/fleet/api/v2/settings/objects?schemaIds=${MZ}&fields=objectId,value&environments=${id}${extra}`;

    const paged = lines((await send(route('acc2-p1', '&pageSize=1&allPages=true'), { bearer: READ })).text)[0]!;
    expect(paged).toMatchObject({ ok: true, pages: MAX_PAGES });
    expect(paged.truncated?.reason).toContain(`stopped after ${MAX_PAGES} pages (AUTOPILOT_FLEET_QUERY_MAX_PAGES)`);
    expect((paged.body as { items: unknown[] }).items).toHaveLength(MAX_PAGES);

    const bytes = lines((await send(route('acc3-p1', '&pageSize=1&allPages=true'), { bearer: READ })).text)[0]!;
    expect(bytes.ok).toBe(true);
    expect(bytes.pages).toBeLessThan(MAX_PAGES);
    expect(bytes.truncated?.reason).toContain(`would pass ${MAX_BYTES} bytes (AUTOPILOT_FLEET_QUERY_MAX_BYTES)`);
    expect(JSON.stringify(bytes.body).length).toBeLessThanOrEqual(MAX_BYTES);

    const whole = lines((await send(route('acc3-p1', '&pageSize=100'), { bearer: READ })).text)[0]!;
    expect(whole).toMatchObject({ ok: false, pages: 0 });
    expect(whole.error).toBe(`the answer is longer than ${MAX_BYTES} bytes (AUTOPILOT_FLEET_QUERY_MAX_BYTES)`);
    expect(whole.body).toBeUndefined();

    const complete = lines((await send(route('acc1-p1', '&pageSize=1&allPages=true'), { bearer: READ })).text)[0]!;
    expect(complete.ok).toBe(true);
    expect(complete.truncated).toBeUndefined();
  });

  it('answers twelve `*?` and an x over 5,000 environments in under a second, as one glob and as twelve terms', async () => {
    const ids = Array.from({ length: 5_000 }, (_, i) => `bulk${String(i).padStart(4, '0')}-p1-${'y'.repeat(30)}`);
    await insertEnvironments(database.registry, ids, dt.simulator.url);
    // A first request warms the server's code paths (and the database's plan) up, as any running server is.
    expect(lines((await send('/fleet/api/v2/problems?environments=nothing-*', { bearer: READ })).text)).toHaveLength(1);
    const glob = `${'*?'.repeat(12)}x`;
    for (const selector of [glob, Array.from({ length: 12 }, () => glob).join(' ')]) {
      const started = performance.now();
      const answer = await send(`/fleet/api/v2/problems?environments=${encodeURIComponent(selector)}`, {
        bearer: READ,
      });
      const elapsed = performance.now() - started;
      expect(answer.status).toBe(200);
      expect(lines(answer.text)).toEqual([{ done: true, environments: 0, ok: 0, failed: 0, outcome: 'empty' }]);
      // The bound is the acceptance criterion: a backtracking matcher takes seconds per environment.
      expect(elapsed, selector).toBeLessThan(1_000);
    }
    const tooMany = await send(
      `/fleet/api/v2/problems?environments=${Array.from({ length: 51 }, () => 'a').join(',')}`,
      {
        bearer: READ,
      },
    );
    expect(tooMany.status).toBe(400);
    expect(tooMany.text).toContain('at most 50 are allowed');
  });

  it('limits sign-in attempts per source address', async () => {
    const attempt = (token: string) =>
      send('/login', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base },
        body: new URLSearchParams({ token }).toString(),
      });
    const answers = [];
    for (let i = 0; i < 8; i++) answers.push(await attempt(`wrong-guess-${i}-0123456789`));
    // Earlier tests signed in too: whatever is left of the burst is spent on wrong guesses, then 429.
    expect(answers.slice(-2).map((a) => a.status)).toEqual([429, 429]);
    const limited = await attempt(WRITE);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.text).toContain('Too many sign-in attempts');
    expect(limited.headers['set-cookie']).toBeUndefined();
  });

  it('refuses to start without credentials, or on every interface without a public URL', async () => {
    const deps = {
      dynatrace: testDynatraceAccess({
        dt,
        registry: database.registry,
        secrets: new FileSecretStore(path.join(dir, 'secrets'), randomBytes(32)),
      }),
      client: undefined,
      logger,
    };
    const port = String(await freePort());
    const mode = { sandbox: false, pageDir: path.join(dir, 'no-page') };
    const none = await startFleetServer(testConfig({ AUTOPILOT_FLEET_PORT: port }), deps, mode).catch(
      (e: unknown) => e,
    );
    expect(none).toBeInstanceOf(ConfigError);
    expect((none as ConfigError).message).toMatch(/AUTOPILOT_FLEET_READ_TOKEN and AUTOPILOT_FLEET_WRITE_TOKEN/);
    const everywhere = await startFleetServer(
      testConfig({ AUTOPILOT_FLEET_PORT: port, AUTOPILOT_FLEET_HOST: '0.0.0.0', AUTOPILOT_FLEET_READ_TOKEN: READ }),
      deps,
      mode,
    ).catch((e: unknown) => e);
    expect((everywhere as ConfigError).variable).toBe('AUTOPILOT_FLEET_PUBLIC_URL');
    expect(thrownBy(() => testConfig({ AUTOPILOT_FLEET_AUTH_TOKEN: READ }), ConfigError).message).toContain(
      'AUTOPILOT_FLEET_WRITE_TOKEN',
    );
  });
});
