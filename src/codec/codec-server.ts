import type { Payload, PayloadCodec } from '@temporalio/common';
import type { Logger } from '@temporalio/common';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { CodecAuthenticator } from './codec-auth.js';

export interface CodecServerOptions {
  codec: PayloadCodec;
  auth: CodecAuthenticator;
  /** Exact browser origins of the Temporal UI (scheme, host and port). */
  uiOrigins: string[];
  namespace: string;
  logger: Logger;
  maxBodyBytes?: number;
}

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, { message: 'must be base64' });
// Proto JSON omits empty lists: the Temporal CLI sends `{}` for an event without payloads.
const bodySchema = z.object({
  payloads: z
    .array(z.object({ metadata: z.record(z.string(), base64).optional(), data: base64.optional() }))
    .max(10_000)
    .default([]),
});
type JsonPayload = z.infer<typeof bodySchema>['payloads'][number];

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});
const toJson = (p: Payload) => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
};

/**
 * The codec endpoint the Temporal UI (and `temporal --codec-endpoint`) calls to show payloads in
 * clear: `POST /codec/decode` and `/codec/encode` with `{payloads: [...]}`. Browsers may call it
 * only from the configured UI origins; every call must be authenticated (except in the sandbox),
 * before its body is read, and only for our namespace.
 */
export function createCodecServer(options: CodecServerOptions): FastifyInstance {
  const origins = new Set(options.uiOrigins);
  const app = Fastify({ logger: false, bodyLimit: options.maxBodyBytes ?? 8 * 1024 * 1024 });

  const subjects = new WeakMap<FastifyRequest['raw'], string>();
  const reject = (reply: FastifyReply, status: number, error: string, message: string) =>
    reply.code(status).send({ error, message });

  app.addHook('onRequest', async (request, reply) => {
    reply.headers(SECURITY_HEADERS);
    const origin = request.headers.origin;
    if (origin !== undefined) {
      if (!origins.has(origin)) return reject(reply, 403, 'origin-not-allowed', 'this origin may not use the codec');
      reply.headers({
        'access-control-allow-origin': origin,
        'access-control-allow-credentials': 'true',
        vary: 'Origin',
      });
    }
    if (request.method === 'OPTIONS') {
      return reply
        .code(204)
        .headers({
          'access-control-allow-methods': 'POST, OPTIONS',
          'access-control-allow-headers': 'content-type, x-namespace, authorization',
          'access-control-max-age': '600',
        })
        .send();
    }
    if (request.url.split('?')[0] === '/healthz') return;
    // Credentials before the body: an unauthenticated caller must not make us read (and parse) up
    // to the body limit. If the body is still arriving, the connection is closed once the refusal
    // is out, instead of draining the rest of it.
    const auth = await options.auth.authenticate(request.headers.authorization);
    if (!auth.ok) {
      if (!request.raw.complete) {
        reply.header('connection', 'close');
        reply.raw.once('finish', () => request.raw.socket?.destroy());
      }
      return reject(reply, 401, 'unauthorized', auth.reason);
    }
    subjects.set(request.raw, auth.subject);
  });

  app.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) => {
    if (error.statusCode === 413) return reject(reply, 413, 'payload-too-large', 'the body is too large');
    if (error.statusCode === 415) return reject(reply, 415, 'unsupported-media-type', 'the body must be JSON');
    if (error.statusCode && error.statusCode < 500)
      return reject(reply, 400, 'bad-request', 'the body is not valid JSON');
    options.logger.error('Codec request failed', { error: error.message });
    return reject(reply, 500, 'internal-error', 'the payloads could not be processed');
  });
  app.setNotFoundHandler((_request, reply) => reject(reply, 404, 'not-found', 'no such endpoint'));

  const handle = (direction: 'encode' | 'decode') => async (request: FastifyRequest, reply: FastifyReply) => {
    // The Temporal CLI sends an empty X-Namespace; only a named other namespace is refused.
    const namespace = request.headers['x-namespace'];
    if (namespace && namespace !== options.namespace) {
      return reject(reply, 403, 'namespace-not-allowed', 'this codec serves another namespace');
    }
    const parsed = bodySchema.safeParse(request.body);
    if (!parsed.success)
      return reject(reply, 400, 'invalid-payloads', 'expected {"payloads":[{"metadata":{},"data":""}]}');
    let payloads: Payload[];
    try {
      const input = parsed.data.payloads.map(fromJson);
      payloads = direction === 'encode' ? await options.codec.encode(input) : await options.codec.decode(input);
    } catch (err) {
      // Say which key is missing, but nothing about the content.
      return reject(
        reply,
        422,
        'codec-failed',
        err instanceof Error ? err.message : 'the payloads could not be processed',
      );
    }
    options.logger.debug('Codec request', { direction, count: payloads.length, subject: subjects.get(request.raw) });
    return reply.code(200).send({ payloads: payloads.map(toJson) });
  };

  app.post('/codec/decode', handle('decode'));
  app.post('/codec/encode', handle('encode'));
  app.get('/healthz', async () => ({ status: 'ok' }));
  return app;
}
