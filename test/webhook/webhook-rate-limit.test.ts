import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '../../src/config/secret.js';
import { createJsonLogger } from '../../src/observability/json-logger.js';
import { remediationPolicySchema } from '../../src/shared/remediation.js';
import { DEFAULT_WEBHOOK_KEY_HEADER } from '../../src/shared/webhook.js';
import { jsonDeeperThan } from '../../src/webhook/json-depth.js';
import { SourceRateLimiter, sourceKey, UNPARSABLE_SOURCE } from '../../src/webhook/rate-limiter.js';
import { deriveWebhookKey, WebhookKeys } from '../../src/webhook/webhook-keys.js';
import { createWebhookServer, type WebhookServerOptions } from '../../src/webhook/webhook-server.js';
import { testFleetDatabase } from '../helpers/autopilot.js';
import { missingSecurityHeaders } from './bad-requests.js';
import { rawRequest, requestBytes, type RawResponse } from './raw-http.js';

const KEY = 'rate-limit-test-key-93b1c7';
/** The key of the environment every notification here names. */
const ENV_KEY = deriveWebhookKey(KEY, 'rl-env');

describe('source keys of the rate limit', () => {
  it('counts an IPv4 address, and an IPv4-mapped IPv6 address, as itself', () => {
    expect(sourceKey('192.0.2.7')).toBe('192.0.2.7');
    expect(sourceKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(sourceKey('::FFFF:192.0.2.7')).toBe('192.0.2.7');
  });

  it('counts every address of one IPv6 /64 as one source', () => {
    const key = sourceKey('2001:db8:1:2::1');
    expect(key).toBe('2001:db8:1:2::/64');
    for (const address of [
      '2001:db8:1:2::ffff',
      '2001:0db8:0001:0002:aaaa:bbbb:cccc:dddd',
      '2001:DB8:1:2:FFFF:FFFF:FFFF:FFFF',
      '2001:db8:1:2:0:0:0:0',
      '2001:db8:1:2::1.2.3.4',
      '2001:db8:1:2::1%eth0',
    ]) {
      expect(sourceKey(address), address).toBe(key);
    }
    expect(sourceKey('2001:db8:1:3::1')).not.toBe(key);
    expect(sourceKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(sourceKey('::1')).toBe('0:0:0:0::/64');
    expect(sourceKey('::')).toBe('0:0:0:0::/64');
  });

  it('ignores the port some proxies add', () => {
    expect(sourceKey('192.0.2.7:51234')).toBe('192.0.2.7');
    expect(sourceKey('[2001:db8:1:2::1]:51234')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('[2001:db8:1:2::1]')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('[[2001:db8:1:2::1]]')).toBe(UNPARSABLE_SOURCE);
  });

  it('puts whatever is not an IP address into one shared bucket instead of keeping its text', () => {
    for (const junk of [undefined, '', 'unknown', 'x'.repeat(10_000), '999.1.1.1', '1.2.3', 'gggg::1']) {
      expect(sourceKey(junk)).toBe(UNPARSABLE_SOURCE);
    }
  });
});

describe('SourceRateLimiter', () => {
  const clock = () => {
    let now = 1_000_000;
    return { now: () => now, advance: (ms: number) => (now += ms) };
  };

  it('allows the burst, then refuses with the seconds until the next token, then refills', () => {
    const time = clock();
    const limiter = new SourceRateLimiter({ perSecond: 2, burst: 5 }, 100, time.now);
    for (let i = 0; i < 5; i++) expect(limiter.take('192.0.2.1')).toEqual({ allowed: true });
    expect(limiter.take('192.0.2.1')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    time.advance(499);
    expect(limiter.take('192.0.2.1').allowed).toBe(false);
    time.advance(2);
    expect(limiter.take('192.0.2.1')).toEqual({ allowed: true });
    expect(limiter.take('192.0.2.1').allowed).toBe(false);
    // A refusal does not cost a token: waiting as told is enough.
    time.advance(500);
    expect(limiter.take('192.0.2.1')).toEqual({ allowed: true });
  });

  it('tells a slow limit how long to wait', () => {
    const time = clock();
    const limiter = new SourceRateLimiter({ perSecond: 0.1, burst: 1 }, 100, time.now);
    expect(limiter.take('192.0.2.1').allowed).toBe(true);
    expect(limiter.take('192.0.2.1')).toEqual({ allowed: false, retryAfterSeconds: 10 });
    time.advance(4_000);
    expect(limiter.take('192.0.2.1')).toEqual({ allowed: false, retryAfterSeconds: 6 });
  });

  it('keeps sources apart, and one /64 together', () => {
    const limiter = new SourceRateLimiter({ perSecond: 1, burst: 2 }, 100, clock().now);
    expect(limiter.take('2001:db8:0:1::1').allowed).toBe(true);
    expect(limiter.take('2001:db8:0:1::2').allowed).toBe(true);
    expect(limiter.take('2001:db8:0:1:ffff::3').allowed).toBe(false);
    expect(limiter.take('2001:db8:0:2::1').allowed).toBe(true);
    expect(limiter.take('192.0.2.1').allowed).toBe(true);
    expect(limiter.take('192.0.2.2').allowed).toBe(true);
  });

  it('keeps at most the configured number of sources, however many there are', () => {
    const time = clock();
    const limiter = new SourceRateLimiter({ perSecond: 1, burst: 1 }, 1_000, time.now);
    for (let i = 0; i < 100_000; i++) {
      limiter.take(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
      if (i % 100 === 0) time.advance(1);
    }
    expect(limiter.trackedSources).toBe(1_000);
    // IPv6 sources that change address within their /64 add nothing.
    for (let i = 0; i < 10_000; i++) limiter.take(`2001:db8:aa:bb:${i.toString(16)}::1`);
    expect(limiter.trackedSources).toBe(1_000);
  });

  it('forgets sources once their bucket would be full again', () => {
    const time = clock();
    const limiter = new SourceRateLimiter({ perSecond: 10, burst: 20 }, 1_000, time.now);
    for (let i = 0; i < 500; i++) limiter.take(`192.0.2.${i % 250}`);
    expect(limiter.trackedSources).toBe(250);
    time.advance(2_000);
    limiter.take('198.51.100.1');
    expect(limiter.trackedSources).toBe(1);
  });

  it('refuses a limit that would never allow anything', () => {
    expect(() => new SourceRateLimiter({ perSecond: 0, burst: 1 })).toThrow(RangeError);
    expect(() => new SourceRateLimiter({ perSecond: 1, burst: 0 })).toThrow(RangeError);
  });
});

describe('JSON depth scan', () => {
  it('counts nesting exactly and ignores brackets inside strings', () => {
    expect(jsonDeeperThan('{"a":[1,{"b":[]}]}', 4)).toBe(false);
    expect(jsonDeeperThan('{"a":[1,{"b":[]}]}', 3)).toBe(true);
    expect(jsonDeeperThan(JSON.stringify({ a: '[[[[[[{{{{{{', b: '\\"[[[[[' }), 1)).toBe(false);
    expect(jsonDeeperThan('['.repeat(100_000), 32)).toBe(true);
    expect(jsonDeeperThan('[]'.repeat(100_000), 1)).toBe(false);
    expect(jsonDeeperThan('"unterminated [[[[', 1)).toBe(false);
  });
});

describe('webhook rate limit', () => {
  const servers: (() => Promise<void>)[] = [];
  let database: Awaited<ReturnType<typeof testFleetDatabase>>;
  beforeAll(async () => {
    database = await testFleetDatabase(mkdtempSync(path.join(os.tmpdir(), 'webhook-rate-limit-')));
    await database.registry.record({
      id: 'rl-env',
      kind: 'saas',
      apiUrl: 'https://rl-env.live.dynatrace.com',
      source: 'registered',
    });
  });
  afterAll(async () => {
    await database?.close();
  });
  afterEach(async () => {
    for (const close of servers.splice(0)) await close();
  });

  /** No Temporal behind it: every request here is turned away before one would be needed. */
  async function start(options: Partial<WebhookServerOptions>): Promise<number> {
    const { app } = createWebhookServer({
      client: {} as Client,
      taskQueue: 'rate-limit-test',
      keys: new WebhookKeys({ master: new Secret(KEY), mode: 'per-environment' }),
      environments: database.registry,
      policy: remediationPolicySchema.parse({}),
      maxBodyBytes: 16 * 1024,
      logger: createJsonLogger('ERROR', () => undefined),
      ...options,
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    servers.push(() => app.close());
    return (app.server.address() as { port: number }).port;
  }

  const notification = (key: string, headers: [string, string][] = []) =>
    requestBytes({
      path: '/webhooks/dynatrace/rl-env',
      headers: [['Content-Type', 'application/json'], [DEFAULT_WEBHOOK_KEY_HEADER, key], ...headers],
      body: '{"State":',
    });

  const expectLimited = (response: RawResponse) => {
    expect(response.status).toBe(429);
    expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(missingSecurityHeaders(response.headers)).toEqual([]);
    expect(JSON.parse(response.body)).toEqual({
      error: 'rate-limited',
      message: 'too many requests from this source; retry later',
    });
  };

  it('answers 429 with Retry-After past the burst, counting key guesses too, but never health checks', async () => {
    const port = await start({ rateLimit: { perSecond: 0.2, burst: 3 } });
    // Wrong keys use up the budget just like right ones: guessing is limited.
    for (let i = 0; i < 3; i++) expect((await rawRequest(port, notification(`guess-${i}`))).status).toBe(401);
    const limited = await rawRequest(port, notification(ENV_KEY));
    expectLimited(limited);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(5);
    expectLimited(await rawRequest(port, requestBytes({ method: 'GET', path: '/nowhere' })));
    expectLimited(await rawRequest(port, requestBytes({ path: '/webhooks/dynatrace/%zz' })));
    for (const path of ['/healthz', '/metrics']) {
      expect((await rawRequest(port, requestBytes({ method: 'GET', path }))).status, path).toBe(200);
    }
  });

  it('limits each source on its own, and ignores X-Forwarded-For unless told to trust a proxy', async () => {
    const port = await start({ rateLimit: { perSecond: 0.2, burst: 2 } });
    for (let i = 0; i < 2; i++) expect((await rawRequest(port, notification(ENV_KEY))).status).toBe(400);
    // A client cannot pose as someone else by naming another address.
    expectLimited(await rawRequest(port, notification(ENV_KEY, [['X-Forwarded-For', '198.51.100.99']])));
    // Another source still gets through.
    const other = { localAddress: '127.0.0.2' };
    expect((await rawRequest(port, notification(ENV_KEY), other)).status).toBe(400);
    expect((await rawRequest(port, notification(ENV_KEY), other)).status).toBe(400);
    expectLimited(await rawRequest(port, notification(ENV_KEY), other));
  });

  it('behind a trusted proxy, limits by the address the proxy saw, not by what the client wrote', async () => {
    const port = await start({ rateLimit: { perSecond: 0.2, burst: 2 }, trustProxy: true });
    const via = (chain: string) => notification(ENV_KEY, [['X-Forwarded-For', chain]]);
    expect((await rawRequest(port, via('198.51.100.1'))).status).toBe(400);
    // Whatever the client put in front, the proxy appended the real address last.
    expect((await rawRequest(port, via('203.0.113.5, 198.51.100.1'))).status).toBe(400);
    expectLimited(await rawRequest(port, via('203.0.113.6, 198.51.100.1')));
    expect((await rawRequest(port, via('198.51.100.2'))).status).toBe(400);

    // IPv6 clients are limited per /64.
    expect((await rawRequest(port, via('2001:db8:5:6::1'))).status).toBe(400);
    expect((await rawRequest(port, via('2001:db8:5:6::2'))).status).toBe(400);
    expectLimited(await rawRequest(port, via('2001:db8:5:6:abcd::3')));
    expect((await rawRequest(port, via('2001:db8:5:7::1'))).status).toBe(400);
  });
});
