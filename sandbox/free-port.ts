import net from 'node:net';

/**
 * Ports handed out by this process. The kernel may give the same ephemeral port to two `listen(0)` calls in a row
 * once the first listener closed, so a caller asking for several ports at once could get one twice (a CI run saw the
 * simulator and the webhook handed the same port).
 */
const handedOut = new Set<number>();

/** A port nothing listens on right now and that this process has not handed out before. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await unusedPort();
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

function unusedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
