import type { Logger } from '@temporalio/common';
import { ConfigError } from '../config/config-error.js';
import type { AutopilotConfig } from '../config/config.js';
import { CodecAuthenticator } from './codec-auth.js';
import type { CodecKeyring } from './codec-keyring.js';
import { createCodecServer } from './codec-server.js';
import { EncryptionCodec } from './encryption-codec.js';

export interface RunningCodecServer {
  /** What the UI's codec endpoint setting takes (`…/codec`). */
  endpoint: string;
  stop(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * Starts the codec server. Without authentication configured it runs only in the sandbox and
 * only on loopback, where the embedded UI (which has no login) is the one caller.
 */
export async function startCodecServer(
  config: AutopilotConfig,
  keys: CodecKeyring,
  logger: Logger,
  mode: { sandbox: boolean },
): Promise<RunningCodecServer> {
  const { server } = config.codec;
  const unauthenticated = !server.authToken && !server.oidc;
  if (unauthenticated && !mode.sandbox) {
    throw new ConfigError(
      'AUTOPILOT_CODEC_AUTH_TOKEN',
      '(or AUTOPILOT_CODEC_OIDC_ISSUER) is required: the codec server hands out decrypted payloads',
    );
  }
  if (unauthenticated && !LOOPBACK.has(server.host)) {
    throw new ConfigError(
      'AUTOPILOT_CODEC_HOST',
      'must be a loopback address while the codec server has no authentication',
    );
  }
  const app = createCodecServer({
    codec: new EncryptionCodec(keys),
    auth: new CodecAuthenticator({ token: server.authToken, oidc: server.oidc, allowUnauthenticated: mode.sandbox }),
    uiOrigins: server.uiOrigins,
    namespace: config.temporal.namespace,
    logger,
  });
  try {
    await app.listen({ host: server.host, port: server.port });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new ConfigError('AUTOPILOT_CODEC_PORT', `${server.port} is already in use; choose another port`);
    }
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : server.port;
  const host = server.host.includes(':') ? `[${server.host}]` : server.host;
  return { endpoint: `http://${host}:${port}/codec`, stop: () => app.close() };
}
