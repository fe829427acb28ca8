import type { IncomingMessage, ServerResponse } from 'node:http';

export interface ConstraintViolation {
  path: string | null;
  message: string;
  parameterLocation: 'HEADER' | 'PATH' | 'PAYLOAD_BODY' | 'QUERY';
  location: string | null;
}

/** An error answered with Dynatrace's envelope `{"error":{"code","message","constraintViolations"}}`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly constraintViolations?: ConstraintViolation[],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const badRequest = (message: string, violations?: ConstraintViolation[]) =>
  new HttpError(400, message, violations);
export const notFound = (message: string) => new HttpError(404, message);

export function violation(
  path: string | null,
  message: string,
  parameterLocation: ConstraintViolation['parameterLocation'] = 'PAYLOAD_BODY',
): ConstraintViolation {
  return { path, message, parameterLocation, location: null };
}

export interface SimResponse {
  status: number;
  body?: unknown;
  /** Raw bytes (installer downloads); sent as is with the given content type. */
  raw?: Buffer | string;
  contentType?: string;
  headers?: Record<string, string>;
}

export const json = (status: number, body: unknown, headers?: Record<string, string>): SimResponse => ({
  status,
  body,
  ...(headers ? { headers } : {}),
});
export const noContent = (): SimResponse => ({ status: 204 });

export function writeResponse(res: ServerResponse, response: SimResponse): void {
  const headers: Record<string, string> = { ...response.headers };
  let payload: Buffer | string | undefined;
  if (response.raw !== undefined) {
    payload = response.raw;
    headers['Content-Type'] ??= response.contentType ?? 'application/octet-stream';
  } else if (response.body !== undefined && response.status !== 204 && response.status !== 304) {
    payload = JSON.stringify(response.body);
    headers['Content-Type'] ??= 'application/json; charset=utf-8';
  }
  if (payload !== undefined) headers['Content-Length'] = String(Buffer.byteLength(payload));
  res.writeHead(response.status, headers);
  res.end(payload);
}

export function errorResponse(err: HttpError): SimResponse {
  return json(
    err.status,
    { error: { code: err.status, message: err.message, constraintViolations: err.constraintViolations ?? null } },
    err.headers,
  );
}

const MAX_BODY_BYTES = 1024 * 1024; // reference §9.1: 1 MB payload limit

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'Request payload exceeds the limit of 1 MB');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function parseJsonBody(raw: Buffer): unknown {
  if (raw.length === 0) throw badRequest('Request body is missing', [violation(null, 'must not be empty')]);
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    throw badRequest('Could not parse the request body as JSON', [violation(null, 'malformed JSON')]);
  }
}
