import net from 'node:net';

/**
 * A bare-bones HTTP/1.1 client on a plain socket: it sends exactly the bytes it is given (no
 * header validation, no framing fixes), which fetch and node:http refuse to do for broken requests.
 */

export interface RawResponse {
  /** 0 when no parsable answer arrived. */
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: string;
  /** Everything received, for "never echoes the input" checks. */
  raw: string;
  /** What went wrong on the socket, if anything (a reset after a complete answer is harmless). */
  socketError?: string;
}

export interface RawRequestOptions {
  /** HEAD answers carry a Content-Length but no body. */
  expectBody?: boolean;
  /** Half-close after sending, for requests the server can only judge once it sees their end. */
  halfClose?: boolean;
  localAddress?: string;
  timeoutMs?: number;
}

export function rawRequest(port: number, bytes: Buffer, options: RawRequestOptions = {}): Promise<RawResponse> {
  const expectBody = options.expectBody ?? true;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let settled = false;
    let socketError: string | undefined;
    const socket = net.connect({
      port,
      host: '127.0.0.1',
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    });
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const response = parseResponse(Buffer.concat(chunks), expectBody);
      resolve({
        ...(response ?? { status: 0, headers: {}, body: '', raw: '' }),
        ...(socketError ? { socketError } : {}),
      });
    };
    const timer = setTimeout(() => {
      socketError ??= 'timeout';
      finish();
    }, options.timeoutMs ?? 20_000);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (parseResponse(Buffer.concat(chunks), expectBody)?.complete) finish();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      socketError ??= err.code ?? err.message;
    });
    socket.on('close', finish);
    socket.write(bytes, () => {
      if (options.halfClose) socket.end();
    });
  });
}

function parseResponse(all: Buffer, expectBody: boolean): (RawResponse & { complete: boolean }) | undefined {
  // Interim answers (100 Continue) come before the real one.
  let data = all;
  while (/^HTTP\/1\.[01] 1\d\d /.test(data.subarray(0, 13).toString('latin1'))) {
    const end = data.indexOf('\r\n\r\n');
    if (end < 0) return undefined;
    data = data.subarray(end + 4);
  }
  const text = data.toString('latin1');
  const headEnd = text.indexOf('\r\n\r\n');
  if (headEnd < 0) return undefined;
  const [statusLine = '', ...headerLines] = text.slice(0, headEnd).split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (!status) return undefined;
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  const rest = data.subarray(headEnd + 4);
  let body = rest;
  let complete = !expectBody;
  if (expectBody && headers['content-length'] !== undefined) {
    const length = Number(headers['content-length']);
    complete = rest.length >= length;
    body = rest.subarray(0, length);
  } else if (expectBody && /chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const decoded = dechunk(rest);
    complete = decoded !== undefined;
    body = decoded ?? rest;
  }
  return {
    status: Number(status[1]),
    headers,
    body: expectBody ? body.toString('utf8') : '',
    raw: all.toString('latin1'),
    complete,
  };
}

/** The body of a chunked answer, or `undefined` while its last chunk has not arrived. */
function dechunk(data: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) return undefined;
    const size = parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
    if (Number.isNaN(size)) return undefined;
    if (size === 0) return Buffer.concat(parts);
    const start = lineEnd + 2;
    if (data.length < start + size + 2) return undefined;
    parts.push(data.subarray(start, start + size));
    at = start + size + 2;
  }
}

export interface RequestParts {
  method?: string;
  path: string;
  /** In order, duplicates allowed; values are sent as UTF-8 bytes, exactly as given. */
  headers?: [string, string][];
  body?: string | Buffer;
  /** Adds Content-Length for the body unless the headers already frame it. Default true. */
  frame?: boolean;
  version?: string;
}

/** The bytes of one HTTP/1.1 request, closing the connection after it. */
export function requestBytes(parts: RequestParts): Buffer {
  const body = typeof parts.body === 'string' ? Buffer.from(parts.body, 'utf8') : (parts.body ?? Buffer.alloc(0));
  const headers: [string, string][] = [['Host', '127.0.0.1'], ['Connection', 'close'], ...(parts.headers ?? [])];
  const framed = headers.some(([name]) => /^(content-length|transfer-encoding)$/i.test(name));
  if ((parts.frame ?? true) && !framed && (body.length > 0 || parts.method === 'POST')) {
    headers.push(['Content-Length', String(body.length)]);
  }
  const head = `${parts.method ?? 'POST'} ${parts.path} ${parts.version ?? 'HTTP/1.1'}\r\n${headers
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')}\r\n`;
  return Buffer.concat([Buffer.from(head, 'utf8'), body]);
}

/** A body in chunked transfer coding, in chunks of the given size. */
export function chunked(body: Buffer, chunkSize: number): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0; at < body.length; at += chunkSize) {
    const chunk = body.subarray(at, at + chunkSize);
    parts.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}
