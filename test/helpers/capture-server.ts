import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CapturedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

export interface CaptureServer {
  /** `http://127.0.0.1:<port>`: where an attacker would like Autopilot's tokens to go. */
  url: string;
  port: number;
  /** Every request that reached it, in order. */
  requests: CapturedRequest[];
  stop(): Promise<void>;
}

/** A server an attacker runs: it answers every request like a friendly Dynatrace would, and keeps what it was sent. */
export async function startCaptureServer(): Promise<CaptureServer> {
  const requests: CapturedRequest[] = [];
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    req.resume();
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(
      JSON.stringify({
        id: 'dt0c01.CAPTURED',
        name: 'captured',
        enabled: true,
        scopes: ['entities.read', 'problems.read', 'problems.write', 'settings.read', 'settings.write', 'DataExport'],
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
