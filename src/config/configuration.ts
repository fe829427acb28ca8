import path from 'node:path';
import { z } from 'zod';
import { parseCodecKeys } from '../codec/codec-keyring.js';
import { DEFAULT_SAAS_DOMAINS } from '../dynatrace/environment-url.js';
import { CLUSTER_NAME } from '../shared/environments.js';
import { durationSchema } from '../shared/onboarding.js';
import type { RemediationPolicy } from '../shared/remediation.js';
import { readClustersFile } from './clusters-file.js';
import { ConfigError } from './config-error.js';
import {
  clusterBaseUrl,
  domainList,
  hostPort,
  httpUrl,
  identifier,
  listenHostPort,
  milliseconds,
  port,
  positiveInt,
  trueOrFalse,
} from './formats.js';
import { projectRoot } from './project-root.js';
import { secretSource } from './read-secret.js';
import { Secret } from './secret.js';
import { temporalTls } from './temporal-tls.js';
import { derived, optionalSetting, secret, setting, type Lookup, type RetiredVariable } from './variable.js';
import { temporalCliPath } from '../temporal/temporal-cli-path.js';
import { keyEntries, MIN_WEBHOOK_KEY_LENGTH, WEBHOOK_KEY_MODES } from '../webhook/webhook-keys.js';

// Every environment variable Autopilot reads, declared once: its place in AutopilotConfig is its
// place in `configuration`, and its README row (`npm run docs:config`) comes from its table, default
// and doc. Variables that others depend on are declared first, then placed in the tree.

const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

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

const ssmPath = (example: string) =>
  z.string().regex(/^\/[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/, { message: `must be an SSM ${example}` });

const temporalAddress = optionalSetting('TEMPORAL_ADDRESS', hostPort, {
  table: 'general',
  defaultDoc: 'unset: embedded dev server',
  doc: '`host:port` of the Temporal frontend',
});

const temporalApiKey = secret('TEMPORAL_API_KEY', {
  table: 'security',
  defaultDoc: '—',
  doc: 'Temporal Cloud API key, sent as `Authorization: Bearer` on every call',
});

const devUiPort = setting('AUTOPILOT_DEV_UI_PORT', port, {
  table: 'general',
  default: 8233,
  doc: "port of the embedded dev server's UI",
});

const clusterUrl = optionalSetting('DT_CLUSTER_URL', clusterBaseUrl, {
  table: 'fleet',
  defaultDoc: 'unset: the simulator',
  doc: 'base URL of the Managed cluster (`https://managed.example.com`; https only)',
  then: (url) => url?.replace(/\/$/, ''),
});

const maxConcurrentPerEnvironment = setting('DT_MAX_CONCURRENT_REQUESTS_PER_ENVIRONMENT', positiveInt, {
  table: 'fleet',
  default: 5,
  doc: 'Dynatrace calls in flight per environment and worker',
});

const clusterNameFormat = z.string().regex(CLUSTER_NAME, {
  message: 'must be a cluster name: lowercase letters, digits or "-" (e.g. eu1)',
});

const secretStore = setting('AUTOPILOT_SECRET_STORE', z.enum(['file', 'ssm'], { message: 'must be file or ssm' }), {
  table: 'fleet',
  default: 'file',
  doc: '`file` or `ssm` (see "The secret store")',
});

const dataDir = optionalSetting('AUTOPILOT_DATA_DIR', z.string(), {
  table: 'general',
  defaultDoc: '`.data`',
  doc: 'sandbox state (Temporal SQLite, logs)',
  then: (dir) => path.resolve(projectRoot, dir ?? '.data'),
});

/** A folder: as configured, or `sub` of the data folder. */
const folderIn =
  (sub: string) =>
  (dir: string | undefined, get: Lookup): string =>
    path.resolve(projectRoot, dir ?? path.join(get(dataDir), sub));

/**
 * An OIDC issuer and the audience its tokens must name. The audience is required: without it, a token
 * the same issuer minted for any other application would be accepted.
 */
function oidcIssuer(issuer: string | undefined, audience: string | undefined, prefix: string) {
  if (!issuer) return undefined;
  if (!audience) {
    throw new ConfigError(
      `${prefix}_OIDC_AUDIENCE`,
      `is required with ${prefix}_OIDC_ISSUER: without it a token that issuer minted for any other application would be accepted`,
    );
  }
  return { issuer: issuer.replace(/\/$/, ''), audience };
}

/** One of the fleet server's static tokens; each does one job (reading, or writing as well). */
const fleetToken = (name: string, doc: string) =>
  secret(name, {
    table: 'security',
    defaultDoc: 'sandbox: none (loopback only)',
    doc,
    then: (token) => {
      if (token && token.text.length < 16) throw new ConfigError(token.variable, 'must be at least 16 characters');
      return token && secretSource(token);
    },
  });

const fleetPublicUrl = optionalSetting(
  'AUTOPILOT_FLEET_PUBLIC_URL',
  z.string().regex(/^https?:\/\/[^\s/?#@]+\/?$/, {
    message: 'must be the origin people and scripts use, e.g. https://fleet.example.com (no path)',
  }),
  {
    table: 'fleet',
    defaultDoc: 'unset: loopback and `AUTOPILOT_FLEET_HOST`',
    doc: 'the URL browsers and scripts use: other `Host` headers and writes from other sites are refused; https: `Secure` cookie',
    then: (url) => url?.replace(/\/$/, '').toLowerCase(),
  },
);

/** Variables Autopilot no longer reads: setting one is a ConfigError that says what replaced it. */
export const retiredVariables: readonly RetiredVariable[] = [
  {
    name: 'AUTOPILOT_FLEET_AUTH_TOKEN',
    instead:
      'set AUTOPILOT_FLEET_READ_TOKEN (status page, GET) and AUTOPILOT_FLEET_WRITE_TOKEN (POST, PUT, DELETE across the fleet), two different tokens',
  },
];

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

export const configuration = {
  temporal: {
    /** Unset means: run the embedded Temporal dev server (sandbox mode). */
    address: temporalAddress,
    namespace: setting('TEMPORAL_NAMESPACE', identifier, {
      table: 'general',
      default: 'default',
      doc: 'Temporal namespace',
    }),
    taskQueue: setting('AUTOPILOT_TASK_QUEUE', identifier, {
      table: 'general',
      default: 'dynatrace-autopilot',
      doc: 'task queue of the worker and every workflow; fleet coordinators run on `<queue>-fleets`, polled by the same worker process',
    }),
    /** TLS towards the frontend (mTLS with a client pair); `undefined` is plaintext. */
    tls: derived(
      {
        // The standard Temporal client variables (Temporal CLI and envconfig use the same names).
        mode: optionalSetting('TEMPORAL_TLS', trueOrFalse, {
          table: 'security',
          defaultDoc: 'on with any TLS file or an API key',
          doc: '`true` for TLS with the system CAs',
        }),
        serverCaCertPath: optionalSetting('TEMPORAL_TLS_SERVER_CA_CERT_PATH', z.string(), {
          table: 'security',
          defaultDoc: 'system CAs',
          doc: "CA of the frontend's certificate",
        }),
        serverName: optionalSetting(
          'TEMPORAL_TLS_SERVER_NAME',
          z.string().regex(/^[A-Za-z0-9.-]{1,253}$/, { message: 'must be a DNS name' }),
          {
            table: 'security',
            defaultDoc: "the address's host",
            doc: "the name to expect in the frontend's certificate",
          },
        ),
        clientCertPath: optionalSetting('TEMPORAL_TLS_CLIENT_CERT_PATH', z.string(), {
          table: 'security',
          defaultDoc: '—',
          doc: 'client certificate for mTLS (with `TEMPORAL_TLS_CLIENT_KEY_PATH`)',
        }),
        clientKeyPath: optionalSetting('TEMPORAL_TLS_CLIENT_KEY_PATH', z.string(), {
          table: 'security',
          defaultDoc: '—',
          doc: 'private key of that client certificate (both or neither)',
        }),
      },
      (tls, get) => temporalTls(tls, get(temporalApiKey) !== undefined),
    ),
    apiKey: temporalApiKey,
    /** Where the CLI links workflows to; unset: the dev server's UI in the sandbox, no links otherwise. */
    uiUrl: optionalSetting('AUTOPILOT_TEMPORAL_UI_URL', z.string(), {
      table: 'general',
      defaultDoc: "sandbox: the dev server's UI",
      doc: 'base URL of the Temporal UI the CLI links workflows to',
    }),
  },
  codec: {
    /** Payload keys; the sandbox generates them when unset. */
    keys: secret('AUTOPILOT_CODEC_KEYS', {
      table: 'security',
      defaultDoc: 'sandbox: generated; required otherwise',
      doc: 'payload keys, `id:base64key` entries separated by commas or lines, first one encrypts, all decrypt',
      then: (keys) => keys && parseCodecKeys(keys.text, keys.variable),
    }),
    /** Workers refuse what is not sealed; only the sandbox may be told otherwise, for experiments. */
    acceptUnsealedPayloads: setting('AUTOPILOT_ACCEPT_UNSEALED_PAYLOADS', trueOrFalse, {
      table: 'security',
      default: 'false',
      doc: "sandbox only: `true` lets plain payloads (e.g. `temporal workflow start --input '{…}'` without the codec) steer the workers",
      then: (flag) => flag === 'true',
    }),
    server: {
      host: setting('AUTOPILOT_CODEC_HOST', z.string().min(1), {
        table: 'security',
        default: '127.0.0.1',
        doc: 'where the codec server listens',
      }),
      port: setting('AUTOPILOT_CODEC_PORT', port, {
        table: 'security',
        default: 8091,
        doc: 'port of the codec server',
      }),
      /** Browser origins of the Temporal UI allowed to call the codec server. */
      uiOrigins: optionalSetting(
        'AUTOPILOT_CODEC_UI_ORIGINS',
        z.string().regex(/^https?:\/\/[^\s,/]+(,https?:\/\/[^\s,/]+)*$/, {
          message: 'must be comma-separated origins like https://temporal-ui.example.com',
        }),
        {
          table: 'security',
          defaultDoc: 'the local UI (`localhost`, `127.0.0.1`)',
          doc: 'browser origins allowed to call the codec server (CORS), comma-separated',
          then: (origins, get) =>
            origins ? origins.split(',') : [`http://localhost:${get(devUiPort)}`, `http://127.0.0.1:${get(devUiPort)}`],
        },
      ),
      /** Static bearer tokens (Temporal CLI `--codec-auth`, automation). */
      authToken: secret('AUTOPILOT_CODEC_AUTH_TOKEN', {
        table: 'security',
        defaultDoc: 'sandbox: none (loopback only)',
        doc: 'static bearer token for `temporal --codec-auth` and scripts (16+ characters)',
        then: (token) => {
          if (token && token.text.length < 16) {
            throw new ConfigError('AUTOPILOT_CODEC_AUTH_TOKEN', 'must be at least 16 characters');
          }
          return token && secretSource(token);
        },
      }),
      /** Access tokens the UI passes on, verified against this issuer's keys. */
      oidc: derived(
        {
          issuer: optionalSetting(
            'AUTOPILOT_CODEC_OIDC_ISSUER',
            httpUrl('must be the issuer URL, e.g. https://login.example.com'),
            {
              table: 'security',
              defaultDoc: '—',
              doc: "accept the UI's OIDC access tokens (`TEMPORAL_CODEC_PASS_ACCESS_TOKEN=true`) from this issuer",
            },
          ),
          audience: optionalSetting('AUTOPILOT_CODEC_OIDC_AUDIENCE', z.string().min(1), {
            table: 'security',
            defaultDoc: 'required with the issuer',
            doc: "the audience those tokens must be issued for (the UI's client id or API audience)",
          }),
        },
        ({ issuer, audience }) => oidcIssuer(issuer, audience, 'AUTOPILOT_CODEC'),
      ),
    },
  },
  worker: {
    logLevel: setting(
      'AUTOPILOT_LOG_LEVEL',
      z.string().transform((v, ctx) => {
        const upper = v.toUpperCase();
        if (!(LOG_LEVELS as readonly string[]).includes(upper)) {
          ctx.addIssue({ code: 'custom', message: `must be one of ${LOG_LEVELS.join(', ')}` });
          return z.NEVER;
        }
        return upper as LogLevel;
      }),
      {
        table: 'general',
        default: 'INFO',
        doc: '`TRACE`, `DEBUG`, `INFO`, `WARN`, `ERROR`; logs are JSON lines on stdout',
      },
    ),
    // A fixed port is what a scrape config names; port 0 lets several workers share a host.
    metricsAddress: setting('AUTOPILOT_METRICS_ADDRESS', z.union([z.literal('off'), listenHostPort]), {
      table: 'general',
      default: '127.0.0.1:9464',
      doc: 'Prometheus endpoint (`/metrics`) of the worker; port `0` picks a free one and logs it; `off` disables it',
      then: (address) => (address === 'off' ? undefined : address),
    }),
    // A fleet's hosts wait for their install slots inside the install activity, so a worker needs
    // room for twice the fleet's install limit besides everything else; a waiting activity costs little.
    maxConcurrentActivities: setting('AUTOPILOT_MAX_CONCURRENT_ACTIVITIES', positiveInt, {
      table: 'general',
      default: 1000,
      doc: 'activity slots per worker (hosts waiting for an install slot hold one)',
    }),
    maxCachedWorkflows: setting('AUTOPILOT_MAX_CACHED_WORKFLOWS', positiveInt, {
      table: 'general',
      default: 1000,
      doc: "workflows a worker keeps in memory between tasks (more than a fleet's hosts in flight; beyond it they are replayed)",
    }),
    maxConcurrentWorkflowTasks: setting('AUTOPILOT_MAX_CONCURRENT_WORKFLOW_TASKS', positiveInt, {
      table: 'general',
      default: 100,
      doc: 'workflow task slots per worker (pollers scale up to half of it)',
    }),
  },
  devServer: {
    port: setting('AUTOPILOT_DEV_SERVER_PORT', port, {
      table: 'general',
      default: 7233,
      doc: 'port of the embedded dev server',
    }),
    uiPort: devUiPort,
    cliPath: optionalSetting('TEMPORAL_CLI_PATH', z.string(), {
      table: 'general',
      defaultDoc: '`.tools/bin/temporal`',
      doc: "a Temporal CLI to use instead of the project's",
      then: (cli) => temporalCliPath(cli),
    }),
  },
  dynatrace: {
    /** Unset means: run the Managed simulator (sandbox mode). */
    clusterUrl,
    /** The file is re-read when it changes; never a workflow input. */
    clusterToken: secret('DT_CLUSTER_TOKEN', {
      table: 'fleet',
      defaultDoc: '—',
      doc: 'cluster token (`ServiceProviderAPI`, `ClusterTokenManagement`); required with `DT_CLUSTER_URL`',
      then: (token, get) => {
        if (!token && get(clusterUrl)) {
          throw new ConfigError(
            'DT_CLUSTER_TOKEN',
            '(or DT_CLUSTER_TOKEN_FILE) is required when DT_CLUSTER_URL is set',
          );
        }
        return token && secretSource(token);
      },
    }),
    maxConcurrentPerEnvironment,
    clusterName: setting('DT_CLUSTER_NAME', clusterNameFormat, {
      table: 'fleet',
      default: 'default',
      doc: 'the name `DT_CLUSTER_URL` goes by in the registry and in `--cluster`',
    }),
    /** Several Managed clusters; read and checked at start-up. */
    clustersFile: optionalSetting('AUTOPILOT_CLUSTERS_FILE', z.string().min(1), {
      table: 'fleet',
      defaultDoc: '—',
      doc: 'YAML list of Managed clusters (name, url, tokenFile, caFile, maxConcurrentRequests); beside or instead of `DT_CLUSTER_URL`',
      then: (file, get) =>
        file === undefined
          ? undefined
          : readClustersFile(path.resolve(projectRoot, file), {
              maxConcurrentRequestsPerEnvironment: get(maxConcurrentPerEnvironment),
            }),
    }),
    requestTimeoutMs: setting('DT_REQUEST_TIMEOUT_MS', positiveInt, {
      table: 'fleet',
      default: 30_000,
      doc: 'how long one Dynatrace API request may take',
    }),
    /** Where SaaS environments live: a registered SaaS URL's host must be below one of these. */
    saasDomains: setting('AUTOPILOT_SAAS_DOMAINS', domainList, {
      table: 'fleet',
      default: DEFAULT_SAAS_DOMAINS.join(','),
      doc: "comma-separated domains whose subdomains are SaaS environments' API hosts; tokens go to no other SaaS host",
      then: (domains) => domains.split(',').map((d) => d.trim().replace(/^\./, '').toLowerCase()),
    }),
    /** PEM of the CA of an on-premise cluster's TLS certificate. */
    caCertificateFile: optionalSetting('DT_CA_CERT_FILE', z.string(), {
      table: 'fleet',
      defaultDoc: 'system CAs',
      doc: "CA for the cluster's TLS certificate",
    }),
    /** CA to verify installer signatures with (`openssl cms -verify`). */
    installerCaFile: optionalSetting('DT_INSTALLER_CA_FILE', z.string(), {
      table: 'fleet',
      defaultDoc: '—',
      doc: 'CA that OneAgent installer signatures must verify against; outside the sandbox installers are refused without it',
      then: (file) => (file ? path.resolve(projectRoot, file) : undefined),
    }),
    /** Whether an installer may run with only its signature's shape checked when there is no CA. */
    installerSignature: setting(
      'AUTOPILOT_INSTALLER_SIGNATURE',
      z.enum(['verify', 'shape-only'], { message: 'must be verify or shape-only' }),
      {
        table: 'fleet',
        default: 'verify',
        doc: '`shape-only`: without a CA, accept a signature of the right shape (warned at every start and by `autopilot doctor`)',
      },
    ),
    simulatorPort: setting('AUTOPILOT_SIMULATOR_PORT', port, {
      table: 'fleet',
      default: 8021,
      doc: 'sandbox: port of the Dynatrace Managed simulator `npm start` runs',
    }),
  },
  /** Sandbox only: where `npm start` runs moto when no AWS region is configured. */
  sandboxMotoPort: setting('AUTOPILOT_MOTO_PORT', port, {
    table: 'fleet',
    default: 5055,
    doc: 'sandbox: port of moto, the AWS emulator `npm start` runs without `AWS_REGION`',
  }),
  aws: {
    region: optionalSetting(
      'AWS_REGION',
      z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { message: 'must be an AWS region like eu-west-1' }),
      {
        table: 'fleet',
        defaultDoc: 'unset: the AWS sandbox',
        doc: "region of EC2, Service Catalog, S3 and SSM; credentials come from the SDK's usual chain",
        then: (region, get) => {
          if (!region && get(secretStore) === 'ssm') {
            throw new ConfigError('AWS_REGION', 'is required when AUTOPILOT_SECRET_STORE=ssm');
          }
          return region;
        },
      },
    ),
  },
  secrets: {
    store: secretStore,
    /** AES-256-GCM key of the file store (32 bytes, base64 or hex). */
    fileKey: secret('AUTOPILOT_SECRET_KEY', {
      table: 'fleet',
      defaultDoc: 'sandbox: generated into `.data/`',
      doc: 'key of the file store (32 bytes, base64 or hex)',
      then: (key) => {
        if (key && decodeKey(key.text) === undefined) {
          throw new ConfigError(
            key.variable,
            'must hold 32 bytes, base64 or hex encoded (e.g. the output of `openssl rand -base64 32`)',
          );
        }
        return key && new Secret(key.text);
      },
    }),
    dir: optionalSetting('AUTOPILOT_SECRETS_DIR', z.string(), {
      table: 'fleet',
      defaultDoc: '`.data/secrets`',
      doc: 'folder of the file store',
      then: folderIn('secrets'),
    }),
    ssmPrefix: setting('AUTOPILOT_SSM_PREFIX', ssmPath('path like /dynatrace-autopilot'), {
      table: 'fleet',
      default: '/dynatrace-autopilot',
      doc: 'where the SSM store keeps its `SecureString` parameters',
    }),
    ssmKmsKeyId: optionalSetting('AUTOPILOT_SSM_KMS_KEY_ID', z.string(), {
      table: 'fleet',
      defaultDoc: 'AWS managed key',
      doc: "KMS key of the SSM store's parameters",
    }),
  },
  /**
   * This worker's own copy of each environment's installer, one file per version: the store itself
   * without a bucket, the local staging hosts are served from with one.
   */
  installerCacheDir: optionalSetting('AUTOPILOT_INSTALLER_CACHE_DIR', z.string(), {
    table: 'fleet',
    defaultDoc: '`.data/installers`',
    doc: "the worker's own copy of each OneAgent installer (its local staging with `AUTOPILOT_INSTALLER_BUCKET`)",
    then: folderIn('installers'),
  }),
  /** The installers every worker shares: Dynatrace is asked once per environment and version per deployment. */
  installerBucket: optionalSetting(
    'AUTOPILOT_INSTALLER_BUCKET',
    z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { message: 'must be an S3 bucket name' }),
    {
      table: 'fleet',
      defaultDoc: 'unset: each worker keeps its own',
      doc: 'S3 bucket the workers share installers in: one Dynatrace download per environment and version',
    },
  ),
  installerPrefix: setting(
    'AUTOPILOT_INSTALLER_PREFIX',
    z.string().regex(/^([A-Za-z0-9!_.*'()-]+\/)*$/, {
      message: 'must be a key prefix ending in / (like oneagent-installers/)',
    }),
    {
      table: 'fleet',
      default: 'oneagent-installers/',
      doc: 'key prefix of the installers in `AUTOPILOT_INSTALLER_BUCKET`',
    },
  ),
  /**
   * Fleet inventories of the sandbox's embedded database only (the CLI cannot open PGlite, which its
   * worker owns): with `AUTOPILOT_DATABASE_URL` they live in the fleet database.
   */
  inventoryDir: optionalSetting('AUTOPILOT_INVENTORY_DIR', z.string(), {
    table: 'fleet',
    defaultDoc: '`.data/inventories`',
    doc: 'fleet inventories by content hash, with the embedded database only (else in the fleet database)',
    then: folderIn('inventories'),
  }),
  hosts: {
    /**
     * Executor of enrollments that do not name one, as the operator set it; unset, the sandbox uses
     * `local` and every other worker `ssh` (see hosts/create-executors.ts).
     */
    configuredExecutor: optionalSetting(
      'AUTOPILOT_HOST_EXECUTOR',
      z.enum(['ssh', 'local'], { message: 'must be ssh or local' }),
      {
        table: 'fleet',
        defaultDoc: '`local` in the sandbox, else `ssh`',
        doc: "how commands reach hosts; `local` (installers run on the worker's machine) only by this setting outside the sandbox",
      },
    ),
    ssh: {
      user: setting(
        'AUTOPILOT_SSH_USER',
        z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, { message: 'must be a Unix user name' }),
        {
          table: 'fleet',
          default: 'root',
          doc: 'default SSH login',
        },
      ),
      /** Default private key; hosts may name another one in the secret store. */
      privateKey: secret('AUTOPILOT_SSH_PRIVATE_KEY', {
        table: 'fleet',
        defaultDoc: '—',
        doc: 'default SSH private key; hosts may name another key in the secret store',
      }),
      knownHostsFile: optionalSetting('AUTOPILOT_SSH_KNOWN_HOSTS_FILE', z.string(), {
        table: 'fleet',
        defaultDoc: '—',
        doc: 'the `known_hosts` file host keys are checked against',
        then: (file) => (file ? path.resolve(projectRoot, file) : undefined),
      }),
      hostKeyPolicy: setting(
        'AUTOPILOT_SSH_HOST_KEY_POLICY',
        z.enum(['strict', 'accept-new', 'off'], { message: 'must be strict, accept-new or off' }),
        { table: 'fleet', default: 'strict', doc: 'host-key checking: `strict`, `accept-new` or `off`' },
      ),
      connectTimeoutMs: setting('AUTOPILOT_SSH_CONNECT_TIMEOUT_MS', positiveInt, {
        table: 'fleet',
        default: 15_000,
        doc: 'SSH connect timeout',
      }),
      stagingDir: setting(
        'AUTOPILOT_SSH_STAGING_DIR',
        z.string().regex(/^\/[A-Za-z0-9._/-]+$/, { message: 'must be an absolute path' }),
        { table: 'fleet', default: '/var/tmp/dynatrace-autopilot', doc: 'where installers are staged on hosts' },
      ),
    },
    local: {
      rootDir: optionalSetting('AUTOPILOT_LOCAL_HOSTS_DIR', z.string(), {
        table: 'fleet',
        defaultDoc: '`.data/hosts`',
        doc: '`local` executor: one folder per host (its staging area and OneAgent install)',
        then: folderIn('hosts'),
      }),
      simulatedInstallMs: setting('AUTOPILOT_LOCAL_INSTALL_MS', milliseconds, {
        table: 'fleet',
        default: 0,
        doc: "`local` executor: added to every install (benchmarks simulate a real installer's minutes)",
      }),
    },
    reportingPollMs: setting('AUTOPILOT_REPORTING_POLL_MS', positiveInt, {
      table: 'fleet',
      default: 5_000,
      doc: 'how often an enrollment asks whether its host reports',
    }),
    /** How long host lookups of one environment gather before one entities query answers them all. */
    lookupBatchMs: setting('AUTOPILOT_HOST_LOOKUP_BATCH_MS', milliseconds, {
      table: 'fleet',
      default: 1_000,
      doc: "window in which one environment's host lookups are merged into one query",
    }),
    /** How long a host's lookup right after its install may wait for its environment's installs due to end. */
    lookupGatherMs: setting('AUTOPILOT_HOST_LOOKUP_GATHER_MS', milliseconds, {
      table: 'fleet',
      default: 5_000,
      doc: "longest a host's lookup after its install waits for installs of its environment due to end by then, to share their query",
    }),
  },
  remediation: {
    policy: derived(
      {
        threshold: setting('REMEDIATION_THRESHOLD', positiveInt, {
          table: 'fleet',
          default: 3,
          doc: 'distinct, confirmed CPU-saturation problems within the window before acting',
        }),
        window: setting('REMEDIATION_WINDOW', durationSchema, {
          table: 'fleet',
          default: '24 hours',
          doc: 'the window those problems must fall in',
        }),
        approval: setting(
          'REMEDIATION_APPROVAL',
          z.enum(['auto', 'required'], { message: 'must be auto or required' }),
          {
            table: 'fleet',
            default: 'auto',
            doc: '`required`: wait for `approve`/`reject`',
          },
        ),
        approvalTimeout: setting('REMEDIATION_APPROVAL_TIMEOUT', durationSchema, {
          table: 'fleet',
          default: '24 hours',
          doc: 'an unanswered approval request needs attention after this',
        }),
        cooldown: setting('REMEDIATION_COOLDOWN', durationSchema, {
          table: 'fleet',
          default: '7 days',
          doc: 'after acting, further notifications of that host are commented on but do not climb the ladder again',
        }),
        cpuEventTypes: setting(
          'REMEDIATION_CPU_EVENT_TYPES',
          z.string().regex(/^[A-Z0-9_]+(,[A-Z0-9_]+)*$/, {
            message: 'must be comma-separated event types like OSI_HIGH_CPU,CPU_SATURATED',
          }),
          {
            table: 'fleet',
            default: 'OSI_HIGH_CPU,CPU_SATURATED,CPU_SATURATION',
            doc: 'the problem event types that count (reference: the exact name is uncertain, so it is configurable)',
            then: (types) => types.split(','),
          },
        ),
        deprecatePrevious: setting('REMEDIATION_DEPRECATE_PREVIOUS', trueOrFalse, {
          table: 'fleet',
          default: 'true',
          doc: 'mark the replaced version `DEPRECATED` (running stacks keep working; new launches use the new one)',
          then: (flag) => flag === 'true',
        }),
      },
      (policy): RemediationPolicy => ({ ...policy, historyLimit: 4_000 }),
    ),
    approvedTypesParameter: setting(
      'REMEDIATION_APPROVED_TYPES_PARAMETER',
      ssmPath('parameter name like /dynatrace/approvedinstancetypes'),
      {
        table: 'fleet',
        default: '/dynatrace/approvedinstancetypes',
        doc: 'SSM parameter with the approved instance types, smallest first (`StringList`)',
      },
    ),
    templateBucket: optionalSetting(
      'REMEDIATION_TEMPLATE_BUCKET',
      z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { message: 'must be an S3 bucket name' }),
      {
        table: 'fleet',
        defaultDoc: 'sandbox: created',
        doc: 'S3 bucket for edited templates (Service Catalog loads new versions from a URL)',
      },
    ),
  },
  webhook: {
    host: setting('AUTOPILOT_WEBHOOK_HOST', z.string().min(1), {
      table: 'fleet',
      default: '127.0.0.1',
      doc: 'where the webhook receiver listens',
    }),
    port: setting('AUTOPILOT_WEBHOOK_PORT', port, {
      table: 'fleet',
      default: 8090,
      doc: 'port of the webhook receiver',
    }),
    /** The master key: each environment's webhook key is derived from it (shared mode: it is the key). */
    apiKey: secret('WEBHOOK_API_KEY', {
      table: 'fleet',
      defaultDoc: 'sandbox: generated; otherwise off',
      doc: "master key each environment's webhook key is derived from (`shared` mode: the one key); no receiver without it",
    }),
    keyMode: setting(
      'AUTOPILOT_WEBHOOK_KEY_MODE',
      z.enum(WEBHOOK_KEY_MODES, { message: 'must be per-environment or shared' }),
      {
        table: 'fleet',
        default: 'per-environment',
        doc: '`per-environment` (each key valid on its own path only) or `shared` (one key everywhere, for existing set-ups)',
      },
    ),
    /** Earlier master keys, accepted while a rotation rewrites the environments' webhooks. */
    previousApiKeys: secret('WEBHOOK_PREVIOUS_API_KEYS', {
      table: 'fleet',
      defaultDoc: '—',
      doc: 'earlier master keys still accepted while a rotation rewrites the webhooks (`docs/webhook-keys.md`)',
      then: (keys) => {
        if (!keys) return undefined;
        keyEntries(keys.text).forEach((entry, index) => {
          if (entry.length < MIN_WEBHOOK_KEY_LENGTH) {
            throw new ConfigError(
              keys.variable,
              `entry ${index + 1} is shorter than ${MIN_WEBHOOK_KEY_LENGTH} characters; it cannot be a master key`,
            );
          }
        });
        return secretSource(keys);
      },
    }),
    keyHeader: setting(
      'AUTOPILOT_WEBHOOK_KEY_HEADER',
      z
        .string()
        .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/, { message: 'must be an HTTP header name like X-API-KEY' })
        .refine((name) => !FRAMING_HEADERS.has(name.toLowerCase()), {
          message: 'must not be a header HTTP itself uses (Host, Content-Type, Content-Length, …)',
        }),
      {
        table: 'fleet',
        default: 'X-Autopilot-Webhook-Key',
        doc: 'the header that key comes in (receiver and onboarding), e.g. `X-API-KEY` to take over an existing set-up',
      },
    ),
    /** The base URL Dynatrace environments send problem notifications to. */
    publicUrl: optionalSetting(
      'AUTOPILOT_WEBHOOK_PUBLIC_URL',
      httpUrl('must be the http(s) base URL Dynatrace can reach, e.g. https://autopilot.example.com'),
      {
        table: 'fleet',
        defaultDoc: 'sandbox: the local receiver',
        doc: "the URL Dynatrace reaches the receiver at; onboarding configures each environment's webhook with it",
        then: (url) => url?.replace(/\/$/, ''),
      },
    ),
    // Notifications whose payload includes {ProblemDetailsHTML} or {ProblemDetailsJSON} run to hundreds of KB.
    maxBodyBytes: setting('AUTOPILOT_WEBHOOK_MAX_BODY_BYTES', positiveInt, {
      table: 'fleet',
      default: 1024 * 1024,
      doc: 'larger notifications get a 413 (1 MiB fits payloads with `{ProblemDetailsHTML}` or `{ProblemDetailsJSON}`)',
    }),
    /** Total size of the request line and headers; larger requests get 431. */
    maxHeaderBytes: setting('AUTOPILOT_WEBHOOK_MAX_HEADER_BYTES', positiveInt, {
      table: 'fleet',
      default: 16 * 1024,
      doc: 'request line and headers beyond this get a 431',
    }),
    /** Per source address: sustained requests per second and the burst above it. */
    rateLimit: {
      perSecond: setting('AUTOPILOT_WEBHOOK_RATE_LIMIT', positiveInt, {
        table: 'fleet',
        default: 200,
        doc: 'requests per second per source address; beyond it and the burst a 429 with `Retry-After`',
      }),
      burst: setting('AUTOPILOT_WEBHOOK_RATE_BURST', positiveInt, {
        table: 'fleet',
        default: 400,
        doc: 'requests a source address may send at once above that rate',
      }),
    },
    /** Behind a load balancer: take the source address from X-Forwarded-For. */
    trustProxy: setting('AUTOPILOT_WEBHOOK_TRUST_PROXY', trueOrFalse, {
      table: 'fleet',
      default: 'false',
      doc: '`true` behind a load balancer: the source is the right-most `X-Forwarded-For` entry',
      then: (flag) => flag === 'true',
    }),
  },
  /** The fleet database: the registry and the day-2 records. */
  database: {
    url: secret('AUTOPILOT_DATABASE_URL', {
      table: 'fleet',
      defaultDoc: 'embedded (PGlite under the data folder)',
      doc: 'PostgreSQL URL of the fleet database (`postgres://user@host/autopilot`); every process may then connect',
      then: (url) => {
        if (url && !/^postgres(ql)?:\/\/\S+$/.test(url.text)) {
          throw new ConfigError(url.variable, 'must be a PostgreSQL URL like postgres://autopilot@db:5432/autopilot');
        }
        return url && secretSource(url);
      },
    }),
    embeddedDir: optionalSetting('AUTOPILOT_EMBEDDED_DATABASE_DIR', z.string(), {
      table: 'fleet',
      defaultDoc: '`.data/fleet-db`',
      doc: "the embedded database's folder (owned by the worker; other processes ask it through Temporal)",
      then: folderIn('fleet-db'),
    }),
  },
  /** Environment tokens and the maintenance schedule that keeps them valid. */
  tokens: {
    validityDays: setting('AUTOPILOT_TOKEN_VALIDITY_DAYS', positiveInt, {
      table: 'fleet',
      default: 30,
      doc: 'how long an environment token Autopilot mints is valid',
    }),
    rotateBeforeDays: setting('AUTOPILOT_TOKEN_ROTATE_BEFORE_DAYS', positiveInt, {
      table: 'fleet',
      default: 7,
      doc: 'a token with less validity left is rotated by the maintenance schedule',
    }),
    revokeGraceMinutes: setting('AUTOPILOT_TOKEN_REVOKE_GRACE_MINUTES', positiveInt, {
      table: 'fleet',
      default: 120,
      doc: 'a replaced token stays valid this long for work that still holds it, then it is revoked',
    }),
  },
  maintenance: {
    intervalMinutes: setting('AUTOPILOT_MAINTENANCE_INTERVAL_MINUTES', positiveInt, {
      table: 'fleet',
      default: 60,
      doc: 'how often the `fleet-maintenance` schedule runs',
    }),
    scopeCheckHours: setting('AUTOPILOT_SCOPE_CHECK_HOURS', positiveInt, {
      table: 'fleet',
      default: 24,
      doc: "how often maintenance re-checks each environment's token scopes",
    }),
    batchSize: setting('AUTOPILOT_MAINTENANCE_BATCH_SIZE', positiveInt, {
      table: 'fleet',
      default: 50,
      doc: 'environments one maintenance activity works on',
    }),
  },
  /** The fleet scan behind the status page: how often, how much history, what counts as an incident. */
  fleetScan: {
    intervalSeconds: setting('AUTOPILOT_FLEET_SCAN_INTERVAL_SECONDS', positiveInt, {
      table: 'fleet',
      default: 30,
      doc: "how often the `fleet-scan` schedule reads every environment's open problems (one call each)",
    }),
    hostCensusMinutes: setting('AUTOPILOT_FLEET_HOST_CENSUS_MINUTES', positiveInt, {
      table: 'fleet',
      default: 10,
      doc: "how often each environment's hosts and OneAgent versions are counted",
    }),
    retentionDays: setting('AUTOPILOT_FLEET_RETENTION_DAYS', positiveInt, {
      table: 'fleet',
      default: 30,
      doc: 'how far back the fleet history (and the time slider) reaches',
    }),
    concurrency: setting('AUTOPILOT_FLEET_SCAN_CONCURRENCY', positiveInt, {
      table: 'fleet',
      default: 200,
      doc: "scan requests in flight across the fleet; each cluster's own caps still apply",
    }),
    incidentEnvironments: setting('AUTOPILOT_FLEET_INCIDENT_ENVIRONMENTS', positiveInt, {
      table: 'fleet',
      default: 5,
      doc: 'a problem type opening in this many environments ...',
    }),
    incidentWindowMinutes: setting('AUTOPILOT_FLEET_INCIDENT_WINDOW_MINUTES', positiveInt, {
      table: 'fleet',
      default: 10,
      doc: '... within this many minutes is a fleet incident',
    }),
  },
  /** Configuration standards as code: where the CLI reads them, how often drift is checked. */
  standards: {
    dir: optionalSetting('AUTOPILOT_STANDARDS_DIR', z.string().min(1), {
      table: 'fleet',
      defaultDoc: '`standards`',
      doc: 'the standards folder `autopilot standards` reads when `--standards` is not given',
      then: (dir) => dir ?? 'standards',
    }),
    driftIntervalSeconds: setting('AUTOPILOT_STANDARDS_DRIFT_INTERVAL_SECONDS', positiveInt, {
      table: 'fleet',
      default: 900,
      doc: 'how often the `standards-drift` schedule checks the standards applied last (`enforce` ones are re-applied)',
    }),
    concurrency: setting('AUTOPILOT_STANDARDS_CONCURRENCY', positiveInt, {
      table: 'fleet',
      default: 100,
      doc: "environments a standards apply or drift run writes at once; each cluster's caps still apply",
    }),
  },
  /** The fleet server: status page, its events, `/fleet/api` and `/metrics`. */
  fleetServer: {
    host: setting('AUTOPILOT_FLEET_HOST', z.string().min(1), {
      table: 'fleet',
      default: '127.0.0.1',
      doc: 'where the fleet server listens',
    }),
    port: setting('AUTOPILOT_FLEET_PORT', port, {
      table: 'fleet',
      default: 8092,
      doc: 'port of the fleet server',
    }),
    publicUrl: fleetPublicUrl,
    url: optionalSetting(
      'AUTOPILOT_FLEET_URL',
      httpUrl('must be the fleet server URL, e.g. https://fleet.example.com'),
      {
        table: 'fleet',
        defaultDoc: 'http://`AUTOPILOT_FLEET_HOST`:`AUTOPILOT_FLEET_PORT`',
        doc: 'where `autopilot fleet` reaches the fleet server (`AUTOPILOT_FLEET_PUBLIC_URL` when that is set)',
        then: (url, get) => url?.replace(/\/$/, '') ?? get(fleetPublicUrl),
      },
    ),
    pageDir: optionalSetting('AUTOPILOT_FLEET_PAGE_DIR', z.string().min(1), {
      table: 'fleet',
      defaultDoc: '`dist/fleet-page`',
      doc: "the built status page's folder (`npm run build` writes it; `npm start` builds its own)",
    }),
    tokens: derived(
      {
        read: fleetToken(
          'AUTOPILOT_FLEET_READ_TOKEN',
          'static bearer token that reads: status page, `/fleet/status`, `/fleet/events`, `/metrics`, GET on `/fleet/api` (16+ characters)',
        ),
        write: fleetToken(
          'AUTOPILOT_FLEET_WRITE_TOKEN',
          'static bearer token that also writes: POST, PUT and DELETE on `/fleet/api` to every selected environment (16+ characters)',
        ),
      },
      ({ read, write }) => {
        if (read && write && read.reveal() === write.reveal()) {
          throw new ConfigError(
            'AUTOPILOT_FLEET_WRITE_TOKEN',
            'must differ from AUTOPILOT_FLEET_READ_TOKEN: a reader would otherwise be a writer',
          );
        }
        return { read, write };
      },
    ),
    oidc: derived(
      {
        issuer: optionalSetting(
          'AUTOPILOT_FLEET_OIDC_ISSUER',
          httpUrl('must be the issuer URL, e.g. https://login.example.com'),
          {
            table: 'security',
            defaultDoc: '—',
            doc: 'accept OIDC access tokens from this issuer at the fleet server (a proxy in front passes them on)',
          },
        ),
        audience: optionalSetting('AUTOPILOT_FLEET_OIDC_AUDIENCE', z.string().min(1), {
          table: 'security',
          defaultDoc: 'required with the issuer',
          doc: "the audience those tokens must be issued for (the fleet server's own)",
        }),
        writerClaim: setting(
          'AUTOPILOT_FLEET_OIDC_WRITER_CLAIM',
          z
            .string()
            .regex(/^[A-Za-z0-9_.:/-]{1,200}$/, { message: 'must be a claim name like groups or realm_access.roles' }),
          {
            table: 'security',
            default: 'groups',
            doc: 'the claim (a name, or a dotted path like `realm_access.roles`) whose values can make a token a writer',
          },
        ),
        writers: optionalSetting(
          'AUTOPILOT_FLEET_OIDC_WRITERS',
          z.string().regex(/^[^,\s]+(\s*,\s*[^,\s]+)*$/, { message: 'must be comma-separated claim values' }),
          {
            table: 'security',
            defaultDoc: 'none: OIDC tokens only read',
            doc: 'values of that claim that may write (comma-separated); a token without one of them reads only',
            then: (writers) => (writers ? writers.split(',').map((w) => w.trim()) : []),
          },
        ),
      },
      ({ issuer, audience, writerClaim, writers }) => {
        const verified = oidcIssuer(issuer, audience, 'AUTOPILOT_FLEET');
        return verified && { ...verified, writerClaim, writers };
      },
    ),
    /** Bounds of one fleet API answer, so no environment can fill the server's memory. */
    query: {
      maxPages: setting('AUTOPILOT_FLEET_QUERY_MAX_PAGES', positiveInt, {
        table: 'fleet',
        default: 100,
        doc: 'pages an `allPages` fleet query follows per environment; beyond them its answer says `truncated`',
      }),
      maxBytes: setting('AUTOPILOT_FLEET_QUERY_MAX_BYTES', positiveInt, {
        table: 'fleet',
        default: 16 * 1024 * 1024,
        doc: "bytes of one environment's answer to a fleet query (all its pages); a longer one is cut (`truncated`) or refused",
      }),
    },
  },
  /** Git-ignored folder for `npm start` state: Temporal SQLite file, simulator state, caches. */
  dataDir,
  projectRoot: derived({}, () => projectRoot),
};
