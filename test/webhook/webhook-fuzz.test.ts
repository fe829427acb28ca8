import { randomInt } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { WorkflowClient } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest';
import { Secret } from '../../src/config/secret.js';
import { createJsonLogger } from '../../src/observability/json-logger.js';
import { REMEDIATE_CPU_SATURATION, remediationPolicySchema } from '../../src/shared/remediation.js';
import { DEFAULT_WEBHOOK_KEY_HEADER } from '../../src/shared/webhook.js';
import { deriveWebhookKey, WebhookKeys } from '../../src/webhook/webhook-keys.js';
import { createWebhookServer } from '../../src/webhook/webhook-server.js';
import { testFleetDatabase } from '../helpers/autopilot.js';
import { connectToTestServer, uniqueTaskQueue } from '../helpers/temporal.js';
import {
  CATEGORIES,
  generateBadRequest,
  missingSecurityHeaders,
  Rng,
  type BadRequest,
  type Category,
  type FuzzTarget,
} from './bad-requests.js';
import { rawRequest, requestBytes, type RawResponse } from './raw-http.js';

/** Set WEBHOOK_FUZZ_SEED to repeat a failed run request by request. */
const SEED = process.env.WEBHOOK_FUZZ_SEED ? Number(process.env.WEBHOOK_FUZZ_SEED) : randomInt(2 ** 31);
const REPEAT = `seed ${SEED}; repeat with WEBHOOK_FUZZ_SEED=${SEED} npx vitest run test/webhook/webhook-fuzz.test.ts`;
const PER_CATEGORY = 120;
const CONCURRENCY = 6;
const KEY = 'fuzz-webhook-key-4f1c9a0e7b2d';
const HOST = 'HOST-F0CACC1A0000FEED';

describe('webhook receiver under fuzzing', () => {
  let env: TestWorkflowEnvironment;
  let port: number;
  let close: () => Promise<void>;
  let database: Awaited<ReturnType<typeof testFleetDatabase>>;
  let signalWithStart: MockInstance<WorkflowClient['signalWithStart']>;
  const logLines: string[] = [];
  const taskQueue = uniqueTaskQueue('webhook-fuzz');
  const environmentId = `whf-${Date.now()}`;
  /** The environment's own key: the one every request that is meant to pass the key check carries. */
  const environmentKey = deriveWebhookKey(KEY, environmentId);
  const target: FuzzTarget = {
    key: environmentKey,
    environmentId,
    marker: `ZqxMarker${SEED.toString(36)}`,
    maxBodyBytes: 64 * 1024,
    maxHeaderBytes: 16 * 1024,
    maxJsonDepth: 32,
  };

  beforeAll(async () => {
    env = await connectToTestServer();
    database = await testFleetDatabase(mkdtempSync(path.join(os.tmpdir(), 'webhook-fuzz-')));
    await database.registry.record({
      id: environmentId,
      kind: 'saas',
      apiUrl: `https://${environmentId}.live.dynatrace.com`,
      source: 'registered',
    });
    signalWithStart = vi.spyOn(env.client.workflow, 'signalWithStart');
    const server = createWebhookServer({
      client: env.client,
      taskQueue,
      keys: new WebhookKeys({ master: new Secret(KEY), mode: 'per-environment' }),
      environments: database.registry,
      policy: remediationPolicySchema.parse({}),
      maxBodyBytes: target.maxBodyBytes,
      maxHeaderBytes: target.maxHeaderBytes,
      maxJsonDepth: target.maxJsonDepth,
      // The limiter has tests of its own; here every request must reach the checks behind it.
      rateLimit: { perSecond: 1_000_000, burst: 1_000_000 },
      logger: createJsonLogger('WARN', (line) => logLines.push(line)),
    });
    await server.app.listen({ host: '127.0.0.1', port: 0 });
    port = (server.app.server.address() as { port: number }).port;
    close = () => server.app.close();
  });
  afterAll(async () => {
    signalWithStart?.mockRestore();
    await close?.();
    await database?.close();
    await env?.teardown();
  });

  const workflowsOnTaskQueue = async () => {
    const ids: string[] = [];
    for await (const run of env.client.workflow.list({ query: `TaskQueue = '${taskQueue}'` })) ids.push(run.workflowId);
    return ids;
  };

  const healthy = async () => (await rawRequest(port, requestBytes({ method: 'GET', path: '/healthz' }))).status;

  /** Everything wrong with one answer, as readable lines; none for a good answer. */
  function problemsOf(request: BadRequest, response: RawResponse): string[] {
    const problems: string[] = [];
    const { status } = response;
    if (status < 400 || status > 499 || status === 429) {
      problems.push(`status ${status}${response.socketError ? ` (socket: ${response.socketError})` : ''}`);
    } else if (request.expect !== undefined && status !== request.expect) {
      problems.push(`status ${status} instead of ${request.expect}`);
    }
    const missing = missingSecurityHeaders(response.headers);
    if (status !== 0 && missing.length) problems.push(`no ${missing.join(', ')}`);
    const raw = response.raw.toLowerCase();
    if (raw.includes(target.marker.toLowerCase())) problems.push('the answer echoes the request');
    if (response.raw.includes(KEY) || response.raw.includes(environmentKey)) problems.push('the answer contains a key');
    if (status !== 0 && (request.expectBody ?? true)) {
      try {
        const body = JSON.parse(response.body) as Record<string, unknown>;
        if (
          Object.keys(body).sort().join() !== 'error,message' ||
          typeof body.error !== 'string' ||
          typeof body.message !== 'string'
        ) {
          problems.push(`body not {error, message}: ${response.body.slice(0, 200)}`);
        }
      } catch {
        problems.push(`body not JSON: ${response.body.slice(0, 200)}`);
      }
    }
    return problems;
  }

  it(`answers ${PER_CATEGORY * CATEGORIES.length} generated bad requests with a 4xx, echoes none, starts nothing`, async () => {
    const rng = new Rng(SEED);
    const requests = Array.from({ length: PER_CATEGORY * CATEGORIES.length }, (_, i) =>
      generateBadRequest(rng, target, CATEGORIES[i % CATEGORIES.length]!),
    );
    const failures: string[] = [];
    const statuses = new Map<Category, Map<number, number>>();
    const record = (index: number, request: BadRequest, response: RawResponse) => {
      const byStatus = statuses.get(request.category) ?? new Map<number, number>();
      byStatus.set(response.status, (byStatus.get(response.status) ?? 0) + 1);
      statuses.set(request.category, byStatus);
      for (const problem of problemsOf(request, response)) {
        failures.push(`#${index} ${request.category} / ${request.name}: ${problem}`);
      }
    };

    let next = 0;
    for (let batch = 0; batch < requests.length; batch += 100) {
      const end = Math.min(batch + 100, requests.length);
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < end) {
            const index = next++;
            const request = requests[index]!;
            const response = await rawRequest(port, request.bytes, {
              ...(request.expectBody === false ? { expectBody: false } : {}),
              ...(request.halfClose ? { halfClose: true } : {}),
            });
            record(index, request, response);
          }
        }),
      );
      // Still up, and not wedged by what came before.
      expect(await healthy(), `health after request ${end}; ${REPEAT}`).toBe(200);
    }

    const summary = Object.fromEntries(
      [...statuses].map(([category, byStatus]) => [category, Object.fromEntries([...byStatus].sort())]),
    );
    expect(
      failures.slice(0, 40),
      `${failures.length} bad answers (statuses ${JSON.stringify(summary)}); ${REPEAT}`,
    ).toEqual([]);
    for (const category of CATEGORIES) {
      const counted = [...(statuses.get(category)?.values() ?? [])].reduce((a, b) => a + b, 0);
      expect(counted, category).toBe(PER_CATEGORY);
    }

    expect(signalWithStart, REPEAT).not.toHaveBeenCalled();
    expect(await workflowsOnTaskQueue(), REPEAT).toEqual([]);
    // A 500 would have been logged: none of the bad requests may get that far.
    expect(logLines.filter((line) => line.includes('"level":"ERROR"'))).toEqual([]);
  });

  it('is still up afterwards and accepts a valid notification', async () => {
    expect(await healthy()).toBe(200);
    const readiness = await rawRequest(port, requestBytes({ method: 'GET', path: '/readyz' }));
    expect(readiness.status).toBe(200);

    const response = await rawRequest(
      port,
      requestBytes({
        path: `/webhooks/dynatrace/${environmentId}`,
        headers: [
          ['Content-Type', 'application/json'],
          [DEFAULT_WEBHOOK_KEY_HEADER, environmentKey],
        ],
        body: JSON.stringify({
          State: 'OPEN',
          PID: '-9001_1717000000000V2',
          ProblemTitle: 'CPU saturation',
          ImpactedEntities: [{ type: 'HOST', name: 'fuzz-vm', entity: HOST }],
        }),
      }),
    );
    const workflowId = `remediate:${environmentId}:${HOST}`;
    expect(response.status, response.body).toBe(202);
    expect(missingSecurityHeaders(response.headers)).toEqual([]);
    expect(JSON.parse(response.body)).toEqual({ status: 'accepted', workflowIds: [workflowId], duplicates: 0 });
    expect(signalWithStart).toHaveBeenCalledTimes(1);

    const handle = env.client.workflow.getHandle(workflowId);
    const description = await handle.describe();
    expect(description.type).toBe(REMEDIATE_CPU_SATURATION);
    expect(description.taskQueue).toBe(taskQueue);
    await handle.terminate('fuzz test done');
  });
});
