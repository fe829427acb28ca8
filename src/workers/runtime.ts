import net from 'node:net';
import { Runtime, type Logger } from '@temporalio/worker';
import type { AutopilotConfig } from '../config/config.js';
import { createJsonLogger } from '../observability/json-logger.js';

export interface InstalledRuntime {
  logger: Logger;
  /** `host:port` the Prometheus endpoint listens on (port 0 resolved), or undefined when it is off. */
  metricsAddress: string | undefined;
}

/** Port-0 addresses are retried this often when another process takes the port we picked first. */
const FREE_PORT_ATTEMPTS = 5;

/**
 * Installs the process-wide Temporal runtime: JSON logs (core logs forwarded into the same stream)
 * and, unless disabled, a Prometheus scrape endpoint, whose address is logged at INFO as `metrics
 * endpoint listening`. Call once, before any worker or connection.
 */
export async function installRuntime(config: AutopilotConfig, logger?: Logger): Promise<InstalledRuntime> {
  const runtimeLogger = logger ?? createJsonLogger(config.worker.logLevel);
  const configured = config.worker.metricsAddress;
  const install = (bindAddress: string | undefined) =>
    Runtime.install({
      logger: runtimeLogger,
      telemetryOptions: {
        logging: { forward: {}, filter: { core: 'WARN', other: 'ERROR' } },
        ...(bindAddress ? { metrics: { prometheus: { bindAddress } } } : {}),
      },
    });
  if (!configured) {
    install(undefined);
    return { logger: runtimeLogger, metricsAddress: undefined };
  }
  const { host, port } = splitHostPort(configured);
  // Core's exporter binds the address it is given and does not say which port it got, so port 0
  // is resolved here. Another process may take that port before Core binds it (the kernel hands
  // a just-closed ephemeral port out again); Core then fails to install and we pick another.
  for (let attempt = 1; ; attempt++) {
    const address = port === 0 ? `${host}:${await unusedPort(host)}` : configured;
    try {
      install(address);
    } catch (err) {
      if (port === 0 && attempt < FREE_PORT_ATTEMPTS && /address already in use/i.test(String(err))) continue;
      throw err;
    }
    runtimeLogger.info('metrics endpoint listening', { address, url: `http://${address}/metrics` });
    return { logger: runtimeLogger, metricsAddress: address };
  }
}

function splitHostPort(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  return { host: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
}

function unusedPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ host: host.replace(/^\[(.*)\]$/, '$1'), port: 0 }, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
