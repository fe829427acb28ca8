import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { autopilotDataConverter } from '../codec/data-converter.js';
import type { CodecKeyring } from '../codec/codec-keyring.js';
import type { AutopilotConfig, TemporalTls } from '../config/config.js';
import type { SecretSource } from '../config/secret.js';
import { sealedCallsInterceptor } from './sealed-calls.js';

/** Temporal is not reachable at the configured address: an operator problem, reported in one line. */
export class TemporalUnreachableError extends Error {
  override name = 'TemporalUnreachableError';
  constructor(address: string, cause: unknown, access?: Pick<TemporalAccess, 'tls' | 'apiKey'>) {
    const reason = reasons(cause);
    super(`cannot reach Temporal at ${address} (TEMPORAL_ADDRESS): ${reason}${hint(reason, access)}`, { cause });
  }
}

/**
 * gRPC reports a refused TLS handshake only as a missed deadline; name what to check instead of
 * leaving the operator to guess between address, certificates and key.
 */
function hint(reason: string, access: Pick<TemporalAccess, 'tls' | 'apiKey'> | undefined): string {
  if (!access || !/deadline/i.test(reason)) return '';
  if (!access.tls)
    return ' (no TLS configured: set TEMPORAL_TLS=true or the TEMPORAL_TLS_* paths if the server requires it)';
  return ` (TLS is on: check TEMPORAL_TLS_SERVER_CA_CERT_PATH, the client certificate TEMPORAL_TLS_CLIENT_CERT_PATH/KEY_PATH and TEMPORAL_TLS_SERVER_NAME${access.apiKey ? ', and TEMPORAL_API_KEY' : ''})`;
}

/** "Failed to connect" alone does not help; the causes say certificate, API key or address. */
function reasons(cause: unknown): string {
  const lines: string[] = [];
  for (let c = cause, depth = 0; c !== undefined && depth < 4; depth++) {
    const line = (c instanceof Error ? c.message : typeof c === 'string' ? c : JSON.stringify(c))
      .split('\n')[0]!
      .trim();
    if (line && !lines.includes(line)) lines.push(line);
    c = c instanceof Error ? c.cause : undefined;
  }
  return lines.join(': ');
}

/** Where the frontend is and how to prove who we are: the same for worker, CLI and webhook. */
export interface TemporalAccess {
  address: string;
  namespace: string;
  tls?: TemporalTls | undefined;
  apiKey?: SecretSource | undefined;
}

/** The configured server, or the `npm start` dev server when none is configured. */
export function temporalAccess(config: AutopilotConfig): TemporalAccess {
  return {
    address: config.temporal.address ?? `127.0.0.1:${config.devServer.port}`,
    namespace: config.temporal.namespace,
    tls: config.temporal.tls,
    apiKey: config.temporal.apiKey,
  };
}

function security(access: TemporalAccess) {
  const { tls } = access;
  return {
    ...(tls
      ? {
          tls: {
            ...(tls.serverNameOverride ? { serverNameOverride: tls.serverNameOverride } : {}),
            ...(tls.serverRootCACertificate ? { serverRootCACertificate: tls.serverRootCACertificate } : {}),
            ...(tls.clientCertPair
              ? { clientCertPair: { crt: tls.clientCertPair.crt, key: Buffer.from(tls.clientCertPair.key.reveal()) } }
              : {}),
          },
        }
      : {}),
    ...(access.apiKey ? { apiKey: access.apiKey.reveal() } : {}),
  };
}

export async function connectWorker(access: TemporalAccess): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect({ address: access.address, ...security(access) });
  } catch (err) {
    throw new TemporalUnreachableError(access.address, err, access);
  }
}

export async function connectClient(
  access: TemporalAccess,
  options: { connectTimeoutMs?: number } = {},
): Promise<Connection> {
  try {
    return await Connection.connect({
      address: access.address,
      connectTimeout: options.connectTimeoutMs ?? 10_000,
      ...security(access),
    });
  } catch (err) {
    throw new TemporalUnreachableError(access.address, err, access);
  }
}

/**
 * A client that encrypts what it sends and decrypts what it reads, like the worker, and seals a
 * payload into every start, signal and update, as workers require.
 */
export function autopilotClient(connection: Connection, namespace: string, keys: CodecKeyring): Client {
  return new Client({
    connection,
    namespace,
    dataConverter: autopilotDataConverter(keys),
    interceptors: { workflow: [sealedCallsInterceptor] },
  });
}
