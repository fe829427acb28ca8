import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from './config-error.js';
import { projectRoot } from './project-root.js';
import { Secret, type SecretSource } from './secret.js';

export interface TemporalTls {
  serverNameOverride?: string;
  serverRootCACertificate?: Buffer;
  /** The private key stays a Secret until the connection is made, so printing config never shows it. */
  clientCertPair?: { crt: Buffer; key: SecretSource };
}

export interface TemporalTlsSettings {
  mode: 'true' | 'false' | undefined;
  serverCaCertPath: string | undefined;
  serverName: string | undefined;
  clientCertPath: string | undefined;
  clientKeyPath: string | undefined;
}

/** TLS is on when asked for, when any TLS file is given, or with an API key (Temporal Cloud). */
export function temporalTls(tls: TemporalTlsSettings, hasApiKey: boolean): TemporalTls | undefined {
  const cert = tls.clientCertPath;
  const key = tls.clientKeyPath;
  if (cert && !key)
    throw new ConfigError('TEMPORAL_TLS_CLIENT_KEY_PATH', 'is required with TEMPORAL_TLS_CLIENT_CERT_PATH');
  if (key && !cert)
    throw new ConfigError('TEMPORAL_TLS_CLIENT_CERT_PATH', 'is required with TEMPORAL_TLS_CLIENT_KEY_PATH');
  const anyFile = Boolean(cert || tls.serverCaCertPath);
  if (tls.mode === 'false') {
    if (anyFile) throw new ConfigError('TEMPORAL_TLS', 'is false but TLS files are configured');
    return undefined;
  }
  if (tls.mode !== 'true' && !anyFile && !hasApiKey && !tls.serverName) return undefined;
  return {
    ...(tls.serverName ? { serverNameOverride: tls.serverName } : {}),
    ...(tls.serverCaCertPath
      ? { serverRootCACertificate: readPem('TEMPORAL_TLS_SERVER_CA_CERT_PATH', tls.serverCaCertPath) }
      : {}),
    ...(cert && key
      ? {
          clientCertPair: {
            crt: readPem('TEMPORAL_TLS_CLIENT_CERT_PATH', cert),
            key: new Secret(readPem('TEMPORAL_TLS_CLIENT_KEY_PATH', key).toString('utf8')),
          },
        }
      : {}),
  };
}

function readPem(variable: string, file: string): Buffer {
  try {
    const content = readFileSync(path.resolve(projectRoot, file));
    if (!content.includes('-----BEGIN')) throw new ConfigError(variable, `names a file that holds no PEM: ${file}`);
    return content;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(
      variable,
      `names a file that cannot be read: ${file} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`,
    );
  }
}
