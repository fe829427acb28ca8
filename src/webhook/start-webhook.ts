import type { Client } from '@temporalio/client';
import type { Logger } from '@temporalio/common';
import { ConfigError, type AutopilotConfig } from '../config/config.js';
import { remediationPolicySchema } from '../shared/remediation.js';
import { createWebhookServer } from './webhook-server.js';

export interface RunningWebhook {
  url: string;
  stop(): Promise<void>;
}

export async function startWebhookReceiver(
  config: AutopilotConfig,
  client: Client,
  logger: Logger,
): Promise<RunningWebhook> {
  if (!config.webhook.apiKey) {
    throw new ConfigError(
      'WEBHOOK_API_KEY',
      '(or WEBHOOK_API_KEY_FILE) is required: the key Dynatrace sends with every notification',
    );
  }
  const { app } = createWebhookServer({
    client,
    taskQueue: config.temporal.taskQueue,
    apiKey: config.webhook.apiKey,
    policy: remediationPolicySchema.parse(config.remediation.policy),
    maxBodyBytes: config.webhook.maxBodyBytes,
    logger,
  });
  try {
    await app.listen({ host: config.webhook.host, port: config.webhook.port });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new ConfigError('AUTOPILOT_WEBHOOK_PORT', `${config.webhook.port} is already in use; choose another port`);
    }
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.webhook.port;
  return { url: `http://${config.webhook.host}:${port}`, stop: () => app.close() };
}
