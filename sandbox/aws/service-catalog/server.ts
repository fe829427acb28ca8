import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EmulatorContext } from './context.js';
import { ServiceCatalogError } from './errors.js';
import { faultError } from './faults.js';
import { isJsonObject, type JsonObject } from './input.js';
import { emulatorState } from './inspect.js';
import { OPERATIONS } from './operations.js';

/** The AWS JSON 1.1 target prefix of Service Catalog (model metadata `targetPrefix`). */
export const TARGET_PREFIX = 'AWS242ServiceCatalogService.';
const CONTENT_TYPE = 'application/x-amz-json-1.1';
const MAX_BODY_BYTES = 10 * 1024 * 1024;
const TEMPLATES_PATH = '/_emulator/templates/';

export interface RunningHttpServer {
  url: string;
  close(): Promise<void>;
}

export async function startHttpServer(
  context: EmulatorContext,
  listen: { port: number; host: string },
): Promise<RunningHttpServer> {
  const server = http.createServer((request, response) => {
    handle(context, request, response).catch((error: unknown) => {
      if (response.headersSent) response.destroy();
      else send(response, 500, 'application/json', JSON.stringify({ message: errorMessage(error) }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // The SDK keeps connections alive; without this, close() waits for their idle timeout.
        server.closeAllConnections();
      }),
  };
}

async function handle(context: EmulatorContext, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const { pathname } = new URL(request.url ?? '/', 'http://emulator');
  if (request.method === 'POST' && pathname === '/') return handleAwsRequest(context, request, response);
  request.resume();
  if (request.method === 'GET' && pathname === '/_emulator/state') {
    return send(response, 200, 'application/json', JSON.stringify(emulatorState(context), null, 2));
  }
  if (request.method === 'GET' && pathname.startsWith(TEMPLATES_PATH)) {
    const artifact = context.store.artifacts.get(decodeURIComponent(pathname.slice(TEMPLATES_PATH.length)));
    if (artifact !== undefined) {
      const type = artifact.templateFormat === 'json' ? 'application/json' : 'text/plain; charset=utf-8';
      return send(response, 200, type, artifact.templateText);
    }
  }
  send(response, 404, 'application/json', JSON.stringify({ message: `Not found: ${request.method} ${pathname}` }));
}

/**
 * One AWS JSON 1.1 call. The SigV4 signature is not checked, but like AWS the call needs an Authorization header.
 * Injected faults apply to implemented operations only, before the operation runs unless the fault says otherwise.
 */
async function handleAwsRequest(context: EmulatorContext, request: IncomingMessage, response: ServerResponse) {
  const requestId = randomUUID();
  const body = await readBody(request);
  let operation: string | undefined;
  let faultInjected = false;
  let status = 200;
  let payload: unknown;
  let errorCode: string | undefined;
  const target = request.headers['x-amz-target'];
  if (typeof target === 'string' && target.startsWith(TARGET_PREFIX)) operation = target.slice(TARGET_PREFIX.length);
  try {
    if (!request.headers.authorization) {
      throw new ServiceCatalogError('MissingAuthenticationTokenException', 'Missing Authentication Token');
    }
    if (operation === undefined) {
      throw new ServiceCatalogError('UnknownOperationException', `Unknown X-Amz-Target: ${String(target)}`);
    }
    const handler = OPERATIONS.get(operation);
    if (handler === undefined) {
      throw new ServiceCatalogError(
        'UnknownOperationException',
        `Operation ${operation} is not implemented by the Service Catalog emulator`,
      );
    }
    const fault = context.faults.decide(operation, context.settings);
    if (fault?.before) {
      faultInjected = true;
      throw faultError(fault.fault);
    }
    const result = handler(parseBody(body), context);
    if (fault !== undefined) {
      // The operation runs to completion, but its answer is lost like a response dropped on the way back.
      await result.catch(() => undefined);
      faultInjected = true;
      throw faultError(fault.fault);
    }
    payload = await result;
  } catch (error) {
    const failure =
      error instanceof ServiceCatalogError
        ? error
        : new ServiceCatalogError('InternalFailure', `Emulator failure: ${errorMessage(error)}`, 500);
    status = failure.httpStatus;
    errorCode = failure.code;
    payload = { __type: failure.code, message: failure.message };
  }
  context.journal.record({
    requestId,
    operation,
    at: new Date(context.now()),
    httpStatus: status,
    errorCode,
    faultInjected,
  });
  const headers: Record<string, string> = { 'X-Amzn-RequestId': requestId };
  if (errorCode !== undefined) headers['X-Amzn-ErrorType'] = errorCode;
  send(response, status, CONTENT_TYPE, JSON.stringify(payload), headers);
}

/** The body, or undefined when it exceeds MAX_BODY_BYTES (read to the end anyway, so the answer can be sent). */
async function readBody(request: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  }
  return size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks).toString('utf8');
}

/** The SDK sends `{}` for an operation without members; an empty body is treated the same way. */
function parseBody(body: string | undefined): JsonObject {
  if (body === undefined) {
    throw new ServiceCatalogError('SerializationException', `The request body exceeds ${MAX_BODY_BYTES} bytes`);
  }
  if (body.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    throw new ServiceCatalogError(
      'SerializationException',
      `The request body is not valid JSON: ${errorMessage(error)}`,
    );
  }
  if (!isJsonObject(parsed))
    throw new ServiceCatalogError('SerializationException', 'The request body must be a JSON object');
  return parsed;
}

function send(
  response: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { ...headers, 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  response.end(body);
}

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));
