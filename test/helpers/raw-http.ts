import http from 'node:http';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/**
 * One HTTP request with exactly the headers given, `Host` included (fetch would not send another
 * host name than the URL's), and the path exactly as written: no `..` resolved, no backslash turned
 * into a slash, as a URL parser would. What a browser under DNS rebinding, another site's page or a
 * hand-made attack sends.
 */
export function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string | undefined>; body?: string } = {},
): Promise<RawResponse> {
  const { protocol, hostname, port } = new URL(url);
  if (protocol !== 'http:') throw new Error(`rawRequest speaks http only, not ${url}`);
  const slash = url.indexOf('/', 'http://'.length);
  const path = slash < 0 ? '/' : url.slice(slash);
  const headers = Object.fromEntries(
    Object.entries(options.headers ?? {}).filter((e): e is [string, string] => e[1] !== undefined),
  );
  return new Promise((resolve, reject) => {
    const request = http.request({ hostname, port, path, method: options.method ?? 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    request.on('error', reject);
    request.end(options.body);
  });
}

/**
 * A POST that announces `announced` bytes and sends only `sent` of them: a server that reads a body
 * before it checks credentials waits for the rest and never answers; one that checks first answers
 * at once (and closes the unfinished request).
 */
export function unfinishedPost(
  url: string,
  options: { announced: number; sent: number; headers?: Record<string, string> },
): Promise<{ status: number; body: string }> {
  const { hostname, port, pathname } = new URL(url);
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: hostname,
        port: Number(port),
        method: 'POST',
        path: pathname,
        headers: {
          'content-type': 'application/json',
          ...options.headers,
          'content-length': String(options.announced),
        },
      },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    // The server closes the connection after its answer, while this body is unfinished.
    request.on('error', () => undefined);
    request.write(Buffer.alloc(options.sent, ' '));
  });
}
