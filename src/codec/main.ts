import { ConfigError, loadConfig } from '../config/config.js';
import { createJsonLogger } from '../observability/json-logger.js';
import { startCodecServer } from './start-codec-server.js';

/** The codec server as its own service, next to the Temporal UI (containers). */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createJsonLogger(config.worker.logLevel);
  if (!config.codec.keys) {
    throw new ConfigError(
      'AUTOPILOT_CODEC_KEYS',
      '(or AUTOPILOT_CODEC_KEYS_FILE) is required: the same keys as the workers',
    );
  }
  const keys = config.codec.keys;
  const codec = await startCodecServer(config, keys, logger, { sandbox: false });
  logger.info('Codec server started', {
    endpoint: codec.endpoint,
    keys: keys.ids,
    origins: config.codec.server.uiOrigins,
  });
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await codec.stop();
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    console.error(`autopilot codec: ${err.message}`);
    process.exit(2);
  }
  console.error(err);
  process.exit(1);
});
