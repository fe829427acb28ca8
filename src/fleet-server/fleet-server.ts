import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Logger } from '@temporalio/common';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { FleetHistory } from '../fleet/fleet-history.js';
import { FleetQueryError, parseFleetPath } from '../fleet/fleet-path.js';
import { fleetOutcome, queryFleet, type FleetAnswer, type FleetQueryDeps } from '../fleet/fleet-query.js';
import { parseEnvironmentSelector, SelectorError } from '../shared/environment-selector.js';
import type { FleetScanEvent, FleetStatus } from '../shared/fleet-status.js';
import { SourceRateLimiter, type RateLimit } from '../webhook/rate-limiter.js';
import type { FleetAuthenticator, FleetCredential, FleetRole } from './fleet-auth.js';
import type { FleetMetrics } from './fleet-metrics.js';
import type { FleetSessions } from './fleet-session.js';
import { FleetSite } from './fleet-site.js';
import type { FleetStatusBuilder } from './fleet-status-builder.js';

export interface FleetServerOptions {
  status: FleetStatusBuilder;
  history: FleetHistory;
  query: FleetQueryDeps;
  metrics: FleetMetrics;
  auth: FleetAuthenticator;
  /** Browser sign-in with a static token; absent when there is none (OIDC, sandbox). */
  sessions?: FleetSessions | undefined;
  /**
   * `AUTOPILOT_FLEET_PUBLIC_URL`: the only `Host` answered and the only `Origin` writes come from.
   * Without it, the listen address and the loopback names with the port the server listens on.
   */
  publicUrl?: string | undefined;
  /** The address the server listens on (`AUTOPILOT_FLEET_HOST`), for the names it answers to without a public URL. */
  listenHost?: string;
  /** Sign-in attempts per source address. */
  signInLimit?: RateLimit;
  /** What one environment's answer to a fleet query may hold. */
  queryLimits?: { maxPages: number; maxBytes: number };
  /** The built page (`index.html`, `fleet-page.js`, `fleet-page.css`). */
  pageDir: string;
  logger: Logger;
  /** Fleet API requests in flight per query unless the caller asks for fewer. */
  queryConcurrency?: number;
  /** How often the server looks for a newly finished scan to announce. */
  eventPollMs?: number;
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
  // Not `no-referrer`: under it a browser sends `Origin: null` with the page's own form posts, and
  // writes need the real origin.
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
  // Chart.js sizes its canvas with inline styles; scripts come only from here.
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'",
};

const PAGE_FILES: Record<string, string> = {
  '/': 'index.html',
  '/fleet-page.js': 'fleet-page.js',
  '/fleet-page.css': 'fleet-page.css',
};
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};
/** Reachable without a credential (Host and Origin are still checked on sign-in and sign-out). */
const OPEN_PATHS = new Set(['/login', '/logout']);
/** Methods that only read; any other one writes and needs a writer. */
const READING = new Set(['GET', 'HEAD']);
/** A few attempts at once, then one every ten seconds, per source address. */
const SIGN_IN_LIMIT: RateLimit = { perSecond: 0.1, burst: 5 };
const LIVE_CACHE_MS = 5_000;
const MAX_QUERY_CONCURRENCY = 700;

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function loginPage(message: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Fleet status: sign in</title></head>
<body style="font-family:system-ui;background:#10141a;color:#e6e9ef;display:grid;place-items:center;height:100vh;margin:0">
<form method="post" action="/login" style="display:grid;gap:.6rem;min-width:22rem">
<h1 style="font-size:1.2rem;margin:0">Dynatrace Autopilot · fleet status</h1>
<p id="sign-in-message" style="margin:0;color:#f5a97f">${escapeHtml(message)}</p>
<label for="token">Fleet server token (read or write)</label>
<input id="token" name="token" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button></form></body></html>`;
}

/** Who a request is, once its credential is checked. */
interface Access {
  role: FleetRole;
  via: FleetCredential;
  /** Set for a browser session: when it ends. */
  expires?: number;
}

/**
 * The fleet server: the status page and its data (`/fleet/status`, live `/fleet/events`), the
 * fleet API (`/fleet/api/<path>` across every selected environment, as NDJSON while answers
 * arrive) and Prometheus `/metrics`. All of it, but health and sign-in, needs a credential; every
 * write (POST, PUT, DELETE) needs a writer's. Requests for another host name than the server's are
 * refused (DNS rebinding), and so are writes from another site's page.
 */
export function createFleetServer(options: FleetServerOptions): FastifyInstance & { announce(): Promise<void> } {
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  const page = loadPage(options.pageDir);
  const subscribers = new Set<FastifyReply>();
  let lastAnnounced: string | undefined;
  let cached: { status: FleetStatus; scan: string | undefined; until: number } | undefined;

  const liveStatus = async (): Promise<FleetStatus> => {
    const scan = (await options.history.lastScan())?.finished_at.toISOString();
    if (cached && cached.scan === scan && cached.until > Date.now()) return cached.status;
    const status = await options.status.build();
    cached = { status, scan, until: Date.now() + LIVE_CACHE_MS };
    return status;
  };

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
    done(null, new URLSearchParams(String(body))),
  );

  const accessOf = new WeakMap<FastifyRequest['raw'], Access>();
  const signInLimiter = new SourceRateLimiter(options.signInLimit ?? SIGN_IN_LIMIT);
  let site: FleetSite | undefined = options.publicUrl ? FleetSite.atPublicUrl(options.publicUrl) : undefined;
  const siteNow = (): FleetSite | undefined => {
    if (site) return site;
    const address = app.server.address();
    if (typeof address !== 'object' || !address) return undefined;
    site = FleetSite.onListenAddress(options.listenHost ?? address.address, address.port);
    return site;
  };
  const refuse = (reply: FastifyReply, status: number, error: string, message: string) =>
    reply.code(status).send({ error, message });
  const wantsHtml = (request: FastifyRequest) =>
    request.method === 'GET' && (request.headers.accept ?? '').includes('text/html');

  app.addHook('onRequest', async (request, reply) => {
    reply.headers(SECURITY_HEADERS);
    const url = request.url.split('?')[0]!;
    // Health says nothing about the fleet; probes call it by whatever address reaches the container.
    if (url === '/healthz') return;
    const here = siteNow();
    if (!here?.allowsHost(request.headers.host)) {
      return refuse(
        reply,
        403,
        'host_not_allowed',
        `this is ${here?.description ?? 'the fleet server'}: requests for another host name are refused (DNS rebinding); set AUTOPILOT_FLEET_PUBLIC_URL to the URL people use`,
      );
    }
    const writes = !READING.has(request.method);
    if (writes) {
      const refusal = here.writeRefusal(request.headers.origin, request.headers['sec-fetch-site']);
      if (refusal) return refuse(reply, 403, 'cross_origin', refusal);
    }
    if (OPEN_PATHS.has(url)) return;
    const session = options.sessions?.verify(request.headers.cookie);
    let access: Access;
    if (session) {
      access = { role: session.role, via: 'session', expires: session.expires };
    } else {
      const result = await options.auth.authenticate(request.headers.authorization);
      if (!result.ok) {
        if (options.sessions && wantsHtml(request)) {
          return reply.code(401).type('text/html; charset=utf-8').send(loginPage('Sign in to see the fleet.'));
        }
        return refuse(reply, 401, 'unauthorized', result.reason);
      }
      access = { role: result.role, via: result.via };
    }
    if (writes && access.role !== 'writer') {
      return refuse(
        reply,
        403,
        'read_only_credential',
        `this credential may only read; ${request.method} needs ${options.auth.writerHint}`,
      );
    }
    accessOf.set(request.raw, access);
  });

  app.get('/healthz', async () => ({ ok: true }));

  app.get('/login', async (_request, reply) =>
    options.sessions
      ? reply.type('text/html; charset=utf-8').send(loginPage('Sign in with a fleet server token.'))
      : reply.redirect('/'),
  );

  app.post('/login', async (request, reply) => {
    const sessions = options.sessions;
    if (!sessions) return refuse(reply, 404, 'not_found', 'no sign-in here: this fleet server takes OIDC tokens');
    const decision = signInLimiter.take(request.ip);
    if (!decision.allowed) {
      return reply
        .code(429)
        .header('retry-after', String(decision.retryAfterSeconds))
        .type('text/html; charset=utf-8')
        .send(loginPage(`Too many sign-in attempts from this address; try again in ${decision.retryAfterSeconds} s.`));
    }
    const token = request.body instanceof URLSearchParams ? request.body.get('token') : undefined;
    const role = token ? options.auth.tokenRole(token) : undefined;
    if (!role) {
      return reply.code(401).type('text/html; charset=utf-8').send(loginPage('That token is not the fleet server’s.'));
    }
    reply.header('set-cookie', sessions.issue(role).setCookie);
    return reply.redirect('/', 303);
  });

  app.post('/logout', async (request, reply) => {
    const sessions = options.sessions;
    if (!sessions) return refuse(reply, 404, 'not_found', 'no sign-out here: this fleet server has no sessions');
    const session = sessions.verify(request.headers.cookie);
    if (session) sessions.revoke(session);
    reply.header('set-cookie', sessions.clearCookie());
    return reply.redirect('/login', 303);
  });

  /** What the page shows about its own sign-in (and whether to offer signing out). */
  app.get('/fleet/session', async (request) => {
    const access = accessOf.get(request.raw)!;
    return {
      role: access.role,
      via: access.via,
      ...(access.expires !== undefined ? { expiresAt: new Date(access.expires).toISOString() } : {}),
    };
  });

  for (const [route, file] of Object.entries(PAGE_FILES)) {
    app.get(route, async (_request, reply) => {
      const content = page.get(file);
      if (!content) {
        return reply.code(503).send({
          error: 'page_not_built',
          message: `the status page is not built in ${options.pageDir}: run npm run build`,
        });
      }
      return reply.type(CONTENT_TYPES[path.extname(file)]!).send(content);
    });
  }

  app.get('/fleet/status', async (request: FastifyRequest<{ Querystring: { at?: string } }>, reply) => {
    const { at } = request.query;
    if (at === undefined || at === '' || at === 'now') return liveStatus();
    const moment = new Date(at);
    if (!/^\d{4}-\d\d-\d\dT/.test(at) || Number.isNaN(moment.getTime())) {
      return reply.code(400).send({
        error: 'bad_request',
        message: `at must be an ISO time like 2026-12-02T02:00:00Z, not ${JSON.stringify(at)}`,
      });
    }
    if (moment.getTime() > Date.now() + 60_000) {
      return reply.code(400).send({ error: 'bad_request', message: 'at is in the future' });
    }
    return options.status.build(moment);
  });

  app.get('/fleet/events', async (request, reply) => {
    reply.hijack();
    reply.raw.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      connection: 'keep-alive',
    });
    reply.raw.write(`retry: 3000\n: connected\n\n`);
    subscribers.add(reply);
    const keepAlive = setInterval(() => reply.raw.write(': keep-alive\n\n'), 15_000);
    reply.raw.once('close', () => {
      clearInterval(keepAlive);
      subscribers.delete(reply);
    });
  });

  app.get('/metrics', async (_request, reply) =>
    reply.type('text/plain; version=0.0.4; charset=utf-8').send(await options.metrics.render(await liveStatus())),
  );

  app.route({
    method: ['GET', 'POST', 'PUT', 'DELETE'],
    url: '/fleet/api/*',
    handler: async (request, reply) => {
      const [pathPart, search = ''] = request.url.slice('/fleet/api/'.length).split(/\?(.*)/s, 2) as [string, string?];
      const params = new URLSearchParams(search);
      const selector = params.get('environments') ?? undefined;
      const allPages = ['1', 'true', ''].includes(params.get('allPages') ?? 'no');
      const concurrency = Number(params.get('concurrency') ?? options.queryConcurrency ?? 200);
      for (const own of ['environments', 'allPages', 'concurrency']) params.delete(own);
      let parsed;
      try {
        if (selector !== undefined) parseEnvironmentSelector(selector);
        // Still percent-encoded: parseFleetPath decodes it, every layer, before it checks it.
        parsed = parseFleetPath(request.method, `${pathPart}?${params.toString()}`);
      } catch (err) {
        if (err instanceof SelectorError || err instanceof FleetQueryError) {
          return reply.code(400).send({ error: 'bad_request', message: err.message });
        }
        throw err;
      }
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_QUERY_CONCURRENCY) {
        return reply.code(400).send({
          error: 'bad_request',
          message: `concurrency must be a whole number from 1 to ${MAX_QUERY_CONCURRENCY}`,
        });
      }
      // Only a client that goes away before its answer is complete cancels the environments not yet
      // asked; the request's own 'close' comes as soon as its body has been read.
      const abort = new AbortController();
      reply.raw.once('close', () => {
        if (!reply.raw.writableFinished) abort.abort();
      });
      const request_ = { ...parsed, allPages, ...(request.body !== undefined ? { body: request.body } : {}) };
      async function* lines() {
        const answers: Pick<FleetAnswer, 'ok'>[] = [];
        for await (const answer of queryFleet(options.query, selector, request_, {
          concurrency,
          signal: abort.signal,
          ...options.queryLimits,
        })) {
          answers.push(answer);
          yield JSON.stringify(answer) + '\n';
        }
        const ok = answers.filter((a) => a.ok).length;
        yield (
          JSON.stringify({
            done: true,
            environments: answers.length,
            ok,
            failed: answers.length - ok,
            outcome: fleetOutcome(answers),
          }) + '\n'
        );
      }
      return reply.type('application/x-ndjson; charset=utf-8').send(Readable.from(lines()));
    },
  });

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: 'not_found', message: `no ${request.method} ${request.url.split('?')[0]} here` }),
  );
  app.setErrorHandler((err, _request, reply) => {
    const status = (err as { statusCode?: number }).statusCode ?? 500;
    if (status >= 500)
      options.logger.error('Fleet server request failed', { error: err instanceof Error ? err.message : String(err) });
    return reply.code(status).send({
      error: status >= 500 ? 'internal' : 'bad_request',
      message: status >= 500 ? 'internal error' : (err as Error).message,
    });
  });

  /** Tells every open page that a scan finished, once per scan. */
  const announce = async () => {
    const last = await options.history.lastScan();
    const at = last?.finished_at.toISOString();
    if (!at || at === lastAnnounced) return;
    lastAnnounced = at;
    const event: FleetScanEvent = { lastScanAt: at };
    for (const subscriber of subscribers) subscriber.raw.write(`event: scan\ndata: ${JSON.stringify(event)}\n\n`);
  };
  let poller: NodeJS.Timeout | undefined;
  app.addHook('onReady', async () => {
    poller = setInterval(() => {
      announce().catch((err: unknown) => {
        options.logger.warn('Fleet server could not read the last scan', { error: String(err) });
      });
    }, options.eventPollMs ?? 1000);
  });
  app.addHook('preClose', async () => {
    clearInterval(poller);
    for (const subscriber of subscribers) subscriber.raw.end();
    subscribers.clear();
  });
  return Object.assign(app, { announce });
}

function loadPage(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const file of Object.values(PAGE_FILES)) {
    const full = path.join(dir, file);
    if (existsSync(full)) files.set(file, readFileSync(full));
  }
  return files;
}
