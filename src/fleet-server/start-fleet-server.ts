import type { Client } from '@temporalio/client';
import type { Logger } from '@temporalio/common';
import { CodecAuthenticator } from '../codec/codec-auth.js';
import { ConfigError } from '../config/config-error.js';
import type { AutopilotConfig } from '../config/config.js';
import type { DynatraceAccess } from '../activities/dynatrace-access.js';
import { FleetHistory } from '../fleet/fleet-history.js';
import { StandardsStore } from '../standards/standards-store.js';
import { AutopilotVisibility } from './autopilot-visibility.js';
import { FleetMetrics } from './fleet-metrics.js';
import { createFleetServer } from './fleet-server.js';
import { FleetSessions } from './fleet-session.js';
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
  const unauthenticated = !server.authToken && !server.oidc;
  if (unauthenticated && !mode.sandbox) {
    throw new ConfigError(
      'AUTOPILOT_FLEET_AUTH_TOKEN',
      '(or AUTOPILOT_FLEET_OIDC_ISSUER) is required: the fleet server shows and reaches every environment',
    );
  }
  if (unauthenticated && !LOOPBACK.has(server.host)) {
    throw new ConfigError(
      'AUTOPILOT_FLEET_HOST',
      'must be a loopback address while the fleet server has no authentication',
    );
  }
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
    auth: new CodecAuthenticator({
      token: server.authToken,
      oidc: server.oidc,
      allowUnauthenticated: mode.sandbox && unauthenticated,
      required: 'the fleet server needs AUTOPILOT_FLEET_AUTH_TOKEN or AUTOPILOT_FLEET_OIDC_ISSUER',
    }),
    sessions: server.authToken ? new FleetSessions(server.authToken) : undefined,
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
  return { url: `http://${host}:${port}`, stop: () => app.close() };
}
