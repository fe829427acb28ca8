import http from 'node:http';
import type { Duplex } from 'node:stream';

/** Sent with every answer, errors and 404s included: nothing here is meant for a browser. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

const jsonBody = (error: string, message: string) => JSON.stringify({ error, message });

/**
 * The HTTP server for Fastify's `serverFactory`. The security headers go on the raw response
 * before Fastify sees the request, so they are there even on answers Fastify writes past its hooks
 * (bad URLs, 503 while closing). Fastify leaves its own timeouts to us once it gets a server.
 */
export function hardenedServerFactory(maxHeaderBytes: number) {
  return (handler: (req: http.IncomingMessage, res: http.ServerResponse) => void): http.Server => {
    const server = http.createServer({ maxHeaderSize: maxHeaderBytes }, (req, res) => {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
      handler(req, res);
    });
    // Longer than the idle timeout of common load balancers, so they never reuse a closed connection.
    server.keepAliveTimeout = 72_000;
    // A notification is small; a client trickling its headers or body is holding a socket hostage.
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    // Without a listener Node drops a CONNECT without a word; a client deserves a 4xx like any other.
    server.on('connect', (_req: http.IncomingMessage, socket: Duplex) =>
      writeRawAnswer(socket, 405, 'method-not-allowed', 'this server is not a proxy'),
    );
    // Node's own 417 would go out without our headers.
    server.on('checkExpectation', (_req: http.IncomingMessage, res: http.ServerResponse) => {
      const body = jsonBody('expectation-failed', 'only "Expect: 100-continue" is supported');
      res.writeHead(417, {
        ...SECURITY_HEADERS,
        'Content-Type': 'application/json; charset=utf-8',
        Connection: 'close',
      });
      res.end(body);
    });
    return server;
  };
}

const CLIENT_ERRORS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'headers-too-large', 'the request line and headers are too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'request-timeout', 'the request took too long to arrive'],
  ERR_HTTP_REQUEST_HEADERS_TIMEOUT: [408, 'request-timeout', 'the request took too long to arrive'],
};

/**
 * Answers requests Node could not parse (oversized headers, garbage bytes, timeouts) in the same
 * JSON shape and with the same headers as everything else, then closes the connection.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  // Node reports a broken request again for every further chunk of it; the first answer stands.
  if (err.code === 'ECONNRESET' || socket.destroyed || socket.writableEnded) return;
  const [status, error, message] = CLIENT_ERRORS[err.code ?? ''] ?? [
    400,
    'bad-request',
    'the request is not valid HTTP',
  ];
  writeRawAnswer(socket, status, error, message);
}

/**
 * An answer written straight to the socket, for requests no ServerResponse exists for. Skipped when
 * a response on this connection has already begun: bytes of ours in the middle of it would only
 * garble it, and closing the socket tells the client enough.
 */
function writeRawAnswer(socket: Duplex, status: number, error: string, message: string): void {
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const body = jsonBody(error, message);
    const headers = {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': String(Buffer.byteLength(body)),
      ...SECURITY_HEADERS,
      Connection: 'close',
    };
    const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
    socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\n${head.join('')}\r\n${body}`, () =>
      socket.destroy(),
    );
    return;
  }
  socket.destroy();
}
