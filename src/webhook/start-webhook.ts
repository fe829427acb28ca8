import type { Client } from '@temporalio/client';
import type { Logger } from '@temporalio/common';
import { ConfigError, type AutopilotConfig } from '../config/config.js';
import { FileSecret, type SecretSource } from '../config/secret.js';
import { openReadOnlyFleetDatabase } from '../database/open-fleet-database.js';
import { EnvironmentRegistry } from '../registry/environment-registry.js';
import { remediationPolicySchema } from '../shared/remediation.js';
import type { EnvironmentLookup } from './registered-environments.js';
import { MIN_WEBHOOK_KEY_LENGTH, WebhookKeys } from './webhook-keys.js';
import { createWebhookServer } from './webhook-server.js';

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
      `(or WEBHOOK_API_KEY_FILE) is required outside the sandbox: the master key of at least ${MIN_WEBHOOK_KEY_LENGTH} characters each environment's webhook key is derived from, e.g. the output of \`openssl rand -base64 24\``,
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

/**
 * Everything the receiver needs before it may connect anywhere: the keys it accepts (the master's,
 * per environment or shared, and earlier masters' during a rotation), and where the registry is when
 * no process shares its own (the fleet database's PostgreSQL URL).
 */
export function requireWebhookSettings(
  config: AutopilotConfig,
  shared: { registry?: EnvironmentLookup } = {},
): WebhookKeys {
  const keys = new WebhookKeys({
    master: requireWebhookKey(config),
    mode: config.webhook.keyMode,
    previous: config.webhook.previousApiKeys,
  });
  if (!shared.registry && !config.database.url) {
    throw new ConfigError(
      'AUTOPILOT_DATABASE_URL',
      '(or AUTOPILOT_DATABASE_URL_FILE) is required for the webhook receiver on its own: it refuses notifications for environments that are not in the registry, which is in the fleet database',
    );
  }
  return keys;
}

/**
 * Starts the receiver. Next to a worker (`npm start`) it shares that process's registry; on its own
 * it reads the fleet database (PostgreSQL) read-only, and closes it when it stops.
 */
export async function startWebhookReceiver(
  config: AutopilotConfig,
  client: Client,
  logger: Logger,
  shared: { registry?: EnvironmentLookup } = {},
): Promise<RunningWebhook> {
  const keys = requireWebhookSettings(config, shared);
  const database = shared.registry ? undefined : openReadOnlyFleetDatabase(config.database.url!.reveal());
  const { app } = createWebhookServer({
    client,
    taskQueue: config.temporal.taskQueue,
    keys,
    environments: shared.registry ?? new EnvironmentRegistry(database!.db),
    keyHeader: config.webhook.keyHeader,
    policy: remediationPolicySchema.parse(config.remediation.policy),
    maxBodyBytes: config.webhook.maxBodyBytes,
    maxHeaderBytes: config.webhook.maxHeaderBytes,
    rateLimit: config.webhook.rateLimit,
    trustProxy: config.webhook.trustProxy,
    logger,
  });
  const stop = async () => {
    await app.close();
    await database?.close();
  };
  try {
    await app.listen({ host: config.webhook.host, port: config.webhook.port });
  } catch (err) {
    await database?.close();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new ConfigError('AUTOPILOT_WEBHOOK_PORT', `${config.webhook.port} is already in use; choose another port`);
    }
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.webhook.port;
  return { url: `http://${config.webhook.host}:${port}`, stop };
}
