import { createHash } from 'node:crypto';
import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import got, { RequestError, type Got, type Response } from 'got';
import type { z } from 'zod';
import {
  DynatraceApiError,
  DynatraceFailureType,
  failureTypeForStatus,
  ResponseTooLargeError,
  retryDelayFromHeaders,
  throttleBackoffMs,
  type DynatraceConstraintViolation,
} from './errors.js';
import { KeyedLimiter } from './keyed-limiter.js';
import { lookupWithLocalhostNames } from './localhost-lookup.js';

export interface DynatraceHttpOptions {
  /**
   * `https://managed.example.com` (no trailing path): a Managed cluster, whose environment APIs live
   * under `/e/{id}/api`; or a SaaS environment's own host (`https://abc12345.live.dynatrace.com`),
   * whose API is at `/api` (reference §13).
   */
  baseUrl: string;
  /** Where environment APIs are below `baseUrl`; default `managed`. */
  layout?: 'managed' | 'saas';
  /** Concurrent requests per environment and for the cluster API, per worker process. */
  maxConcurrentPerEnvironment: number;
  /** Concurrent requests to this cluster (or SaaS host) in all, per worker process; unbounded when unset. */
  maxConcurrentTotal?: number;
  requestTimeoutMs: number;
  /** PEM of the CA that signed an on-premise cluster's certificate. */
  caCertificate?: string;
}

export type QueryValue = string | number | boolean | undefined;

/** One environment as its API paths see it: its id (the concurrency pool) and where its API starts. */
export interface EnvironmentLocation {
  id: string;
  /** `/e/abc-p1/api` on a Managed cluster, `/api` on a SaaS environment's host. */
  apiRoot: string;
}

export interface ApiRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Absolute path on the cluster, e.g. `/api/cluster/v2/environments/abc-p1`. */
  path: string;
  token: string;
  /** Concurrency pool: the environment id, or the cluster API. */
  pool: string;
  query?: Record<string, QueryValue> | URLSearchParams;
  json?: unknown;
  headers?: Record<string, string>;
  /** Statuses that count as success; anything else becomes a DynatraceApiError. */
  ok?: number[];
  /** A longer answer is cut off while it arrives and becomes a ResponseTooLargeError. */
  maxResponseBytes?: number;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  /** The size of the body as it was read. */
  bytes: number;
}

export const CLUSTER_POOL = 'cluster-api';

/**
 * The one place that talks HTTP to Dynatrace: token in the Authorization header only, got's own
 * retries off (Temporal is the retry layer), a per-environment concurrency bound, and every failure
 * turned into a DynatraceApiError that Temporal knows how to retry or not.
 */
export class DynatraceHttp {
  readonly limiter: KeyedLimiter;
  private readonly total: KeyedLimiter | undefined;
  private readonly got: Got;

  constructor(readonly options: DynatraceHttpOptions) {
    this.limiter = new KeyedLimiter(options.maxConcurrentPerEnvironment);
    this.total = options.maxConcurrentTotal ? new KeyedLimiter(options.maxConcurrentTotal) : undefined;
    this.got = got.extend({
      prefixUrl: options.baseUrl.replace(/\/+$/, ''),
      retry: { limit: 0 },
      throwHttpErrors: false,
      followRedirect: false,
      timeout: { request: options.requestTimeoutMs },
      dnsLookup: lookupWithLocalhostNames,
      ...(options.caCertificate ? { https: { certificateAuthority: options.caCertificate } } : {}),
    });
  }

  /** Within the environment's share, then within the cluster's: one environment cannot take a whole cluster's slots. */
  private bounded<T>(pool: string, operation: () => Promise<T>): Promise<T> {
    const total = this.total;
    return this.limiter.run(pool, total ? () => total.run('all', operation) : operation);
  }

  async send(request: ApiRequest): Promise<ApiResponse> {
    return this.bounded(request.pool, async () => {
      let response: Response<string>;
      const max = request.maxResponseBytes;
      let status: number | undefined;
      let tooLarge = false;
      try {
        const call = this.got(request.path.replace(/^\//, ''), {
          method: request.method,
          headers: this.headers(request),
          ...(request.query ? { searchParams: toSearchParams(request.query) } : {}),
          ...(request.json !== undefined ? { json: request.json } : {}),
          responseType: 'text',
        });
        if (max !== undefined) {
          // `on` hands back the same request (a promise), which is awaited below.
          void call.on('response', (r: { statusCode: number }) => (status = r.statusCode));
          void call.on('downloadProgress', (progress) => {
            if (progress.transferred > max || (progress.total ?? 0) > max) {
              tooLarge = true;
              call.cancel();
            }
          });
        }
        response = await call;
      } catch (err) {
        if (tooLarge) throw new ResponseTooLargeError(request, status, max!);
        throw networkError(request, err);
      }
      const bytes = Buffer.byteLength(response.body);
      // What arrived compressed is measured again as it was unpacked.
      if (max !== undefined && bytes > max) throw new ResponseTooLargeError(request, response.statusCode, max);
      const body = parseBody(response);
      if (!(request.ok ?? [200]).includes(response.statusCode)) {
        throw httpError(request, response.statusCode, response.headers, body);
      }
      return { status: response.statusCode, headers: response.headers, body, bytes };
    });
  }

  /** Validates a response body; a body that does not match the documented shape is not retried. */
  parse<T extends z.ZodType>(schema: T, body: unknown, request: Pick<ApiRequest, 'method' | 'path'>): z.infer<T> {
    const result = schema.safeParse(body);
    if (result.success) return result.data;
    const issue = result.error.issues[0]!;
    throw new DynatraceApiError(
      { method: request.method, path: request.path },
      undefined,
      DynatraceFailureType.unexpectedResponse,
      `unexpected response shape at ${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
  }

  /**
   * Streams a download to `destination` (via a temporary file, renamed when complete), hashing on
   * the way, or reports 304 Not Modified for a matching `If-None-Match`.
   */
  async download(
    request: Omit<ApiRequest, 'method' | 'json' | 'ok'>,
    destination: string,
  ): Promise<{ status: 200; sha256: string; size: number; etag: string | undefined } | { status: 304 }> {
    const full: ApiRequest = { ...request, method: 'GET' };
    return this.bounded(request.pool, async () => {
      const stream = this.got.stream(request.path.replace(/^\//, ''), {
        headers: this.headers(full),
        ...(request.query ? { searchParams: toSearchParams(request.query) } : {}),
        throwHttpErrors: false,
      });
      const response = await new Promise<Response>((resolve, reject) => {
        stream.once('response', resolve);
        stream.once('error', (err) => reject(networkError(full, err)));
      });
      if (response.statusCode === 304) {
        stream.destroy();
        return { status: 304 as const };
      }
      if (response.statusCode !== 200) {
        const chunks: Buffer[] = [];
        for await (const chunk of stream) chunks.push(chunk as Buffer);
        const text = Buffer.concat(chunks).toString('utf8');
        throw httpError(full, response.statusCode, response.headers, tryJson(text));
      }
      const hash = createHash('sha256');
      let size = 0;
      const tap = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          hash.update(chunk);
          size += chunk.length;
          callback(null, chunk);
        },
      });
      const partial = `${destination}.partial-${process.pid}`;
      try {
        await pipeline(stream, tap, createWriteStream(partial, { mode: 0o600 }));
      } catch (err) {
        rmSync(partial, { force: true });
        throw networkError(full, err);
      }
      renameSync(partial, destination);
      const etag = response.headers.etag;
      return { status: 200 as const, sha256: hash.digest('hex'), size, etag };
    });
  }

  private headers(request: ApiRequest): Record<string, string> {
    return { Accept: 'application/json', ...request.headers, Authorization: `Api-Token ${request.token}` };
  }
}

function toSearchParams(query: Record<string, QueryValue> | URLSearchParams): URLSearchParams {
  if (query instanceof URLSearchParams) return query;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  return params;
}

function tryJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function parseBody(response: Response<string>): unknown {
  const type = String(response.headers['content-type'] ?? '');
  if (response.body === '' || !type.includes('json')) return response.body === '' ? undefined : response.body;
  return tryJson(response.body);
}

interface ErrorEnvelope {
  error?: { message?: string; constraintViolations?: DynatraceConstraintViolation[] | null };
}

function httpError(
  request: ApiRequest,
  status: number,
  headers: Record<string, string | string[] | undefined>,
  body: unknown,
): DynatraceApiError {
  const type = failureTypeForStatus(status);
  const envelope =
    (Array.isArray(body) ? (body[0] as ErrorEnvelope | undefined) : (body as ErrorEnvelope | undefined)) ?? {};
  const message =
    (typeof envelope === 'object' && envelope.error?.message) ||
    (typeof body === 'string' && body.length > 0 && body.length < 300 ? body : `HTTP ${status}`);
  const delay =
    type === DynatraceFailureType.throttled
      ? (retryDelayFromHeaders(headers) ?? throttleBackoffMs())
      : type === DynatraceFailureType.serverError
        ? retryDelayFromHeaders(headers)
        : undefined;
  return new DynatraceApiError(
    { method: request.method, path: request.path },
    status,
    type,
    message,
    (typeof envelope === 'object' && envelope.error?.constraintViolations) || [],
    delay,
  );
}

function networkError(request: ApiRequest, err: unknown): DynatraceApiError {
  if (err instanceof DynatraceApiError) return err;
  const code = err instanceof RequestError ? err.code : undefined;
  const message = err instanceof Error ? err.message : String(err);
  return new DynatraceApiError(
    { method: request.method, path: request.path },
    undefined,
    DynatraceFailureType.unavailable,
    `${code ? `${code}: ` : ''}${message}`,
    [],
    undefined,
    err instanceof Error ? err : undefined,
  );
}
