import { codecKeysFor } from '../codec/codec-keys.js';
import { ConfigError, loadConfig } from '../config/config.js';
import { createJsonLogger } from '../observability/json-logger.js';
import { autopilotClient, connectClient, temporalAccess, TemporalUnreachableError } from '../temporal/connect.js';
import { requireWebhookSettings, startWebhookReceiver } from './start-webhook.js';

/**
 * The webhook receiver as its own service (containers): it reads the registry from the fleet
 * database the workers write; `npm start` runs it next to the worker, sharing the worker's registry.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  // Before connecting: a receiver without a usable key or registry must not wait for Temporal to say so.
  requireWebhookSettings(config);
  // Workflow inputs and signals carry host names and problem titles: encrypted like the worker's.
  const codecKeys = codecKeysFor(config);
  const logger = createJsonLogger(config.worker.logLevel);
  const access = temporalAccess(config);
  const connection = await connectClient(access);
  const client = autopilotClient(connection, config.temporal.namespace, codecKeys);
  const webhook = await startWebhookReceiver(config, client, logger);
  logger.info('Webhook receiver started', { url: webhook.url, temporal: access.address });
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await webhook.stop();
  await connection.close();
  logger.info('Webhook receiver stopped');
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof TemporalUnreachableError) {
    console.error(`autopilot webhook: ${err.message}`);
    process.exit(2);
  }
  console.error(err);
  process.exit(1);
});
