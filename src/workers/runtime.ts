import { Runtime, type Logger } from '@temporalio/worker';
import type { AutopilotConfig } from '../config/config.js';
import { createJsonLogger } from '../observability/json-logger.js';

/**
 * Installs the process-wide Temporal runtime: JSON logs (core logs forwarded into the same stream)
 * and, unless disabled, a Prometheus scrape endpoint. Call once, before any worker or connection.
 */
export function installRuntime(config: AutopilotConfig, logger?: Logger): Logger {
  const runtimeLogger = logger ?? createJsonLogger(config.worker.logLevel);
  Runtime.install({
    logger: runtimeLogger,
    telemetryOptions: {
      logging: { forward: {}, filter: { core: 'WARN', other: 'ERROR' } },
      ...(config.worker.metricsAddress
        ? { metrics: { prometheus: { bindAddress: config.worker.metricsAddress } } }
        : {}),
    },
  });
  return runtimeLogger;
}
