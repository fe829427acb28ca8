import { Client } from '@temporalio/client';
import { ConfigError, loadConfig } from '../config/config.js';
import { createJsonLogger } from '../observability/json-logger.js';
import { connectClient, TemporalUnreachableError } from '../temporal/connect.js';
import { startWebhookReceiver } from './start-webhook.js';

/** The webhook receiver as its own service (containers); `npm start` runs it next to the worker. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createJsonLogger(config.worker.logLevel);
  const address = config.temporal.address ?? 'localhost:7233';
  const connection = await connectClient(address);
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const webhook = await startWebhookReceiver(config, client, logger);
  logger.info('Webhook receiver started', { url: webhook.url, temporal: address });
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
