import type { Client } from '@temporalio/client';
import type { Logger } from '@temporalio/common';
import { ConfigError } from '../config/config-error.js';
import type { AutopilotConfig } from '../config/config.js';
import type { DynatraceAccess } from '../activities/dynatrace-access.js';
import { FleetHistory } from '../fleet/fleet-history.js';
import { StandardsStore } from '../standards/standards-store.js';
import { AutopilotVisibility } from './autopilot-visibility.js';
import { FleetAuthenticator } from './fleet-auth.js';
import { FleetMetrics } from './fleet-metrics.js';
import { createFleetServer } from './fleet-server.js';
import { FleetSessions } from './fleet-session.js';
import { WILDCARD_ADDRESSES } from './fleet-site.js';
import { FleetStatusBuilder } from './fleet-status-builder.js';
import path from 'node:path';

export interface RunningFleetServer {
  url: string;
  stop(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * Starts the fleet server beside a worker (the sandbox) or on its own. Without authentication it
 * runs only in the sandbox and only on loopback, like the codec server: it shows every
 * environment of the fleet and sends requests to them.
 */
export async function startFleetServer(
  config: AutopilotConfig,
  deps: { dynatrace: DynatraceAccess; client: Client | undefined; logger: Logger },
  mode: { sandbox: boolean; pageDir?: string; temporalUiUrl?: string },
): Promise<RunningFleetServer> {
  const server = config.fleetServer;
  const unauthenticated = !server.tokens.read && !server.tokens.write && !server.oidc;
  if (unauthenticated && !mode.sandbox) {
    throw new ConfigError(
      'AUTOPILOT_FLEET_READ_TOKEN',
      'and AUTOPILOT_FLEET_WRITE_TOKEN (or AUTOPILOT_FLEET_OIDC_ISSUER) are required: the fleet server shows and reaches every environment',
    );
  }
  if (unauthenticated && !LOOPBACK.has(server.host)) {
    throw new ConfigError(
      'AUTOPILOT_FLEET_HOST',
      'must be a loopback address while the fleet server has no authentication',
    );
  }
  if (!server.publicUrl && WILDCARD_ADDRESSES.has(server.host)) {
    throw new ConfigError(
      'AUTOPILOT_FLEET_PUBLIC_URL',
      `is required when the fleet server listens on every interface (AUTOPILOT_FLEET_HOST=${server.host}): it is the one host name the server answers to`,
    );
  }
  const auth = new FleetAuthenticator({
    readToken: server.tokens.read,
    writeToken: server.tokens.write,
    oidc: server.oidc,
    allowUnauthenticated: mode.sandbox && unauthenticated,
  });
  const { registry, clients, tokens } = deps.dynatrace;
  const history = new FleetHistory(registry.db);
  const uiUrl = mode.temporalUiUrl ?? config.temporal.uiUrl;
  const app = createFleetServer({
    status: new FleetStatusBuilder(
      registry,
      history,
      deps.client ? new AutopilotVisibility(deps.client) : undefined,
      {
        scanIntervalSeconds: config.fleetScan.intervalSeconds,
        retentionDays: config.fleetScan.retentionDays,
        temporalUiUrl: uiUrl,
        namespace: config.temporal.namespace,
      },
      new StandardsStore(registry.db),
    ),
    history,
    query: { registry, clients, tokens },
    metrics: new FleetMetrics(),
    auth,
    sessions:
      server.tokens.read || server.tokens.write
        ? new FleetSessions({
            keyOf: (role) => auth.tokenOf(role),
            secure: server.publicUrl?.startsWith('https:') ?? false,
          })
        : undefined,
    publicUrl: server.publicUrl,
    listenHost: server.host,
    queryLimits: server.query,
    pageDir: mode.pageDir ?? server.pageDir ?? path.join(config.projectRoot, 'dist', 'fleet-page'),
    logger: deps.logger,
    queryConcurrency: config.fleetScan.concurrency,
  });
  try {
    await app.listen({ host: server.host, port: server.port });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new ConfigError('AUTOPILOT_FLEET_PORT', `${server.port} is already in use; choose another port`);
    }
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : server.port;
  const host = server.host.includes(':') ? `[${server.host}]` : server.host;
  // Where people reach it: the only host name it answers to when one is configured.
  return { url: server.publicUrl ?? `http://${host}:${port}`, stop: () => app.close() };
}
