import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Logger } from '@temporalio/common';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { signalHostRemediation } from '../client/signal-remediation.js';
import { AutopilotPhase } from '../shared/phases.js';
import { problemRoutingWorkflowId, ROUTE_PROBLEM_NOTIFICATION } from '../shared/problem-routing.js';
import {
  HOST_ENTITY_ID,
  remediationWorkflowId,
  type ProblemNotification,
  type RemediationPolicy,
} from '../shared/remediation.js';
import { AUTOPILOT_PHASE, DT_ENVIRONMENT_ID, DT_PROBLEM_ID } from '../shared/search-attributes.js';
import { DEFAULT_WEBHOOK_KEY_HEADER } from '../shared/webhook.js';
import type { RouteProblemNotification } from '../workflows/route-problem-notification.js';
import { DedupeCache } from './dedupe-cache.js';
import { answerClientError, hardenedServerFactory } from './http-hardening.js';
import { jsonDeeperThan } from './json-depth.js';
import { invalidFieldsMessage, isTestNotification, notificationSchema } from './notification-schema.js';
import { SourceRateLimiter, type RateLimit } from './rate-limiter.js';
import { ReadinessProbe } from './readiness-probe.js';
import {
  DEFAULT_REGISTRY_CACHE,
  RegisteredEnvironments,
  type EnvironmentLookup,
  type RegistryCacheOptions,
} from './registered-environments.js';
import type { WebhookKeys } from './webhook-keys.js';
import { WebhookMetrics } from './webhook-metrics.js';

export interface WebhookServerOptions {
  client: Client;
  taskQueue: string;
  /** The key each environment's path accepts (its own, or the shared one), with earlier masters during a rotation. */
  keys: WebhookKeys;
  /** Whether a path's environment is Autopilot's: the registry, asked through a short cache. */
  environments: EnvironmentLookup;
  /** Default: answers kept 5 s, 10,000 environments at most. */
  registryCache?: RegistryCacheOptions;
  /** The header the key comes in; default `X-Autopilot-Webhook-Key`, e.g. `X-API-KEY` for existing set-ups. */
  keyHeader?: string;
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
 * authenticates the path's environment key, refuses environments the registry does not know,
 * validates the payload, answers quickly, and hands each impacted
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
  const registry = new RegisteredEnvironments(options.environments, options.registryCache ?? DEFAULT_REGISTRY_CACHE);
  const readiness = new ReadinessProbe(() => options.client.connection.workflowService.getSystemInfo({}));

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

  // Key, then environment id, then registry, all before the body is read: an unauthenticated caller
  // costs nothing, and only a caller holding a key valid for the path's id learns whether that
  // environment is registered (in per-environment mode no key is valid for an id without one).
  const keyHeader = options.keyHeader ?? DEFAULT_WEBHOOK_KEY_HEADER;
  app.addHook('onRequest', async (request, reply) => {
    if (!isWebhookRequest(request)) return;
    const environmentId =
      request.routeOptions.url === WEBHOOK_ROUTE
        ? (request.params as { environmentId: string }).environmentId
        : undefined;
    const presented = request.headers[keyHeader.toLowerCase()];
    const key = typeof presented === 'string' ? options.keys.match(environmentId, presented) : undefined;
    if (!key) return reject(reply, 401, 'unauthorized', `missing or wrong ${keyHeader} header`);
    metrics.authenticated(key);
    if (environmentId === undefined) return;
    if (!ENVIRONMENT_ID.test(environmentId)) {
      return reject(reply, 400, 'invalid-environment', 'the environment id in the path must match [a-zA-Z0-9_-]{1,70}');
    }
    let registered: boolean;
    try {
      registered = await registry.isRegistered(environmentId);
    } catch (err) {
      options.logger.error('Could not look the environment up in the registry', { environmentId, error: String(err) });
      return reject(reply, 503, 'registry-unavailable', 'the environment could not be looked up; send it again');
    }
    if (!registered) {
      return reject(reply, 404, 'unknown-environment', 'the environment in the path is not registered with Autopilot');
    }
    if (key === 'previous') options.logger.info('Notification under a previous webhook key', { environmentId });
  });

  const parseJson = app.getDefaultJsonParser('error', 'error');
  // Fastify also parses text/plain by default; anything but JSON is to get a 415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    // Some senders start the body with a UTF-8 byte order mark, which JSON.parse refuses.
    const text = body.toString().replace(/^\uFEFF/, '');
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
    const hosts = (notification.ImpactedEntities ?? []).filter(
      (e) => e.type === 'HOST' && HOST_ENTITY_ID.test(e.entity),
    );
    const receivedAt = new Date().toISOString();
    const about = {
      problemId: notification.PID,
      state: notification.State,
      ...(notification.ProblemID ? { displayId: notification.ProblemID } : {}),
      ...(notification.ProblemTitle ? { title: notification.ProblemTitle } : {}),
      receivedAt,
    };
    const handOver = hosts.length > 0 ? toHosts(environmentId, hosts, about) : toLookup(environmentId, about);
    const outcome = await handOver.catch((err: unknown) => {
      metrics.outcome('signal_failed');
      options.logger.error('Could not hand the notification to its workflow', { environmentId, error: String(err) });
      return undefined;
    });
    // Not acknowledged: Dynatrace (or whoever sends) may deliver it again.
    if (!outcome)
      return reject(reply, 503, 'temporal-unavailable', 'the notification could not be queued; send it again');
    options.logger.info('Notification accepted', {
      environmentId,
      problemId: notification.PID,
      state: notification.State,
      ...outcome,
    });
    return reply.code(202).send({ status: outcome.workflowIds.length ? 'accepted' : 'duplicate', ...outcome });
  });

  type About = Omit<ProblemNotification, 'hostEntityId' | 'hostName'>;
  type HandOver = { workflowIds: string[]; duplicates: number; via?: 'problem-lookup' };

  /** The payload named the hosts: each gets the notification at once. */
  async function toHosts(
    environmentId: string,
    hosts: { entity: string; name?: string | undefined }[],
    about: About,
  ): Promise<HandOver> {
    const fresh = hosts.filter((host) => {
      const key = `${remediationWorkflowId(environmentId, host.entity)}|${about.problemId}|${about.state}`;
      if (dedupe.firstSeen(key)) return true;
      metrics.outcome('duplicate');
      return false;
    });
    const results = await Promise.allSettled(
      fresh.map((host) =>
        signalHostRemediation(options.client, {
          taskQueue: options.taskQueue,
          environmentId,
          policy: options.policy,
          notification: { ...about, hostEntityId: host.entity, ...(host.name ? { hostName: host.name } : {}) },
        }),
      ),
    );
    const failed = results.filter((r) => r.status === 'rejected');
    if (failed.length > 0) {
      for (const host of fresh)
        dedupe.forget(`${remediationWorkflowId(environmentId, host.entity)}|${about.problemId}|${about.state}`);
      throw (failed[0] as PromiseRejectedResult).reason;
    }
    metrics.outcome('accepted', fresh.length);
    return {
      workflowIds: results.map((r) => (r as PromiseFulfilledResult<string>).value),
      duplicates: hosts.length - fresh.length,
    };
  }

  /**
   * The payload named no host: a short workflow reads the problem through the API (this receiver
   * holds no Dynatrace credentials) and routes its hosts. Its id is the problem and state, so a
   * repeated delivery finds the run that already took it.
   */
  async function toLookup(environmentId: string, about: About): Promise<HandOver> {
    const workflowId = problemRoutingWorkflowId(environmentId, about.problemId, about.state);
    if (!dedupe.firstSeen(workflowId)) {
      metrics.outcome('duplicate');
      return { workflowIds: [], duplicates: 1, via: 'problem-lookup' };
    }
    try {
      await options.client.workflow.start<typeof RouteProblemNotification>(ROUTE_PROBLEM_NOTIFICATION, {
        workflowId,
        taskQueue: options.taskQueue,
        args: [{ environmentId, ...about, policy: options.policy }],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        staticSummary: `Find the hosts of problem ${about.displayId ?? about.problemId} (${about.state}) in ${environmentId}`,
        typedSearchAttributes: [
          { key: DT_ENVIRONMENT_ID, value: environmentId },
          { key: DT_PROBLEM_ID, value: about.problemId },
          { key: AUTOPILOT_PHASE, value: AutopilotPhase.Running },
        ],
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        metrics.outcome('duplicate');
        return { workflowIds: [], duplicates: 1, via: 'problem-lookup' };
      }
      dedupe.forget(workflowId);
      throw err;
    }
    metrics.outcome('lookup');
    return { workflowIds: [workflowId], duplicates: 0, via: 'problem-lookup' };
  }

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    if (await readiness.ready()) return { status: 'ready' };
    return reject(reply, 503, 'not-ready', 'Temporal is not reachable');
  });

  app.get('/metrics', async (_request, reply) => reply.type('text/plain; version=0.0.4').send(metrics.render()));

  return { app, metrics };
}
