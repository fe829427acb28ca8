import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { Secret } from './secret.js';

/**
 * Thrown for a missing or malformed environment variable. Its message is one line that names the
 * variable and says what is expected, so entry points can print it as is and exit.
 */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    expectation: string,
  ) {
    super(`Invalid configuration: ${variable} ${expectation}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

// A variable set to the empty string counts as unset (docker-compose and shells often export blanks).
const blankToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const optional = <T extends z.ZodType>(schema: T) => z.preprocess(blankToUndefined, schema.optional());
const withDefault = <T extends z.ZodType>(schema: T, fallback: z.input<T>) =>
  z.preprocess(blankToUndefined, schema.default(fallback as never));

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?):([1-9][0-9]{0,4})$/, {
    message: 'must be host:port, e.g. temporal.example.com:7233',
  })
  .refine((v) => Number(v.slice(v.lastIndexOf(':') + 1)) <= 65535, { message: 'must have a port from 1 to 65535' });

const port = z.coerce
  .number({ message: 'must be a port number' })
  .int({ message: 'must be a port number' })
  .min(1, { message: 'must be a port from 1 to 65535' })
  .max(65535, { message: 'must be a port from 1 to 65535' });

const positiveInt = z.coerce
  .number({ message: 'must be a positive integer' })
  .int({ message: 'must be a positive integer' })
  .positive({ message: 'must be a positive integer' });

const identifier = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/, { message: 'must be 1-200 letters, digits, ".", "_" or "-"' });

const envSchema = z.object({
  TEMPORAL_ADDRESS: optional(hostPort),
  TEMPORAL_NAMESPACE: withDefault(identifier, 'default'),
  AUTOPILOT_TASK_QUEUE: withDefault(identifier, 'dynatrace-autopilot'),
  AUTOPILOT_LOG_LEVEL: withDefault(
    z.string().transform((v, ctx) => {
      const upper = v.toUpperCase();
      if (!(LOG_LEVELS as readonly string[]).includes(upper)) {
        ctx.addIssue({ code: 'custom', message: `must be one of ${LOG_LEVELS.join(', ')}` });
        return z.NEVER;
      }
      return upper as LogLevel;
    }),
    'INFO',
  ),
  // "off" disables the Prometheus endpoint (tests, several workers on one host).
  AUTOPILOT_METRICS_ADDRESS: withDefault(z.union([z.literal('off'), hostPort]), '127.0.0.1:9464'),
  AUTOPILOT_MAX_CONCURRENT_ACTIVITIES: withDefault(positiveInt, 200),
  AUTOPILOT_DATA_DIR: optional(z.string()),
  AUTOPILOT_DEV_SERVER_PORT: withDefault(port, 7233),
  AUTOPILOT_DEV_UI_PORT: withDefault(port, 8233),
  TEMPORAL_CLI_PATH: optional(z.string()),
  DT_CLUSTER_URL: optional(
    z.string().regex(/^https?:\/\/[^\s/?#]+(:\d+)?\/?$/, {
      message: 'must be the cluster base URL, e.g. https://managed.example.com',
    }),
  ),
  DT_MAX_CONCURRENT_REQUESTS_PER_ENVIRONMENT: withDefault(positiveInt, 5),
  DT_REQUEST_TIMEOUT_MS: withDefault(positiveInt, 30_000),
  DT_CA_CERT_FILE: optional(z.string()),
  DT_INSTALLER_CA_FILE: optional(z.string()),
  AUTOPILOT_SIMULATOR_PORT: withDefault(port, 8021),
});

export interface AutopilotConfig {
  temporal: {
    /** Unset means: run the embedded Temporal dev server (sandbox mode). */
    address: string | undefined;
    namespace: string;
    taskQueue: string;
  };
  worker: {
    logLevel: LogLevel;
    metricsAddress: string | undefined;
    maxConcurrentActivities: number;
  };
  devServer: {
    port: number;
    uiPort: number;
    cliPath: string;
  };
  dynatrace: {
    /** Unset means: run the Managed simulator (sandbox mode). */
    clusterUrl: string | undefined;
    /** From DT_CLUSTER_TOKEN[_FILE]; read by the worker only, never a workflow input. */
    clusterToken: Secret | undefined;
    maxConcurrentPerEnvironment: number;
    requestTimeoutMs: number;
    /** PEM of the CA of an on-premise cluster's TLS certificate. */
    caCertificateFile: string | undefined;
    /** CA to verify installer signatures with (`openssl cms -verify`); without it only the shape is checked. */
    installerCaFile: string | undefined;
    simulatorPort: number;
  };
  /** Git-ignored folder for `npm start` state: Temporal SQLite file, simulator state, caches. */
  dataDir: string;
  projectRoot: string;
}

export const projectRoot = path.resolve(import.meta.dirname, '..', '..');

export function loadConfig(env: Env = process.env): AutopilotConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0]);
    const value = env[variable];
    throw new ConfigError(variable, `${issue.message} (got ${JSON.stringify(value ?? '')})`);
  }
  const e = parsed.data;
  const clusterToken = readSecret(env, 'DT_CLUSTER_TOKEN');
  if (e.DT_CLUSTER_URL && !clusterToken) {
    throw new ConfigError('DT_CLUSTER_TOKEN', '(or DT_CLUSTER_TOKEN_FILE) is required when DT_CLUSTER_URL is set');
  }
  return {
    temporal: { address: e.TEMPORAL_ADDRESS, namespace: e.TEMPORAL_NAMESPACE, taskQueue: e.AUTOPILOT_TASK_QUEUE },
    worker: {
      logLevel: e.AUTOPILOT_LOG_LEVEL,
      metricsAddress: e.AUTOPILOT_METRICS_ADDRESS === 'off' ? undefined : e.AUTOPILOT_METRICS_ADDRESS,
      maxConcurrentActivities: e.AUTOPILOT_MAX_CONCURRENT_ACTIVITIES,
    },
    devServer: {
      port: e.AUTOPILOT_DEV_SERVER_PORT,
      uiPort: e.AUTOPILOT_DEV_UI_PORT,
      cliPath: path.resolve(projectRoot, e.TEMPORAL_CLI_PATH ?? '.tools/bin/temporal'),
    },
    dynatrace: {
      clusterUrl: e.DT_CLUSTER_URL?.replace(/\/$/, ''),
      clusterToken: clusterToken === undefined ? undefined : new Secret(clusterToken),
      maxConcurrentPerEnvironment: e.DT_MAX_CONCURRENT_REQUESTS_PER_ENVIRONMENT,
      requestTimeoutMs: e.DT_REQUEST_TIMEOUT_MS,
      caCertificateFile: e.DT_CA_CERT_FILE,
      installerCaFile: e.DT_INSTALLER_CA_FILE,
      simulatorPort: e.AUTOPILOT_SIMULATOR_PORT,
    },
    dataDir: path.resolve(projectRoot, e.AUTOPILOT_DATA_DIR ?? '.data'),
    projectRoot,
  };
}

/**
 * Reads a secret from `NAME` or from the file named by `NAME_FILE` (Docker/Kubernetes secrets).
 * The value is never part of an error message.
 */
export function readSecret(env: Env, name: string): string | undefined {
  const direct = blankToUndefined(env[name]) as string | undefined;
  const file = blankToUndefined(env[`${name}_FILE`]) as string | undefined;
  if (direct !== undefined && file !== undefined) {
    throw new ConfigError(name, `and ${name}_FILE are both set; set only one of them`);
  }
  if (file === undefined) return direct;
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError(`${name}_FILE`, `names a file that cannot be read: ${file} (${code})`);
  }
  const value = content.replace(/\r?\n$/, '');
  if (value.trim() === '') throw new ConfigError(`${name}_FILE`, `names an empty file: ${file}`);
  return value;
}
