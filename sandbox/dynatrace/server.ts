import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { CapacityLimiter } from './capacity-limiter.js';
import { FaultPlan } from './fault-plan.js';
import { errorResponse, HttpError, parseJsonBody, readBody, writeResponse } from './http.js';
import { InstallerBuilds } from './installer-builds.js';
import { generateSigningMaterial } from './installer.js';
import { knobsSchema, type SimulatorKnobs, type SimulatorKnobsInput } from './knobs.js';
import { NotificationDispatcher } from './notifications.js';
import { Router, type MatchedRoute, type RequestContext } from './router.js';
import { registerAgentRoutes } from './routes/agent.js';
import { registerApiTokenRoutes } from './routes/api-tokens.js';
import { registerClusterRoutes } from './routes/cluster.js';
import { registerControlRoutes } from './routes/control.js';
import { registerDeploymentRoutes } from './routes/deployment.js';
import { registerEntityRoutes } from './routes/entities.js';
import { registerProblemRoutes } from './routes/problems.js';
import { registerSettingsRoutes } from './routes/settings.js';
import type { SimulatorServices } from './services.js';
import { defaultAlertingProfile } from './settings-schemas.js';
import { SimulatorState, type EnvironmentRecord } from './state.js';
import { SimulatorStats } from './stats.js';
import { makeServingCertificate, type ServingCertificate } from './tls.js';
import { scopeList } from './tokens.js';

export interface DynatraceSimulatorOptions {
  port?: number;
  host?: string;
  knobs?: SimulatorKnobsInput;
  /** JSON file the state is loaded from and saved to, so `npm start` keeps its environments. */
  stateFile?: string;
  /** Cluster tokens to have from the start; on a loaded state, tokens with the same name are reused. */
  clusterTokens?: { name: string; scopes: string[] }[];
  /**
   * Be one SaaS environment instead of a Managed cluster: its API at the root (`/api/v2/...`, reference §13),
   * no `/e/{id}` and no cluster API. The environment is created at start, or reused from `stateFile`.
   */
  saas?: { environmentId: string; name?: string };
  /**
   * Serve https with a certificate made at start (for 127.0.0.1, localhost and, with `saas`,
   * `<environment id>.localhost`), as production-mode processes need: they refuse plain http.
   */
  tls?: boolean;
}

export interface DynatraceSimulator {
  /** `http(s)://127.0.0.1:<port>`: the cluster's URL, and where `/_sim` answers. */
  url: string;
  /** With `tls`: the PEM file of the certificate to trust (its own CA), e.g. for DT_CA_CERT_FILE. */
  caFile?: string;
  state: SimulatorState;
  stats: SimulatorStats;
  knobs: SimulatorKnobs;
  /** Token values of `options.clusterTokens`, by name. */
  clusterTokens: Record<string, string>;
  /**
   * With `options.saas`: the environment, its own URL (`http(s)://<id>.localhost:<port>`, shaped like
   * `https://<id>.live.dynatrace.com`; localhost names are the loopback address) and the token
   * management token a SaaS admin would hand over.
   */
  saas?: { environmentId: string; url: string; tokenManagementToken: string };
  /**
   * A PEM file with the certificate the simulator signs its installers with: what a worker's
   * DT_INSTALLER_CA_FILE names, as Dynatrace's root CA would be for a real cluster. Removed at stop.
   */
  installerCaFile: string;
  setKnobs(patch: SimulatorKnobsInput): void;
  stop(): Promise<void>;
}

const CLUSTER_POOL = '__cluster__';

/**
 * A Dynatrace Managed cluster (or, with `options.saas`, one SaaS environment) in one process, faithful to
 * ../shared/reference/dynatrace-api.md.
 */
export async function startDynatraceSimulator(options: DynatraceSimulatorOptions = {}): Promise<DynatraceSimulator> {
  const state = (options.stateFile && SimulatorState.load(options.stateFile)) || new SimulatorState();
  const stats = new SimulatorStats();
  const knobs = knobsSchema.parse(options.knobs ?? {});
  const faults = new FaultPlan(knobs.faults);
  let limiters = new Map<string, CapacityLimiter>();
  const hungSockets = new Set<Socket>();
  let baseUrl = '';
  const host = options.host ?? '127.0.0.1';
  const certificate: ServingCertificate | undefined = options.tls
    ? await makeServingCertificate([host, ...(options.saas ? [`${options.saas.environmentId}.localhost`] : [])])
    : undefined;

  let saveTimer: NodeJS.Timeout | undefined;
  const changed = () => {
    if (!options.stateFile || saveTimer) return;
    saveTimer = setTimeout(() => {
      saveTimer = undefined;
      state.save(options.stateFile!);
    }, 500);
  };

  const svc: SimulatorServices = {
    state,
    stats,
    knobs: () => knobs,
    baseUrl: () => baseUrl,
    notifications: new NotificationDispatcher(
      () => baseUrl,
      () => knobs,
      stats,
    ),
    installers: new InstallerBuilds(
      state,
      () => `${baseUrl}/communication`,
      () => knobs.installerSizeBytes,
      () => knobs.installerForgery,
      certificate?.cert,
    ),
    changed,
  };

  const router = new Router();
  registerClusterRoutes(router, svc);
  registerApiTokenRoutes(router, svc);
  registerDeploymentRoutes(router, svc);
  registerEntityRoutes(router);
  registerProblemRoutes(router, svc);
  registerSettingsRoutes(router, svc);
  registerAgentRoutes(router, svc);
  registerControlRoutes(router, svc, () => {
    faults.update(knobs.faults);
    limiters = new Map();
  });

  const limiterFor = (pool: string) => {
    let limiter = limiters.get(pool);
    if (!limiter) {
      const t = knobs.throttle;
      limiter = new CapacityLimiter(t.maxConcurrent, t.queueSize, t.queueTimeoutMs);
      limiters.set(pool, limiter);
    }
    return limiter;
  };

  const authenticate = (
    req: IncomingMessage,
    url: URL,
    matched: MatchedRoute,
  ): { principal: string; environment?: EnvironmentRecord } => {
    const { route, params } = matched;
    const header = req.headers.authorization;
    const token = header ? /^Api-Token\s+(\S+)$/i.exec(header)?.[1] : (url.searchParams.get('api-token') ?? undefined);
    if (!token) throw new HttpError(401, 'Missing authorization parameter.');
    let environment: EnvironmentRecord | undefined;
    if (route.area === 'environment') {
      environment = state.environments.get(params.environmentId!);
      if (!environment) throw new HttpError(404, `Environment ${params.environmentId} not found`);
    }
    const owner = state.findToken(token);
    const now = Date.now() + knobs.clockOffsetMs;
    // Cluster and environment tokens are separate worlds: one is never valid where the other is.
    if (!owner || (route.area === 'cluster') !== (owner.kind === 'cluster')) {
      throw new HttpError(401, 'Token Authentication failed');
    }
    if (owner.kind === 'environment' && (owner.environmentId !== environment!.id || !owner.token.enabled)) {
      throw new HttpError(401, 'Token Authentication failed');
    }
    const expiresAt = owner.kind === 'cluster' ? owner.token.expiresAt : owner.token.expirationDate;
    if (expiresAt !== undefined && expiresAt <= now) throw new HttpError(401, 'Token expired');
    if (environment && now - environment.createdAt < knobs.environmentReadyDelayMs) {
      throw new HttpError(503, `Environment ${environment.id} is not ready yet`, undefined, { 'Retry-After': '1' });
    }
    if (!route.scopes.some((s) => owner.token.scopes.includes(s))) {
      throw new HttpError(403, `Token is missing required scope. Use one of: ${scopeList(route.scopes)}`);
    }
    if (owner.kind === 'environment') owner.token.lastUsedDate = now;
    return {
      principal: owner.kind === 'cluster' ? owner.token.name : owner.token.owner,
      ...(environment ? { environment } : {}),
    };
  };

  const serve = async (
    req: IncomingMessage,
    url: URL,
    matched: MatchedRoute,
  ): Promise<ReturnType<typeof errorResponse>> => {
    const { route } = matched;
    const auth =
      route.area === 'cluster' || route.area === 'environment'
        ? authenticate(req, url, matched)
        : { principal: 'anonymous' };
    const rawBody = ['POST', 'PUT', 'PATCH'].includes(route.method) ? await readBody(req) : Buffer.alloc(0);
    let parsed: unknown;
    let parsedOnce = false;
    const ctx: RequestContext = {
      req,
      url,
      params: matched.params,
      query: url.searchParams,
      rawBody,
      body: () => {
        if (!parsedOnce) {
          parsed = parseJsonBody(rawBody);
          parsedOnce = true;
        }
        return parsed;
      },
      principal: auth.principal,
      ...(auth.environment ? { environment: auth.environment } : {}),
    };
    return route.handler(ctx);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', baseUrl);
    const routedPath = options.saas ? saasRoutedPath(url.pathname, options.saas.environmentId) : url.pathname;
    const matched = routedPath === undefined ? undefined : router.match(req.method ?? 'GET', routedPath);
    if (matched === undefined || matched === 'method-not-allowed') {
      const status = matched === undefined ? 404 : 405;
      stats.request('unmatched', status);
      writeResponse(res, errorResponse(new HttpError(status, status === 404 ? 'Not found' : 'Method not allowed')));
      return;
    }
    const environmentId = matched.route.area === 'environment' ? matched.params.environmentId : undefined;
    const isApi = matched.route.area === 'cluster' || matched.route.area === 'environment';
    // The simulator's own /_sim API is not part of what it measures.
    if (matched.route.area !== 'control') {
      res.once('finish', () => stats.request(matched.name, res.statusCode, environmentId, isApi));
    }
    if (!isApi) {
      try {
        writeResponse(res, await serve(req, url, matched));
      } catch (err) {
        writeResponse(res, errorResponse(asHttpError(err)));
      }
      return;
    }

    const fault = faults.decide(matched.name, environmentId);
    if (fault !== 'none') stats.fault(fault);
    if (fault === 'reset') {
      stats.request(matched.name, 0, environmentId);
      req.socket.destroy();
      return;
    }
    if (fault === 'hang') {
      stats.request(matched.name, 0, environmentId);
      hungSockets.add(req.socket);
      const timer = setTimeout(() => req.socket.destroy(), knobs.faults.hangMs);
      req.socket.once('close', () => {
        clearTimeout(timer);
        hungSockets.delete(req.socket);
      });
      return;
    }
    if (fault === 'error500') {
      writeResponse(res, errorResponse(new HttpError(500, 'Internal Server Error')));
      return;
    }
    if (fault === 'error429') {
      writeResponse(res, errorResponse(new HttpError(429, 'Too many requests.')));
      return;
    }

    const release = await limiterFor(environmentId ?? CLUSTER_POOL).acquire();
    if (!release) {
      writeResponse(res, errorResponse(new HttpError(429, 'Too many requests.')));
      return;
    }
    try {
      const delay = knobs.latencyMs + (knobs.latencyJitterMs > 0 ? Math.random() * knobs.latencyJitterMs : 0);
      if (delay > 0) await sleep(delay);
      writeResponse(res, await serve(req, url, matched));
    } catch (err) {
      writeResponse(res, errorResponse(asHttpError(err)));
    } finally {
      release();
    }
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) writeResponse(res, errorResponse(asHttpError(err)));
    });
  };
  const server = certificate
    ? https.createServer({ key: certificate.key, cert: certificate.cert }, onRequest)
    : http.createServer(onRequest);
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const scheme = certificate ? 'https' : 'http';
  baseUrl = `${scheme}://${host}:${port}`;

  const clusterTokens: Record<string, string> = {};
  for (const wanted of options.clusterTokens ?? []) {
    const existing = [...state.clusterTokens.values()].find((t) => t.name === wanted.name);
    const token =
      existing && wanted.scopes.every((s) => existing.scopes.includes(s))
        ? existing
        : state.createClusterToken(wanted.name, wanted.scopes);
    clusterTokens[wanted.name] = token.token;
  }
  const saas = options.saas
    ? {
        ...openSaasEnvironment(state, options.saas),
        url: `${scheme}://${options.saas.environmentId}.localhost:${port}`,
      }
    : undefined;
  state.signing ??= await generateSigningMaterial();
  const caDir = mkdtempSync(path.join(os.tmpdir(), 'dt-sim-installer-ca-'));
  const installerCaFile = path.join(caDir, 'installer-ca.pem');
  writeFileSync(installerCaFile, state.signing.certificatePem);
  changed();

  return {
    url: baseUrl,
    ...(certificate ? { caFile: certificate.caFile } : {}),
    state,
    stats,
    knobs,
    clusterTokens,
    ...(saas ? { saas } : {}),
    installerCaFile,
    setKnobs(patch) {
      Object.assign(knobs, knobsSchema.parse({ ...knobs, ...patch }));
      faults.update(knobs.faults);
      limiters = new Map();
    },
    async stop() {
      svc.notifications.stop();
      for (const socket of hungSockets) socket.destroy();
      clearTimeout(saveTimer);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      if (options.stateFile) state.save(options.stateFile);
      certificate?.remove();
      rmSync(caDir, { recursive: true, force: true });
    },
  };
}

/**
 * The path the Managed routes know for a request to a SaaS host: `/api/...` is the environment's own
 * API, so `/api/cluster/...` and `/api/v1.0/onpremise/...` match nothing, as on SaaS. `/e/...` does not
 * exist there either; the simulator's `/_sim` and the agents' `/communication` stay as they are.
 */
function saasRoutedPath(pathname: string, environmentId: string): string | undefined {
  if (pathname === '/e' || pathname.startsWith('/e/')) return undefined;
  return pathname.startsWith('/api/') ? `/e/${encodeURIComponent(environmentId)}${pathname}` : pathname;
}

/** The SaaS environment and its token management token, both kept when the state is loaded from a file. */
function openSaasEnvironment(
  state: SimulatorState,
  saas: NonNullable<DynatraceSimulatorOptions['saas']>,
): Omit<NonNullable<DynatraceSimulator['saas']>, 'url'> {
  let environment = state.environments.get(saas.environmentId);
  if (!environment) {
    environment = state.createEnvironment({
      id: saas.environmentId,
      name: saas.name ?? saas.environmentId,
      state: 'ENABLED',
      trial: false,
      tags: [],
    });
    const profile = defaultAlertingProfile();
    environment.settings.set(profile.objectId, profile);
  }
  const token =
    [...environment.tokens.values()].find((t) => t.kind === 'tokenManagement' && t.expirationDate === undefined) ??
    state.createEnvironmentToken(environment, {
      name: 'Token management token',
      scopes: ['apiTokens.read', 'apiTokens.write', 'TenantTokenManagement'],
      owner: 'saas-admin',
      kind: 'tokenManagement',
    });
  return { environmentId: environment.id, tokenManagementToken: token.token };
}

function asHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  console.error('dynatrace simulator: unexpected error', err);
  return new HttpError(500, 'Internal Server Error');
}
