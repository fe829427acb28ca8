import type { Client } from '@temporalio/client';
import type { Logger } from '@temporalio/common';
import { ConfigError, type AutopilotConfig } from '../config/config.js';
import { FileSecret, type SecretSource } from '../config/secret.js';
import { remediationPolicySchema } from '../shared/remediation.js';
import { createWebhookServer, MIN_WEBHOOK_KEY_LENGTH } from './webhook-server.js';

export interface RunningWebhook {
  url: string;
  stop(): Promise<void>;
}

export { MIN_WEBHOOK_KEY_LENGTH };

/**
 * The configured webhook key, or a ConfigError naming the variable when it is missing or too short.
 * There is no keyless mode: the sandbox (`npm start`) generates a key before it gets here, and
 * anywhere else an open receiver would let anyone on the network start remediations.
 */
export function requireWebhookKey(config: AutopilotConfig): SecretSource {
  const key = config.webhook.apiKey;
  if (!key) {
    throw new ConfigError(
      'WEBHOOK_API_KEY',
      `(or WEBHOOK_API_KEY_FILE) is required outside the sandbox: the key of at least ${MIN_WEBHOOK_KEY_LENGTH} characters Dynatrace sends with every notification, e.g. the output of \`openssl rand -base64 24\``,
    );
  }
  if (key.reveal().length < MIN_WEBHOOK_KEY_LENGTH) {
    throw new ConfigError(
      key instanceof FileSecret ? 'WEBHOOK_API_KEY_FILE' : 'WEBHOOK_API_KEY',
      `must hold a key of at least ${MIN_WEBHOOK_KEY_LENGTH} characters, e.g. the output of \`openssl rand -base64 24\``,
    );
  }
  return key;
}

export async function startWebhookReceiver(
  config: AutopilotConfig,
  client: Client,
  logger: Logger,
): Promise<RunningWebhook> {
  const apiKey = requireWebhookKey(config);
  const { app } = createWebhookServer({
    client,
    taskQueue: config.temporal.taskQueue,
    apiKey,
    keyHeader: config.webhook.keyHeader,
    policy: remediationPolicySchema.parse(config.remediation.policy),
    maxBodyBytes: config.webhook.maxBodyBytes,
    maxHeaderBytes: config.webhook.maxHeaderBytes,
    rateLimit: config.webhook.rateLimit,
    trustProxy: config.webhook.trustProxy,
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
