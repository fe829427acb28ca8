import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynatraceClient, DynatraceFailureType, retryDelayFromHeaders } from '../../src/dynatrace/index.js';
import { failureOf, startTestCluster, type TestCluster } from '../helpers/simulator.js';

describe('throttling: per-environment capacity', () => {
  let dt: TestCluster;
  let token: string;
  beforeAll(async () => {
    // Two worker threads per environment, no queue, 100 ms per request: a third concurrent call gets 429.
    dt = await startTestCluster({ knobs: { latencyMs: 100, throttle: { maxConcurrent: 2, queueSize: 0 } } });
    ({ token } = await dt.environment('busy'));
    await dt.environment('other');
  });
  afterAll(async () => {
    await dt.stop();
  });

  const metainfo = (environmentId: string, t: string) =>
    fetch(`${dt.simulator.url}/e/${environmentId}/api/v1/deployment/installer/agent/unix/default/latest/metainfo`, {
      headers: { Authorization: `Api-Token ${t}` },
    });

  it('answers 429 "Too many requests." when a naive client exceeds the capacity', async () => {
    const statuses = await Promise.all(Array.from({ length: 8 }, () => metainfo('busy', token).then((r) => r.status)));
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    const response = await Promise.all(Array.from({ length: 4 }, () => metainfo('busy', token)));
    const throttled = response.find((r) => r.status === 429)!;
    expect(await throttled.json()).toEqual({
      error: { code: 429, message: 'Too many requests.', constraintViolations: null },
    });
  });

  it('makes concurrent calls beyond the client limit wait instead of producing 429s', async () => {
    const client = new DynatraceClient({
      baseUrl: dt.simulator.url,
      maxConcurrentPerEnvironment: 2,
      requestTimeoutMs: 5000,
    });
    const before = (await dt.stats()).throttled;
    let peak = 0;
    const started = Date.now();
    const versions = await Promise.all(
      Array.from({ length: 12 }, async () => {
        const call = client.environment('busy', token).deployment.latestVersion();
        peak = Math.max(peak, client.http.limiter.active('busy'));
        return call;
      }),
    );
    expect(new Set(versions).size).toBe(1);
    expect(peak).toBe(2);
    expect((await dt.stats()).throttled).toBe(before);
    // 12 calls, 2 at a time, 100 ms each: they queued on our side.
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
  });

  it('limits each environment separately', async () => {
    const client = new DynatraceClient({
      baseUrl: dt.simulator.url,
      maxConcurrentPerEnvironment: 2,
      requestTimeoutMs: 5000,
    });
    const other = await dt.environment('third');
    const started = Date.now();
    await Promise.all([
      client.environment('busy', token).deployment.latestVersion(),
      client.environment('busy', token).deployment.latestVersion(),
      client.environment('third', other.token).deployment.latestVersion(),
      client.environment('third', other.token).deployment.latestVersion(),
    ]);
    expect(Date.now() - started).toBeLessThan(190);
  });
});

describe('errors mapped for Temporal', () => {
  let dt: TestCluster;
  let token: string;
  beforeAll(async () => {
    dt = await startTestCluster();
    ({ token } = await dt.environment('faulty'));
  });
  afterAll(async () => {
    await dt.stop();
  });

  const latest = (client = dt.client) => client.environment('faulty', token).deployment.latestVersion();

  it('429: retryable DynatraceThrottled with a jittered next-retry delay (no headers to go by)', async () => {
    dt.simulator.setKnobs({
      faults: { rate429: 1, rate500: 0, rateReset: 0, rateHang: 0, hangMs: 120_000, routes: [] },
    });
    const err = await failureOf(() => latest());
    dt.simulator.setKnobs({
      faults: { rate429: 0, rate500: 0, rateReset: 0, rateHang: 0, hangMs: 120_000, routes: [] },
    });
    expect(err).toMatchObject({ type: DynatraceFailureType.throttled, nonRetryable: false, status: 429 });
    const delay = (err as unknown as { nextRetryDelay: number }).nextRetryDelay;
    expect(delay).toBeGreaterThanOrEqual(500);
    expect(delay).toBeLessThanOrEqual(1000);
  });

  it('5xx: retryable DynatraceServerError; got does not retry on its own (one request reached the server)', async () => {
    const before = (await dt.stats()).requestsTotal;
    dt.simulator.setKnobs({
      faults: { rate500: 1, rate429: 0, rateReset: 0, rateHang: 0, hangMs: 120_000, routes: [] },
    });
    const err = await failureOf(() => latest());
    dt.simulator.setKnobs({
      faults: { rate500: 0, rate429: 0, rateReset: 0, rateHang: 0, hangMs: 120_000, routes: [] },
    });
    expect(err).toMatchObject({ type: DynatraceFailureType.serverError, nonRetryable: false, status: 500 });
    expect((await dt.stats()).requestsTotal - before).toBe(1);
  });

  it('honours Retry-After (an environment that is not ready yet answers 503 with it)', async () => {
    dt.simulator.setKnobs({ environmentReadyDelayMs: 60_000 });
    const fresh = await dt.client
      .cluster(dt.clusterToken)
      .putEnvironment('just-born', { name: 'new' }, { createToken: true });
    const err = await failureOf(() =>
      dt.client
        .environment('just-born', fresh.created ? fresh.tokenManagementToken! : '')
        .tokens.create({ name: 'x', scopes: ['DataExport'] }),
    );
    dt.simulator.setKnobs({ environmentReadyDelayMs: 0 });
    expect(err).toMatchObject({ type: DynatraceFailureType.serverError, status: 503, nonRetryable: false });
    expect((err as unknown as { nextRetryDelay: number }).nextRetryDelay).toBe(1000);
  });

  it('connection reset and hang: retryable DynatraceUnavailable, never a token in the message', async () => {
    dt.simulator.setKnobs({
      faults: { rateReset: 1, rate500: 0, rate429: 0, rateHang: 0, hangMs: 120_000, routes: [] },
    });
    const reset = await failureOf(() => latest());
    dt.simulator.setKnobs({
      faults: { rateHang: 1, rate500: 0, rate429: 0, rateReset: 0, hangMs: 120_000, routes: [] },
    });
    const impatient = new DynatraceClient({
      baseUrl: dt.simulator.url,
      maxConcurrentPerEnvironment: 2,
      requestTimeoutMs: 300,
    });
    const hang = await failureOf(() => latest(impatient));
    dt.simulator.setKnobs({
      faults: { rateHang: 0, rate500: 0, rate429: 0, rateReset: 0, hangMs: 120_000, routes: [] },
    });
    for (const err of [reset, hang]) {
      expect(err).toMatchObject({ type: DynatraceFailureType.unavailable, nonRetryable: false });
      expect(err.message).not.toContain(token);
    }
    expect(hang.message).toMatch(/ETIMEDOUT|Timeout/i);
    expect((await dt.stats()).faultsInjected).toMatchObject({ reset: 1, hang: 1 });
  });

  it('404 and 400 are typed and not retried', async () => {
    const missing = await failureOf(() => dt.client.environment('faulty', token).problems.get('-123_456V2'));
    expect(missing).toMatchObject({ type: DynatraceFailureType.notFound, nonRetryable: true, status: 404 });
    const noEnvironment = await failureOf(() => dt.client.environment('no-such-env', token).deployment.latestVersion());
    expect(noEnvironment).toMatchObject({ status: 404 });
  });

  it('reads Retry-After and the rate-limit reset header by magnitude (µs, ms or s), clamped to 1-60 s', () => {
    const now = 1_700_000_000_000;
    expect(retryDelayFromHeaders({ 'retry-after': '7' }, now)).toBe(7000);
    expect(retryDelayFromHeaders({ 'retry-after': new Date(now + 3000).toUTCString() }, now)).toBe(3000);
    expect(retryDelayFromHeaders({ 'x-ratelimit-reset': String((now + 5000) * 1000) }, now)).toBe(5000);
    expect(retryDelayFromHeaders({ 'x-ratelimit-reset': String(now + 4000) }, now)).toBe(4000);
    expect(retryDelayFromHeaders({ 'x-ratelimit-reset': String(now / 1000 + 2) }, now)).toBe(2000);
    expect(retryDelayFromHeaders({ 'x-ratelimit-reset': String(now + 3_600_000) }, now)).toBe(60_000);
    expect(retryDelayFromHeaders({ 'retry-after': '0' }, now)).toBe(1000);
    expect(retryDelayFromHeaders({}, now)).toBeUndefined();
  });

  it('reports an unreachable cluster as retryable', async () => {
    const gone = new DynatraceClient({
      baseUrl: 'http://127.0.0.1:9',
      maxConcurrentPerEnvironment: 1,
      requestTimeoutMs: 1000,
    });
    const err = await failureOf(() => gone.cluster('dt0c01.X').listGroups());
    expect(err).toMatchObject({ type: DynatraceFailureType.unavailable, nonRetryable: false });
    expect(err.message).toContain('ECONNREFUSED');
  });
});
