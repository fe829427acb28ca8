import { setTimeout as sleep } from 'node:timers/promises';
import { msOptionalToNumber } from '@temporalio/common';
import { DynatraceApiError, ResponseTooLargeError } from '../dynatrace/errors.js';
import type { DynatraceClients } from '../dynatrace/dynatrace-clients.js';
import type { ApiResponse } from '../dynatrace/http-client.js';
import type { EnvironmentTokens } from '../activities/environment-tokens.js';
import type { EnvironmentRegistry } from '../registry/environment-registry.js';
import { mapWithConcurrency } from '../concurrency/map-with-concurrency.js';
import type { RegisteredEnvironment } from '../shared/registry.js';
import type { FleetQueryRequest } from './fleet-path.js';

/** One environment's answer: its status and body, or why there is none. */
export interface FleetAnswer {
  environmentId: string;
  cluster: string | null;
  kind: 'managed' | 'saas';
  ok: boolean;
  /** The HTTP status of the last attempt; null when no answer came (network, no token). */
  status: number | null;
  error?: string;
  attempts: number;
  pages: number;
  durationMs: number;
  body?: unknown;
  /** `allPages` stopped early at a limit: the body holds the pages read before it. */
  truncated?: { reason: string };
}

export interface FleetQueryDeps {
  registry: EnvironmentRegistry;
  clients: DynatraceClients;
  tokens: EnvironmentTokens;
}

export interface FleetQueryOptions {
  /** Environments asked at once across the fleet; each cluster's and environment's caps still hold. */
  concurrency: number;
  /** Attempts per page for a throttled (429) or failing (5xx, network) answer. */
  attempts?: number;
  signal?: AbortSignal;
  /** Pages `allPages` follows per environment (AUTOPILOT_FLEET_QUERY_MAX_PAGES). */
  maxPages?: number;
  /** Bytes of one environment's answer, all its pages together (AUTOPILOT_FLEET_QUERY_MAX_BYTES). */
  maxBytes?: number;
}

export const DEFAULT_FLEET_QUERY_LIMITS = { maxPages: 100, maxBytes: 16 * 1024 * 1024 };

const RETRYABLE = (status: number | null) => status === null || status === 429 || status >= 500;

/**
 * Sends one request to every environment a selector names, with the automation token Autopilot
 * holds there (never shown to the caller), and yields each answer as it arrives. A failing
 * environment is an answer with `ok: false` and the reason; the others go on. Throttling and
 * server errors are retried with back-off (Retry-After honoured) a few times: a fleet query is an
 * interactive read outside any workflow, so there is no durable retry layer to hand it to; a POST
 * is retried only on 429, which Dynatrace answers before doing anything. A 401 is reported, not
 * repaired: a query never mints tokens (the scan and maintenance do).
 */
export async function* queryFleet(
  deps: FleetQueryDeps,
  selector: string | undefined,
  request: FleetQueryRequest,
  options: FleetQueryOptions,
): AsyncGenerator<FleetAnswer> {
  const environments = await deps.registry.list(selector);
  const answers: FleetAnswer[] = [];
  let wake: (() => void) | undefined;
  let finished = false;
  const run = mapWithConcurrency(environments, options.concurrency, async (environment) => {
    answers.push(await askOne(deps, environment, request, options));
    wake?.();
  }).finally(() => {
    finished = true;
    wake?.();
  });
  run.catch(() => undefined);
  while (!finished || answers.length > 0) {
    if (answers.length === 0) {
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
      continue;
    }
    yield answers.shift()!;
  }
  await run;
}

async function askOne(
  deps: FleetQueryDeps,
  environment: RegisteredEnvironment,
  request: FleetQueryRequest,
  options: FleetQueryOptions,
): Promise<FleetAnswer> {
  const started = Date.now();
  const answer: FleetAnswer = {
    environmentId: environment.id,
    cluster: environment.cluster ?? null,
    kind: environment.kind,
    ok: false,
    status: null,
    attempts: 0,
    pages: 0,
    durationMs: 0,
  };
  const done = () => ({ ...answer, durationMs: Date.now() - started });
  let token: string;
  try {
    token = await deps.tokens.get(environment.id, 'automation');
  } catch {
    return { ...done(), error: 'Autopilot holds no automation token for this environment' };
  }
  let client: ReturnType<DynatraceClients['forEnvironment']>;
  try {
    client = deps.clients.forEnvironment(environment);
  } catch (err) {
    // A record no token may be sent to (or a cluster no longer configured) is this environment's answer.
    return { ...done(), error: err instanceof Error ? err.message : String(err) };
  }
  const apiRoot = client.layout === 'saas' ? '/api' : `/e/${encodeURIComponent(environment.id)}/api`;
  const maxAttempts = options.attempts ?? 4;
  const maxPages = options.maxPages ?? DEFAULT_FLEET_QUERY_LIMITS.maxPages;
  const maxBytes = options.maxBytes ?? DEFAULT_FLEET_QUERY_LIMITS.maxBytes;
  const pages: unknown[] = [];
  let bytes = 0;
  let truncated: FleetAnswer['truncated'];
  let query = request.query;
  for (;;) {
    let page: ApiResponse | undefined;
    for (let attempt = 1; ; attempt++) {
      answer.attempts++;
      if (options.signal?.aborted) return { ...done(), error: 'cancelled' };
      try {
        const response = await client.http.send({
          method: request.method,
          path: `${apiRoot}/${request.path}`,
          token,
          pool: environment.id,
          query,
          ...(request.body !== undefined ? { json: request.body } : {}),
          ok: [200, 201, 204],
          maxResponseBytes: maxBytes - bytes,
        });
        page = response;
        break;
      } catch (err) {
        const status = err instanceof DynatraceApiError ? (err.status ?? null) : null;
        answer.status = status;
        if (err instanceof ResponseTooLargeError) {
          if (pages.length === 0) {
            return {
              ...done(),
              error: `the answer is longer than ${maxBytes} bytes (AUTOPILOT_FLEET_QUERY_MAX_BYTES)`,
            };
          }
          truncated = {
            reason: `stopped after ${pages.length} page(s): the next one would pass ${maxBytes} bytes (AUTOPILOT_FLEET_QUERY_MAX_BYTES)`,
          };
          break;
        }
        const retryable = RETRYABLE(status) && (request.method !== 'POST' || status === 429);
        if (!retryable || attempt >= maxAttempts) {
          return { ...done(), error: explain(status, err) };
        }
        const hinted =
          err instanceof DynatraceApiError ? msOptionalToNumber(err.nextRetryDelay ?? undefined) : undefined;
        await sleep(Math.min(10_000, hinted ?? 250 * 2 ** attempt * (0.5 + Math.random())));
      }
    }
    if (!page) break;
    answer.status = page.status;
    answer.pages++;
    bytes += page.bytes;
    pages.push(page.body);
    const next = request.allPages ? nextPageQuery(request, query, page) : undefined;
    if (!next) break;
    if (pages.length >= maxPages) {
      truncated = {
        reason: `stopped after ${maxPages} pages (AUTOPILOT_FLEET_QUERY_MAX_PAGES); the environment has more`,
      };
      break;
    }
    query = next;
  }
  return {
    ...done(),
    ok: true,
    body: request.allPages ? mergePages(pages) : pages[0],
    ...(truncated ? { truncated } : {}),
  };
}

function explain(status: number | null, err: unknown): string {
  if (status === 401) return 'token refused (401): the next fleet scan or maintenance replaces it';
  if (status === 403) return 'forbidden (403): the automation token lacks a scope this API needs';
  const message = err instanceof Error ? err.message : String(err);
  return status === null ? `no answer: ${message}` : message;
}

/**
 * The request for the next page, in the style of the API (reference §9.2): v2 lists carry only the
 * key (Problems v2 repeats `fields`), v1 lists repeat every parameter with a key from the body or
 * the `Next-Page-Key` header.
 */
function nextPageQuery(
  request: FleetQueryRequest,
  query: URLSearchParams,
  page: { body: unknown; headers: Record<string, string | string[] | undefined> },
): URLSearchParams | undefined {
  const fromBody = (page.body as { nextPageKey?: unknown } | null)?.nextPageKey;
  const header = page.headers['next-page-key'];
  const key = typeof fromBody === 'string' && fromBody ? fromBody : Array.isArray(header) ? header[0] : header;
  if (!key) return undefined;
  if (request.path.startsWith('v2/')) {
    const next = new URLSearchParams({ nextPageKey: key });
    const fields = request.query.get('fields');
    if (request.path === 'v2/problems' && fields) next.set('fields', fields);
    return next;
  }
  const next = new URLSearchParams(query);
  next.set('nextPageKey', key);
  return next;
}

/** Pages of one list become one body: the list joined, the paging fields dropped. */
function mergePages(pages: unknown[]): unknown {
  if (pages.length === 1) return pages[0];
  if (pages.every(Array.isArray)) return (pages as unknown[][]).flat();
  const first = pages[0] as Record<string, unknown>;
  const listKey = Object.keys(first).find((k) => Array.isArray(first[k]));
  if (!listKey) return pages;
  const merged: Record<string, unknown> = {
    ...first,
    [listKey]: pages.flatMap((p) => (p as Record<string, unknown[]>)[listKey] ?? []),
  };
  delete merged.nextPageKey;
  return merged;
}

/** Whether the caller should hear "partial": some environments answered and some did not. */
export function fleetOutcome(answers: readonly Pick<FleetAnswer, 'ok'>[]): 'complete' | 'partial' | 'failed' | 'empty' {
  if (answers.length === 0) return 'empty';
  const ok = answers.filter((a) => a.ok).length;
  return ok === answers.length ? 'complete' : ok === 0 ? 'failed' : 'partial';
}
