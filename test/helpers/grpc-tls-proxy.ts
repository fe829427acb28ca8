import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';

export interface TestPki {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A client certificate from a CA the server does not trust. */
  strangerCert: string;
  strangerKey: string;
}

/** A throwaway CA with a server certificate for localhost/127.0.0.1 and client certificates, via openssl. */
export function createTestPki(): TestPki {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'autopilot-pki-'));
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const makeCa = (name: string) =>
    openssl(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      file(`${name}.key`),
      '-out',
      file(`${name}.pem`),
    );
  const issue = (name: string, caName: string, extensions: string) => {
    writeFileSync(file(`${name}.ext`), extensions);
    openssl(
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      file(`${name}.key`),
      '-out',
      file(`${name}.csr`),
    );
    openssl(
      'x509',
      '-req',
      '-in',
      file(`${name}.csr`),
      '-CA',
      file(`${caName}.pem`),
      '-CAkey',
      file(`${caName}.key`),
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      file(`${name}.ext`),
      '-out',
      file(`${name}.pem`),
    );
  };
  makeCa('test-ca');
  makeCa('stranger-ca');
  issue(
    'temporal-frontend',
    'test-ca',
    'subjectAltName=DNS:localhost,DNS:temporal.test,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n',
  );
  issue('autopilot-worker', 'test-ca', 'extendedKeyUsage=clientAuth\n');
  issue('stranger', 'stranger-ca', 'extendedKeyUsage=clientAuth\n');
  return {
    dir,
    caCert: file('test-ca.pem'),
    serverCert: file('temporal-frontend.pem'),
    serverKey: file('temporal-frontend.key'),
    clientCert: file('autopilot-worker.pem'),
    clientKey: file('autopilot-worker.key'),
    strangerCert: file('stranger.pem'),
    strangerKey: file('stranger.key'),
  };
}

export interface TlsProxy {
  address: string;
  /** gRPC methods forwarded, with the client certificate's CN (what a Temporal Cloud audit would see). */
  forwarded: { method: string; clientCn: string | undefined }[];
  /** Calls refused for a missing or wrong API key. */
  refused: string[];
  stop(): Promise<void>;
}

/**
 * The Temporal CLI dev server speaks only plaintext, so the TLS tests put this in front of it: a
 * gRPC-over-HTTP/2 proxy terminating TLS that demands a client certificate from the test CA (mTLS)
 * and, when given an API key, `authorization: Bearer <key>` on every call, as Temporal Cloud does.
 */
export async function startTlsProxy(options: {
  pki: TestPki;
  upstream: string;
  apiKey?: string;
  requireClientCert: boolean;
}): Promise<TlsProxy> {
  const forwarded: TlsProxy['forwarded'] = [];
  const refused: string[] = [];
  const upstream = http2.connect(`http://${options.upstream}`);
  upstream.on('error', () => undefined);
  const server = http2.createSecureServer({
    key: readFileSync(options.pki.serverKey),
    cert: readFileSync(options.pki.serverCert),
    ca: readFileSync(options.pki.caCert),
    requestCert: options.requireClientCert,
    rejectUnauthorized: options.requireClientCert,
    allowHTTP1: false,
  });
  server.on('stream', (stream, headers) => {
    const method = String(headers[':path']);
    if (options.apiKey !== undefined && headers.authorization !== `Bearer ${options.apiKey}`) {
      refused.push(method);
      // gRPC status 16 UNAUTHENTICATED in trailers-only form, as a real frontend answers.
      stream.respond(
        { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '16', 'grpc-message': 'invalid API key' },
        { endStream: true },
      );
      return;
    }
    const peer = (stream.session?.socket as TLSSocket | undefined)?.getPeerCertificate();
    forwarded.push({ method, clientCn: peer && 'subject' in peer ? peer.subject?.CN : undefined });
    const outgoing: http2.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(headers)) {
      if (name.startsWith(':') && name !== ':path' && name !== ':method') continue;
      if (name === 'authorization') continue;
      outgoing[name] = value;
    }
    const call = upstream.request(outgoing);
    call.on('response', (responseHeaders) => {
      const reply: http2.OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(responseHeaders))
        if (!name.startsWith(':') || name === ':status') reply[name] = value;
      stream.respond(reply, { waitForTrailers: true });
    });
    let trailers: http2.IncomingHttpHeaders = {};
    call.on('trailers', (t: http2.IncomingHttpHeaders) => {
      trailers = t;
    });
    stream.on('wantTrailers', () => {
      const out: http2.OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(trailers)) if (!name.startsWith(':')) out[name] = value;
      stream.sendTrailers(Object.keys(out).length ? out : { 'grpc-status': '0' });
    });
    call.pipe(stream);
    stream.pipe(call);
    const abort = () => {
      if (!call.closed) call.close(http2.constants.NGHTTP2_CANCEL);
    };
    stream.on('close', abort);
    stream.on('error', abort);
    call.on('error', () => {
      if (!stream.closed) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    });
  });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  // A refused handshake (no or foreign client certificate) is the point of some tests.
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    forwarded,
    refused,
    stop: () =>
      new Promise((resolve) => {
        upstream.close();
        server.close(() => resolve());
        for (const session of sessions) session.destroy();
      }),
  };
}
