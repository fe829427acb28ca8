import { createHash, timingSafeEqual } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Logger } from '@temporalio/common';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { SecretSource } from '../config/secret.js';
import { AutopilotPhase } from '../shared/phases.js';
import {
  HOST_ENTITY_ID,
  remediationWorkflowId,
  type ProblemNotification,
  type RemediationPolicy,
} from '../shared/remediation.js';
import { AUTOPILOT_PHASE, DT_ENVIRONMENT_ID, DT_HOST, DT_PROBLEM_ID } from '../shared/search-attributes.js';
import { WEBHOOK_KEY_HEADER } from '../shared/webhook.js';
import type { RemediateCpuSaturation } from '../workflows/remediate-cpu-saturation.js';
import { problemNotificationSignal } from '../workflows/shared/remediation-signals.js';
import { DedupeCache } from './dedupe-cache.js';
import { answerClientError, hardenedServerFactory } from './http-hardening.js';
import { jsonDeeperThan } from './json-depth.js';
import { invalidFieldsMessage, isTestNotification, notificationSchema } from './notification-schema.js';
import { SourceRateLimiter, type RateLimit } from './rate-limiter.js';
import { WebhookMetrics } from './webhook-metrics.js';

export interface WebhookServerOptions {
  client: Client;
  taskQueue: string;
  apiKey: SecretSource;
  policy: RemediationPolicy;
  maxBodyBytes: number;
  logger: Logger;
  /** Request line plus headers; larger requests get 431. Default 16 KiB. */
  maxHeaderBytes?: number;
  /** Per source address, checked before the key. Default 200 per second, bursts of 400. */
  rateLimit?: RateLimit;
  /** Sources tracked by the rate limit at most (memory bound). Default 10,000. */
  maxRateLimitedSources?: number;
  /**
   * Behind a load balancer: the source is the address the nearest proxy (true, or that many proxies)
   * put into X-Forwarded-For. Default false: the TCP peer.
   */
  trustProxy?: boolean | number;
  /** Nesting of arrays and objects in the body. Default 32. */
  maxJsonDepth?: number;
}

const ENVIRONMENT_ID = /^[a-zA-Z0-9_-]{1,70}$/;
const WEBHOOK_ROUTE = '/webhooks/dynatrace/:environmentId';
/** Load balancers and Prometheus must get through while a flood is being turned away. */
const OPERATIONAL_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);

class JsonTooDeepError extends Error {
  readonly statusCode = 400;
}

class ForbiddenPropertyError extends Error {
  readonly statusCode = 400;
}

function isValidJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Shorter keys are within reach of guessing, even at the rate limit. */
export const MIN_WEBHOOK_KEY_LENGTH = 16;

/**
 * Constant-time comparison of the presented key with ours (hashing first equalises the lengths).
 * A key file rotated to something too short since start-up fails closed instead of inviting guesses.
 */
function sameKey(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && expected.length >= MIN_WEBHOOK_KEY_LENGTH;
}

function reject(reply: FastifyReply, status: number, error: string, message: string) {
  return reply.code(status).send({ error, message });
}

/**
 * Trust in X-Forwarded-For by hop count: the source is the address our nearest `hops` proxies saw.
 * Trusting every hop (Fastify's `true`) would take the left-most entry, which the client writes.
 */
function trustedHops(setting: boolean | number | undefined): false | ((address: string, hop: number) => boolean) {
  const hops = setting === true ? 1 : setting || 0;
  return hops > 0 ? (_address, hop) => hop < hops : false;
}

const isWebhookRequest = (request: FastifyRequest) =>
  request.routeOptions.url === WEBHOOK_ROUTE || request.url.startsWith('/webhooks/');

/**
 * Receives Dynatrace problem notifications (custom integration webhook) for the self-healing loop:
 * authenticates the shared key, validates the payload, answers quickly, and hands each impacted
 * host's notification to its RemediateCpuSaturation workflow with signal-with-start. A bad request
 * gets a 4xx with a reason and starts nothing.
 */
export function createWebhookServer(options: WebhookServerOptions): { app: FastifyInstance; metrics: WebhookMetrics } {
  const metrics = new WebhookMetrics();
  const dedupe = new DedupeCache(3_600_000, 100_000);
  const limiter = new SourceRateLimiter(
    options.rateLimit ?? { perSecond: 200, burst: 400 },
    options.maxRateLimitedSources ?? 10_000,
  );
  const maxJsonDepth = options.maxJsonDepth ?? 32;

  /** True when the request was answered with 429. */
  const rateLimited = (request: FastifyRequest, reply: FastifyReply): boolean => {
    const decision = limiter.take(request.ip);
    if (decision.allowed) return false;
    void reply
      .header('Retry-After', String(decision.retryAfterSeconds))
      .code(429)
      .send({ error: 'rate-limited', message: 'too many requests from this source; retry later' });
    return true;
  };

  const app = Fastify({
    logger: false,
    bodyLimit: options.maxBodyBytes,
    return503OnClosing: true,
    trustProxy: trustedHops(options.trustProxy),
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    serverFactory: hardenedServerFactory(options.maxHeaderBytes ?? 16 * 1024),
    clientErrorHandler: answerClientError,
    // Fastify's own answers to these quote the URL back; ours do not.
    frameworkErrors: (error, request, reply) => {
      if (rateLimited(request, reply)) return;
      if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
        return void reject(reply, 414, 'uri-too-long', 'a segment of the URL is too long');
      }
      return void reject(reply, 400, 'bad-url', 'the URL is not valid');
    },
  });

  app.addHook('onResponse', async (request, reply) => {
    if (request.url.startsWith('/webhooks/')) metrics.response(reply.statusCode, reply.elapsedTime);
  });

  // Before the key check, so that guessing keys is limited too.
  app.addHook('onRequest', async (request, reply) => {
    if (OPERATIONAL_ROUTES.has(request.routeOptions.url ?? '')) return;
    if (rateLimited(request, reply)) return reply;
  });

  // The key is checked before the body is read: an unauthenticated caller costs nothing.
  app.addHook('onRequest', async (request, reply) => {
    if (!isWebhookRequest(request)) return;
    const presented = request.headers[WEBHOOK_KEY_HEADER.toLowerCase()];
    if (typeof presented !== 'string' || !sameKey(presented, options.apiKey.reveal())) {
      return reject(reply, 401, 'unauthorized', `missing or wrong ${WEBHOOK_KEY_HEADER} header`);
    }
  });

  const parseJson = app.getDefaultJsonParser('error', 'error');
  // Fastify also parses text/plain by default; anything but JSON is to get a 415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body.toString();
    if (jsonDeeperThan(text, maxJsonDepth)) return done(new JsonTooDeepError(), undefined);
    void parseJson(request, text, (err, value) => {
      // Fastify reports poisoning as invalid JSON; the sender deserves to know the JSON was fine.
      if (err && text.length > 0 && isValidJson(text)) return done(new ForbiddenPropertyError(), undefined);
      done(err, value);
    });
  });

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, _request, reply) => {
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || error.statusCode === 413) {
      return reject(reply, 413, 'payload-too-large', `the body exceeds ${options.maxBodyBytes} bytes`);
    }
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || error.statusCode === 415) {
      return reject(reply, 415, 'unsupported-media-type', 'the body must be application/json');
    }
    if (error instanceof JsonTooDeepError) {
      return reject(reply, 400, 'too-deeply-nested', `the body nests arrays and objects deeper than ${maxJsonDepth}`);
    }
    if (error instanceof ForbiddenPropertyError) {
      return reject(reply, 400, 'forbidden-property', 'the body must not contain __proto__ or constructor.prototype');
    }
    if (
      error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
      error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
      error instanceof SyntaxError
    ) {
      return reject(reply, 400, 'malformed-json', 'the body is not valid JSON');
    }
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      return reject(reply, error.statusCode, 'bad-request', 'the request was not understood');
    }
    options.logger.error('Webhook request failed', { error: error.message });
    return reject(reply, 500, 'internal-error', 'the notification could not be processed');
  });

  app.setNotFoundHandler((_request, reply) => reject(reply, 404, 'not-found', 'no such endpoint'));

  app.post<{ Params: { environmentId: string } }>(WEBHOOK_ROUTE, async (request, reply) => {
    const { environmentId } = request.params;
    if (!ENVIRONMENT_ID.test(environmentId)) {
      return reject(reply, 400, 'invalid-environment', 'the environment id in the path must match [a-zA-Z0-9_-]{1,70}');
    }
    const body = request.body;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      return reject(reply, 400, 'invalid-payload', 'the body must be a JSON object');
    }
    if (isTestNotification(body)) {
      metrics.outcome('test');
      options.logger.info('Test notification received', { environmentId });
      return reply.code(200).send({ status: 'test-notification-received' });
    }
    const parsed = notificationSchema.safeParse(body);
    if (!parsed.success) {
      return reject(reply, 400, 'invalid-payload', invalidFieldsMessage(parsed.error.issues));
    }
    const notification = parsed.data;
    const hosts = notification.ImpactedEntities.filter((e) => e.type === 'HOST' && HOST_ENTITY_ID.test(e.entity));
    if (hosts.length === 0) {
      metrics.outcome('ignored');
      return reply.code(200).send({ status: 'ignored', reason: 'no HOST among the impacted entities' });
    }

    const workflowIds: string[] = [];
    let duplicates = 0;
    for (const host of hosts) {
      const workflowId = remediationWorkflowId(environmentId, host.entity);
      const key = `${workflowId}|${notification.PID}|${notification.State}`;
      if (!dedupe.firstSeen(key)) {
        duplicates++;
        metrics.outcome('duplicate');
        continue;
      }
      const message: ProblemNotification = {
        problemId: notification.PID,
        state: notification.State,
        ...(notification.ProblemID ? { displayId: notification.ProblemID } : {}),
        ...(notification.ProblemTitle ? { title: notification.ProblemTitle } : {}),
        hostEntityId: host.entity,
        ...(host.name ? { hostName: host.name } : {}),
        receivedAt: new Date().toISOString(),
      };
      try {
        await options.client.workflow.signalWithStart<typeof RemediateCpuSaturation, [ProblemNotification]>(
          'RemediateCpuSaturation',
          {
            workflowId,
            taskQueue: options.taskQueue,
            args: [{ environmentId, hostEntityId: host.entity, policy: options.policy }],
            signal: problemNotificationSignal,
            signalArgs: [message],
            staticSummary: `Self-healing of ${host.name ?? host.entity} in ${environmentId} (CPU saturation)`,
            typedSearchAttributes: [
              { key: DT_ENVIRONMENT_ID, value: environmentId },
              { key: DT_HOST, value: host.name ?? host.entity },
              { key: DT_PROBLEM_ID, value: notification.PID },
              { key: AUTOPILOT_PHASE, value: AutopilotPhase.Waiting },
            ],
          },
        );
      } catch (err) {
        // Not acknowledged: Dynatrace (or whoever sends) may deliver it again.
        dedupe.forget(key);
        metrics.outcome('signal_failed');
        options.logger.error('Could not hand the notification to its workflow', { workflowId, error: String(err) });
        return reject(reply, 503, 'temporal-unavailable', 'the notification could not be queued; send it again');
      }
      metrics.outcome('accepted');
      workflowIds.push(workflowId);
    }
    options.logger.info('Notification accepted', {
      environmentId,
      problemId: notification.PID,
      state: notification.State,
      workflowIds,
      duplicates,
    });
    return reply.code(202).send({ status: workflowIds.length ? 'accepted' : 'duplicate', workflowIds, duplicates });
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    try {
      await Promise.race([
        options.client.connection.workflowService.getSystemInfo({}),
        new Promise((_, r) => setTimeout(() => r(new Error('timeout')), 2000)),
      ]);
      return { status: 'ready' };
    } catch {
      return reject(reply, 503, 'not-ready', 'Temporal is not reachable');
    }
  });

  app.get('/metrics', async (_request, reply) => reply.type('text/plain; version=0.0.4').send(metrics.render()));

  return { app, metrics };
}
