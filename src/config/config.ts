import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { durationSchema } from '../shared/onboarding.js';
import type { RemediationPolicy } from '../shared/remediation.js';
import { parseCodecKeys, type CodecKeyring } from '../codec/codec-keyring.js';
import { ConfigError } from './config-error.js';
import { FileSecret, Secret, type SecretSource } from './secret.js';

export { ConfigError };

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

/** Headers that carry the request itself: a key cannot travel in them. */
const FRAMING_HEADERS = new Set([
  'host',
  'content-type',
  'content-length',
  'content-encoding',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
]);

const envSchema = z.object({
  TEMPORAL_ADDRESS: optional(hostPort),
  TEMPORAL_NAMESPACE: withDefault(identifier, 'default'),
  AUTOPILOT_TASK_QUEUE: withDefault(identifier, 'dynatrace-autopilot'),
  // The standard Temporal client variables (Temporal CLI and envconfig use the same names).
  TEMPORAL_TLS: optional(z.enum(['true', 'false'], { message: 'must be true or false' })),
  TEMPORAL_TLS_CLIENT_CERT_PATH: optional(z.string()),
  TEMPORAL_TLS_CLIENT_KEY_PATH: optional(z.string()),
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: optional(z.string()),
  TEMPORAL_TLS_SERVER_NAME: optional(z.string().regex(/^[A-Za-z0-9.-]{1,253}$/, { message: 'must be a DNS name' })),
  AUTOPILOT_CODEC_HOST: withDefault(z.string().min(1), '127.0.0.1'),
  AUTOPILOT_CODEC_PORT: withDefault(port, 8091),
  AUTOPILOT_CODEC_UI_ORIGINS: optional(
    z.string().regex(/^https?:\/\/[^\s,/]+(,https?:\/\/[^\s,/]+)*$/, {
      message: 'must be comma-separated origins like https://temporal-ui.example.com',
    }),
  ),
  AUTOPILOT_CODEC_OIDC_ISSUER: optional(
    z.string().regex(/^https?:\/\/[^\s?#]+$/, { message: 'must be the issuer URL, e.g. https://login.example.com' }),
  ),
  AUTOPILOT_CODEC_OIDC_AUDIENCE: optional(z.string().min(1)),
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
  AUTOPILOT_MAX_CONCURRENT_WORKFLOW_TASKS: withDefault(positiveInt, 100),
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
  AUTOPILOT_MOTO_PORT: withDefault(port, 5055),
  AUTOPILOT_SECRET_STORE: withDefault(z.enum(['file', 'ssm'], { message: 'must be file or ssm' }), 'file'),
  AUTOPILOT_SECRETS_DIR: optional(z.string()),
  AUTOPILOT_SSM_PREFIX: withDefault(
    z
      .string()
      .regex(/^\/[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/, { message: 'must be an SSM path like /dynatrace-autopilot' }),
    '/dynatrace-autopilot',
  ),
  AUTOPILOT_SSM_KMS_KEY_ID: optional(z.string()),
  AWS_REGION: optional(
    z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { message: 'must be an AWS region like eu-west-1' }),
  ),
  AUTOPILOT_INSTALLER_CACHE_DIR: optional(z.string()),
  AUTOPILOT_INVENTORY_DIR: optional(z.string()),
  AUTOPILOT_HOST_EXECUTOR: optional(z.enum(['ssh', 'local'], { message: 'must be ssh or local' })),
  AUTOPILOT_SSH_USER: withDefault(
    z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, { message: 'must be a Unix user name' }),
    'root',
  ),
  AUTOPILOT_SSH_KNOWN_HOSTS_FILE: optional(z.string()),
  AUTOPILOT_SSH_HOST_KEY_POLICY: withDefault(
    z.enum(['strict', 'accept-new', 'off'], { message: 'must be strict, accept-new or off' }),
    'strict',
  ),
  AUTOPILOT_SSH_CONNECT_TIMEOUT_MS: withDefault(positiveInt, 15_000),
  AUTOPILOT_SSH_STAGING_DIR: withDefault(
    z.string().regex(/^\/[A-Za-z0-9._/-]+$/, { message: 'must be an absolute path' }),
    '/var/tmp/dynatrace-autopilot',
  ),
  AUTOPILOT_LOCAL_HOSTS_DIR: optional(z.string()),
  AUTOPILOT_LOCAL_INSTALL_MS: withDefault(
    z.coerce.number({ message: 'must be a number of milliseconds' }).int().min(0),
    0,
  ),
  AUTOPILOT_REPORTING_POLL_MS: withDefault(positiveInt, 5_000),
  AUTOPILOT_HOST_LOOKUP_BATCH_MS: withDefault(
    z.coerce.number({ message: 'must be a number of milliseconds' }).int().min(0),
    1_000,
  ),
  AUTOPILOT_WEBHOOK_HOST: withDefault(z.string().min(1), '127.0.0.1'),
  AUTOPILOT_WEBHOOK_PORT: withDefault(port, 8090),
  // Notifications whose payload includes {ProblemDetailsHTML} or {ProblemDetailsJSON} run to hundreds of KB.
  AUTOPILOT_WEBHOOK_MAX_BODY_BYTES: withDefault(positiveInt, 1024 * 1024),
  AUTOPILOT_WEBHOOK_KEY_HEADER: withDefault(
    z
      .string()
      .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/, { message: 'must be an HTTP header name like X-API-KEY' })
      .refine((name) => !FRAMING_HEADERS.has(name.toLowerCase()), {
        message: 'must not be a header HTTP itself uses (Host, Content-Type, Content-Length, …)',
      }),
    'X-Autopilot-Webhook-Key',
  ),
  AUTOPILOT_WEBHOOK_MAX_HEADER_BYTES: withDefault(positiveInt, 16 * 1024),
  AUTOPILOT_WEBHOOK_RATE_LIMIT: withDefault(positiveInt, 200),
  AUTOPILOT_WEBHOOK_RATE_BURST: withDefault(positiveInt, 400),
  AUTOPILOT_WEBHOOK_TRUST_PROXY: withDefault(z.enum(['true', 'false'], { message: 'must be true or false' }), 'false'),
  REMEDIATION_APPROVAL: withDefault(z.enum(['auto', 'required'], { message: 'must be auto or required' }), 'auto'),
  REMEDIATION_APPROVAL_TIMEOUT: withDefault(durationSchema, '24 hours'),
  REMEDIATION_THRESHOLD: withDefault(positiveInt, 3),
  REMEDIATION_WINDOW: withDefault(durationSchema, '24 hours'),
  REMEDIATION_COOLDOWN: withDefault(durationSchema, '7 days'),
  REMEDIATION_CPU_EVENT_TYPES: withDefault(
    z.string().regex(/^[A-Z0-9_]+(,[A-Z0-9_]+)*$/, {
      message: 'must be comma-separated event types like OSI_HIGH_CPU,CPU_SATURATED',
    }),
    'OSI_HIGH_CPU,CPU_SATURATED,CPU_SATURATION',
  ),
  REMEDIATION_DEPRECATE_PREVIOUS: withDefault(z.enum(['true', 'false'], { message: 'must be true or false' }), 'true'),
  REMEDIATION_APPROVED_TYPES_PARAMETER: withDefault(
    z.string().regex(/^\/[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/, {
      message: 'must be an SSM parameter name like /dynatrace/approvedinstancetypes',
    }),
    '/dynatrace/approvedinstancetypes',
  ),
  REMEDIATION_TEMPLATE_BUCKET: optional(
    z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { message: 'must be an S3 bucket name' }),
  ),
  AUTOPILOT_WEBHOOK_PUBLIC_URL: optional(
    z.string().regex(/^https?:\/\/[^\s?#]+$/, {
      message: 'must be the http(s) base URL Dynatrace can reach, e.g. https://autopilot.example.com',
    }),
  ),
});

export interface AutopilotConfig {
  temporal: {
    /** Unset means: run the embedded Temporal dev server (sandbox mode). */
    address: string | undefined;
    namespace: string;
    taskQueue: string;
    /** TLS towards the frontend (mTLS with a client pair); `undefined` is plaintext. */
    tls: TemporalTls | undefined;
    /** Temporal Cloud API key from TEMPORAL_API_KEY[_FILE]. */
    apiKey: SecretSource | undefined;
  };
  codec: {
    /** Payload keys from AUTOPILOT_CODEC_KEYS[_FILE]; the sandbox generates them when unset. */
    keys: CodecKeyring | undefined;
    server: {
      host: string;
      port: number;
      /** Browser origins of the Temporal UI allowed to call the codec server. */
      uiOrigins: string[];
      /** Static bearer tokens (Temporal CLI `--codec-auth`, automation), from AUTOPILOT_CODEC_AUTH_TOKEN[_FILE]. */
      authToken: SecretSource | undefined;
      /** Access tokens the UI passes on, verified against this issuer's keys. */
      oidc: { issuer: string; audience: string | undefined } | undefined;
    };
  };
  worker: {
    logLevel: LogLevel;
    metricsAddress: string | undefined;
    maxConcurrentActivities: number;
    /** Workflow tasks this worker processes at once (its pollers scale up to half of it). */
    maxConcurrentWorkflowTasks: number;
  };
  devServer: {
    port: number;
    uiPort: number;
    cliPath: string;
  };
  dynatrace: {
    /** Unset means: run the Managed simulator (sandbox mode). */
    clusterUrl: string | undefined;
    /** From DT_CLUSTER_TOKEN[_FILE] (the file is re-read when it changes); never a workflow input. */
    clusterToken: SecretSource | undefined;
    maxConcurrentPerEnvironment: number;
    requestTimeoutMs: number;
    /** PEM of the CA of an on-premise cluster's TLS certificate. */
    caCertificateFile: string | undefined;
    /** CA to verify installer signatures with (`openssl cms -verify`); without it only the shape is checked. */
    installerCaFile: string | undefined;
    simulatorPort: number;
  };
  /** Sandbox only: where `npm start` runs moto when no AWS region is configured. */
  sandboxMotoPort: number;
  aws: {
    region: string | undefined;
  };
  secrets: {
    store: 'file' | 'ssm';
    /** AES-256-GCM key of the file store, from AUTOPILOT_SECRET_KEY[_FILE] (32 bytes, base64 or hex). */
    fileKey: Secret | undefined;
    dir: string;
    ssmPrefix: string;
    ssmKmsKeyId: string | undefined;
  };
  /** Where each environment's installer is kept, one file per version. */
  installerCacheDir: string;
  /** Fleet inventories, shared by the CLI (writes) and the workers (read). */
  inventoryDir: string;
  hosts: {
    /** Executor of enrollments that do not name one; sandbox: local, otherwise ssh. */
    defaultExecutor: 'ssh' | 'local';
    ssh: {
      user: string;
      /** Default private key, from AUTOPILOT_SSH_PRIVATE_KEY[_FILE]; hosts may name another one in the secret store. */
      privateKey: SecretSource | undefined;
      knownHostsFile: string | undefined;
      hostKeyPolicy: 'strict' | 'accept-new' | 'off';
      connectTimeoutMs: number;
      stagingDir: string;
    };
    local: { rootDir: string; simulatedInstallMs: number };
    reportingPollMs: number;
    /** How long host lookups of one environment gather before one entities query answers them all. */
    lookupBatchMs: number;
  };
  remediation: {
    policy: RemediationPolicy;
    approvedTypesParameter: string;
    templateBucket: string | undefined;
  };
  webhook: {
    host: string;
    port: number;
    maxBodyBytes: number;
    /** Total size of the request line and headers; larger requests get 431. */
    maxHeaderBytes: number;
    /** Per source address: sustained requests per second and the burst above it. */
    rateLimit: { perSecond: number; burst: number };
    /** Behind a load balancer: take the source address from X-Forwarded-For. */
    trustProxy: boolean;
    /** The base URL Dynatrace environments send problem notifications to. */
    publicUrl: string | undefined;
    /** Shared secret Dynatrace sends in a header, from WEBHOOK_API_KEY[_FILE]. */
    apiKey: SecretSource | undefined;
    /** The header that carries it (AUTOPILOT_WEBHOOK_KEY_HEADER). */
    keyHeader: string;
  };
  /** Git-ignored folder for `npm start` state: Temporal SQLite file, simulator state, caches. */
  dataDir: string;
  projectRoot: string;
}

export interface TemporalTls {
  serverNameOverride?: string;
  serverRootCACertificate?: Buffer;
  /** The private key stays a Secret until the connection is made, so printing config never shows it. */
  clientCertPair?: { crt: Buffer; key: SecretSource };
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
  const secretKey = readSecret(env, 'AUTOPILOT_SECRET_KEY');
  if (secretKey !== undefined && decodeKey(secretKey) === undefined) {
    throw new ConfigError(
      env.AUTOPILOT_SECRET_KEY_FILE ? 'AUTOPILOT_SECRET_KEY_FILE' : 'AUTOPILOT_SECRET_KEY',
      'must hold 32 bytes, base64 or hex encoded (e.g. the output of `openssl rand -base64 32`)',
    );
  }
  if (e.AUTOPILOT_SECRET_STORE === 'ssm' && !e.AWS_REGION) {
    throw new ConfigError('AWS_REGION', 'is required when AUTOPILOT_SECRET_STORE=ssm');
  }
  const webhookApiKey = readSecret(env, 'WEBHOOK_API_KEY');
  const temporalApiKey = readSecret(env, 'TEMPORAL_API_KEY');
  const codecKeysText = readSecret(env, 'AUTOPILOT_CODEC_KEYS');
  const codecKeys =
    codecKeysText === undefined
      ? undefined
      : parseCodecKeys(
          codecKeysText,
          env.AUTOPILOT_CODEC_KEYS_FILE ? 'AUTOPILOT_CODEC_KEYS_FILE' : 'AUTOPILOT_CODEC_KEYS',
        );
  const codecAuthToken = readSecret(env, 'AUTOPILOT_CODEC_AUTH_TOKEN');
  if (codecAuthToken !== undefined && codecAuthToken.length < 16) {
    throw new ConfigError('AUTOPILOT_CODEC_AUTH_TOKEN', 'must be at least 16 characters');
  }
  const sshKey = readSecret(env, 'AUTOPILOT_SSH_PRIVATE_KEY');
  const dataDir = path.resolve(projectRoot, e.AUTOPILOT_DATA_DIR ?? '.data');
  if (e.DT_CLUSTER_URL && !clusterToken) {
    throw new ConfigError('DT_CLUSTER_TOKEN', '(or DT_CLUSTER_TOKEN_FILE) is required when DT_CLUSTER_URL is set');
  }
  return {
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.AUTOPILOT_TASK_QUEUE,
      tls: temporalTls(e, temporalApiKey !== undefined),
      apiKey: secretSource(env, 'TEMPORAL_API_KEY', temporalApiKey),
    },
    codec: {
      keys: codecKeys,
      server: {
        host: e.AUTOPILOT_CODEC_HOST,
        port: e.AUTOPILOT_CODEC_PORT,
        uiOrigins: e.AUTOPILOT_CODEC_UI_ORIGINS
          ? e.AUTOPILOT_CODEC_UI_ORIGINS.split(',')
          : [`http://localhost:${e.AUTOPILOT_DEV_UI_PORT}`, `http://127.0.0.1:${e.AUTOPILOT_DEV_UI_PORT}`],
        authToken: secretSource(env, 'AUTOPILOT_CODEC_AUTH_TOKEN', codecAuthToken),
        oidc: e.AUTOPILOT_CODEC_OIDC_ISSUER
          ? { issuer: e.AUTOPILOT_CODEC_OIDC_ISSUER.replace(/\/$/, ''), audience: e.AUTOPILOT_CODEC_OIDC_AUDIENCE }
          : undefined,
      },
    },
    worker: {
      logLevel: e.AUTOPILOT_LOG_LEVEL,
      metricsAddress: e.AUTOPILOT_METRICS_ADDRESS === 'off' ? undefined : e.AUTOPILOT_METRICS_ADDRESS,
      maxConcurrentActivities: e.AUTOPILOT_MAX_CONCURRENT_ACTIVITIES,
      maxConcurrentWorkflowTasks: e.AUTOPILOT_MAX_CONCURRENT_WORKFLOW_TASKS,
    },
    devServer: {
      port: e.AUTOPILOT_DEV_SERVER_PORT,
      uiPort: e.AUTOPILOT_DEV_UI_PORT,
      cliPath: path.resolve(projectRoot, e.TEMPORAL_CLI_PATH ?? '.tools/bin/temporal'),
    },
    dynatrace: {
      clusterUrl: e.DT_CLUSTER_URL?.replace(/\/$/, ''),
      clusterToken: secretSource(env, 'DT_CLUSTER_TOKEN', clusterToken),
      maxConcurrentPerEnvironment: e.DT_MAX_CONCURRENT_REQUESTS_PER_ENVIRONMENT,
      requestTimeoutMs: e.DT_REQUEST_TIMEOUT_MS,
      caCertificateFile: e.DT_CA_CERT_FILE,
      installerCaFile: e.DT_INSTALLER_CA_FILE,
      simulatorPort: e.AUTOPILOT_SIMULATOR_PORT,
    },
    aws: { region: e.AWS_REGION },
    sandboxMotoPort: e.AUTOPILOT_MOTO_PORT,
    secrets: {
      store: e.AUTOPILOT_SECRET_STORE,
      fileKey: secretKey === undefined ? undefined : new Secret(secretKey),
      dir: path.resolve(projectRoot, e.AUTOPILOT_SECRETS_DIR ?? path.join(dataDir, 'secrets')),
      ssmPrefix: e.AUTOPILOT_SSM_PREFIX,
      ssmKmsKeyId: e.AUTOPILOT_SSM_KMS_KEY_ID,
    },
    installerCacheDir: path.resolve(projectRoot, e.AUTOPILOT_INSTALLER_CACHE_DIR ?? path.join(dataDir, 'installers')),
    inventoryDir: path.resolve(projectRoot, e.AUTOPILOT_INVENTORY_DIR ?? path.join(dataDir, 'inventories')),
    hosts: {
      defaultExecutor: e.AUTOPILOT_HOST_EXECUTOR ?? (e.DT_CLUSTER_URL ? 'ssh' : 'local'),
      ssh: {
        user: e.AUTOPILOT_SSH_USER,
        privateKey: secretSource(env, 'AUTOPILOT_SSH_PRIVATE_KEY', sshKey),
        knownHostsFile: e.AUTOPILOT_SSH_KNOWN_HOSTS_FILE
          ? path.resolve(projectRoot, e.AUTOPILOT_SSH_KNOWN_HOSTS_FILE)
          : undefined,
        hostKeyPolicy: e.AUTOPILOT_SSH_HOST_KEY_POLICY,
        connectTimeoutMs: e.AUTOPILOT_SSH_CONNECT_TIMEOUT_MS,
        stagingDir: e.AUTOPILOT_SSH_STAGING_DIR,
      },
      local: {
        rootDir: path.resolve(projectRoot, e.AUTOPILOT_LOCAL_HOSTS_DIR ?? path.join(dataDir, 'hosts')),
        simulatedInstallMs: e.AUTOPILOT_LOCAL_INSTALL_MS,
      },
      reportingPollMs: e.AUTOPILOT_REPORTING_POLL_MS,
      lookupBatchMs: e.AUTOPILOT_HOST_LOOKUP_BATCH_MS,
    },
    remediation: {
      policy: {
        threshold: e.REMEDIATION_THRESHOLD,
        window: e.REMEDIATION_WINDOW,
        cooldown: e.REMEDIATION_COOLDOWN,
        approval: e.REMEDIATION_APPROVAL,
        approvalTimeout: e.REMEDIATION_APPROVAL_TIMEOUT,
        cpuEventTypes: e.REMEDIATION_CPU_EVENT_TYPES.split(','),
        deprecatePrevious: e.REMEDIATION_DEPRECATE_PREVIOUS === 'true',
        historyLimit: 4_000,
      },
      approvedTypesParameter: e.REMEDIATION_APPROVED_TYPES_PARAMETER,
      templateBucket: e.REMEDIATION_TEMPLATE_BUCKET,
    },
    webhook: {
      host: e.AUTOPILOT_WEBHOOK_HOST,
      port: e.AUTOPILOT_WEBHOOK_PORT,
      maxBodyBytes: e.AUTOPILOT_WEBHOOK_MAX_BODY_BYTES,
      maxHeaderBytes: e.AUTOPILOT_WEBHOOK_MAX_HEADER_BYTES,
      rateLimit: { perSecond: e.AUTOPILOT_WEBHOOK_RATE_LIMIT, burst: e.AUTOPILOT_WEBHOOK_RATE_BURST },
      trustProxy: e.AUTOPILOT_WEBHOOK_TRUST_PROXY === 'true',
      publicUrl: e.AUTOPILOT_WEBHOOK_PUBLIC_URL?.replace(/\/$/, ''),
      apiKey: secretSource(env, 'WEBHOOK_API_KEY', webhookApiKey),
      keyHeader: e.AUTOPILOT_WEBHOOK_KEY_HEADER,
    },
    dataDir,
    projectRoot,
  };
}

/**
 * Reads a secret from `NAME` or from the file named by `NAME_FILE` (Docker/Kubernetes secrets).
 * The value is never part of an error message.
 */
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

/** TLS is on when asked for, when any TLS file is given, or with an API key (Temporal Cloud). */
function temporalTls(e: z.infer<typeof envSchema>, hasApiKey: boolean): TemporalTls | undefined {
  const cert = e.TEMPORAL_TLS_CLIENT_CERT_PATH;
  const key = e.TEMPORAL_TLS_CLIENT_KEY_PATH;
  if (cert && !key)
    throw new ConfigError('TEMPORAL_TLS_CLIENT_KEY_PATH', 'is required with TEMPORAL_TLS_CLIENT_CERT_PATH');
  if (key && !cert)
    throw new ConfigError('TEMPORAL_TLS_CLIENT_CERT_PATH', 'is required with TEMPORAL_TLS_CLIENT_KEY_PATH');
  const anyFile = Boolean(cert || e.TEMPORAL_TLS_SERVER_CA_CERT_PATH);
  if (e.TEMPORAL_TLS === 'false') {
    if (anyFile) throw new ConfigError('TEMPORAL_TLS', 'is false but TLS files are configured');
    return undefined;
  }
  if (e.TEMPORAL_TLS !== 'true' && !anyFile && !hasApiKey && !e.TEMPORAL_TLS_SERVER_NAME) return undefined;
  return {
    ...(e.TEMPORAL_TLS_SERVER_NAME ? { serverNameOverride: e.TEMPORAL_TLS_SERVER_NAME } : {}),
    ...(e.TEMPORAL_TLS_SERVER_CA_CERT_PATH
      ? { serverRootCACertificate: readPem('TEMPORAL_TLS_SERVER_CA_CERT_PATH', e.TEMPORAL_TLS_SERVER_CA_CERT_PATH) }
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

function secretSource(env: Env, name: string, value: string | undefined): SecretSource | undefined {
  if (value === undefined) return undefined;
  const file = blankToUndefined(env[`${name}_FILE`]) as string | undefined;
  return file ? new FileSecret(file, value) : new Secret(value);
}

/** 32 key bytes from base64 or hex, or `undefined` when the text is neither. */
export function decodeKey(text: string): Buffer | undefined {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (/^[A-Za-z0-9+/_-]{42,44}={0,2}$/.test(trimmed)) {
    const bytes = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (bytes.length === 32) return bytes;
  }
  return undefined;
}
