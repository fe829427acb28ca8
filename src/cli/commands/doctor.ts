import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createAwsClients, type AwsClients } from '../../aws/aws-clients.js';
import { loadConfig, type AutopilotConfig } from '../../config/config.js';
import { Secret } from '../../config/secret.js';
import { DynatraceClient } from '../../dynatrace/index.js';
import { redactSecrets } from '../../observability/redact.js';
import { createSecretStore } from '../../secrets/create-secret-store.js';
import { withSandboxSecretKey } from '../../secrets/sandbox-key.js';
import type { SecretStore } from '../../secrets/secret-store.js';
import { CliError } from '../cli-error.js';
import {
  checkAws,
  checkClusterToken,
  checkEnvironment,
  checkWorkerSettings,
  onboardedEnvironments,
  type ClusterEndpoint,
  type DoctorCheck,
} from '../doctor-checks.js';
import type { Print } from '../output.js';

export const doctorUsage =
  'autopilot doctor [--environment <id>]... [--warn-days 7] [--json]   (checks token scopes, AWS access, installer and host settings; no Temporal)';

type Env = Record<string, string | undefined>;

export interface DoctorOverrides {
  /** Instead of process.env (tests run several configurations in one process). */
  env?: Env;
  /** Instead of clients built from AWS_REGION and the SDK's own configuration. */
  aws?: AwsClients;
}

export interface DoctorReport {
  ok: boolean;
  cluster: { url: string; sandbox: boolean; tokenSource: string };
  secretStore: 'file' | 'ssm' | 'none';
  failures: number;
  warnings: number;
  checks: DoctorCheck[];
}

/** Like `npm start`: the configured cluster, or the sandbox simulator and the token it wrote. */
function clusterEndpoint(config: AutopilotConfig, env: Env): ClusterEndpoint {
  if (config.dynatrace.clusterUrl && config.dynatrace.clusterToken) {
    return {
      url: config.dynatrace.clusterUrl,
      token: config.dynatrace.clusterToken,
      source: env.DT_CLUSTER_TOKEN_FILE ? `DT_CLUSTER_TOKEN_FILE ${env.DT_CLUSTER_TOKEN_FILE}` : 'DT_CLUSTER_TOKEN',
      sandbox: false,
    };
  }
  const file = path.join(config.dataDir, 'simulator-cluster-token');
  if (!existsSync(file)) {
    throw new CliError(
      `DT_CLUSTER_URL is not set and there is no sandbox cluster token in ${file}: start \`npm start\` first, or set DT_CLUSTER_URL and DT_CLUSTER_TOKEN[_FILE]`,
    );
  }
  return {
    url: `http://127.0.0.1:${config.dynatrace.simulatorPort}`,
    token: new Secret(readFileSync(file, 'utf8').trim()),
    source: file,
    sandbox: true,
  };
}

/** The store the workers use; a sandbox that never generated its key has nothing stored yet. */
function secretStore(config: AutopilotConfig, aws: AwsClients | undefined): SecretStore | undefined {
  const sandbox = !config.dynatrace.clusterUrl;
  if (sandbox && config.secrets.store === 'file' && !config.secrets.fileKey) {
    if (!existsSync(path.join(config.dataDir, 'secret-store.key'))) return undefined;
    withSandboxSecretKey(config);
  }
  return createSecretStore(config, aws?.ssm);
}

export async function runDoctor(
  config: AutopilotConfig,
  options: { env: Env; aws?: AwsClients; environments?: string[]; warnDays: number; now?: number },
): Promise<DoctorReport> {
  const endpoint = clusterEndpoint(config, options.env);
  const aws = options.aws ?? (config.aws.region ? createAwsClients({ region: config.aws.region }) : undefined);
  const store = secretStore(config, aws);
  const client = new DynatraceClient({
    baseUrl: endpoint.url,
    maxConcurrentPerEnvironment: config.dynatrace.maxConcurrentPerEnvironment,
    requestTimeoutMs: config.dynatrace.requestTimeoutMs,
    ...(config.dynatrace.caCertificateFile
      ? { caCertificate: readFileSync(config.dynatrace.caCertificateFile, 'utf8') }
      : {}),
  });
  const now = options.now ?? Date.now();
  const checks: DoctorCheck[] = [];

  const cluster = await checkClusterToken(client, endpoint);
  checks.push(cluster.check);

  if (!store) {
    checks.push({
      area: 'environment',
      subject: 'environments',
      status: 'skipped',
      detail: `no secret-store key in ${config.dataDir} yet, so no environment has been onboarded in this sandbox`,
    });
  } else if (!cluster.reachable) {
    checks.push({
      area: 'environment',
      subject: 'environments',
      status: 'skipped',
      detail: `not checked: ${endpoint.url} does not answer`,
    });
  } else {
    let ids = options.environments;
    if (!ids?.length && cluster.canList) {
      const all = (await client.cluster(endpoint.token.reveal()).listAllEnvironments()).map((e) => e.id);
      ids = await onboardedEnvironments(store, all);
      const others = all.length - ids.length;
      if (others > 0) {
        checks.push({
          area: 'environment',
          subject: 'environments',
          status: 'skipped',
          detail: `${others} of ${all.length} have no Autopilot token in the ${store.kind} secret store (not onboarded by Autopilot)`,
        });
      }
    } else if (!ids?.length) {
      // A rejected or unreadable token leaves the list unread too; blaming the scope then would send
      // the operator after the wrong fix.
      const lacksList = cluster.check.missingScopes?.some((m) => m.scope === 'ServiceProviderAPI') ?? false;
      checks.push({
        area: 'environment',
        subject: 'environments',
        status: 'skipped',
        detail: lacksList
          ? 'cannot be listed without ServiceProviderAPI on the cluster token; name them with --environment'
          : 'not listed, the cluster token does not work (see above); name them with --environment to check their own tokens',
      });
    }
    for (const id of ids ?? []) {
      checks.push(
        ...(await checkEnvironment(client, store, id, {
          now,
          warnDays: options.warnDays,
          url: endpoint.url,
          sandbox: endpoint.sandbox,
          ...(cluster.check.grantedScopes?.includes('EnvironmentTokenManagement')
            ? { clusterToken: endpoint.token.reveal() }
            : {}),
        })),
      );
    }
  }

  if (aws && config.aws.region) checks.push(...(await checkAws(aws, config)));
  // The sandbox is `npm start` with both stand-ins: the simulator and the embedded Temporal server.
  checks.push(...checkWorkerSettings(config, { sandbox: endpoint.sandbox && !config.temporal.address, now }));

  const failures = checks.filter((c) => c.status === 'failed').length;
  return {
    ok: failures === 0,
    cluster: { url: endpoint.url, sandbox: endpoint.sandbox, tokenSource: endpoint.source },
    secretStore: store?.kind ?? 'none',
    failures,
    warnings: checks.filter((c) => c.status === 'warning').length,
    checks,
  };
}

const ICON: Record<DoctorCheck['status'], string> = { ok: '✓', warning: '!', failed: '✗', skipped: '-' };

function heading(check: DoctorCheck, report: DoctorReport, region: string | undefined): string {
  if (check.area === 'cluster') return `Cluster token (${report.cluster.tokenSource})`;
  if (check.area === 'aws') return `AWS (${region ?? 'default region'})`;
  if (check.area === 'worker') return 'Workers (installers and hosts)';
  return check.environmentId ? `Environment ${check.environmentId}` : 'Environments';
}

/** One line per check, and one ✗ line per missing scope naming the features that need it. */
export function reportLines(report: DoctorReport, region?: string): string[] {
  const lines = [
    `Autopilot doctor: Dynatrace ${report.cluster.url}${report.cluster.sandbox ? ' (sandbox simulator)' : ''}, secret store ${report.secretStore}`,
  ];
  let current = '';
  for (const check of report.checks) {
    const title = heading(check, report, region);
    if (title !== current) {
      lines.push(title);
      current = title;
    }
    const who = `${check.subject}${check.tokenId ? ` ${check.tokenId}` : ''}`;
    if (check.missingScopes?.length) {
      if (check.grantedScopes?.length) lines.push(`  ${ICON.ok} ${who} has ${check.grantedScopes.join(', ')}`);
      for (const m of check.missingScopes) {
        const asks = m.dynatraceAsks?.length ? ` (Dynatrace asks for one of: ${m.dynatraceAsks.join(', ')})` : '';
        const features = m.features.length ? `, needed for ${m.features.join('; ')}` : '';
        lines.push(`  ${ICON.failed} ${who} lacks ${m.scope}${features}${asks}`);
      }
      const rest = check.detail
        .split('; ')
        .filter((part) => !part.startsWith('lacks '))
        .join('; ');
      if (rest) lines.push(`  ${ICON[check.status]} ${who}: ${rest}`);
      continue;
    }
    lines.push(`  ${ICON[check.status]} ${who}: ${check.detail}`);
  }
  lines.push(
    report.failures === 0
      ? `All good${report.warnings ? ` (${report.warnings} warning${report.warnings === 1 ? '' : 's'})` : ''}.`
      : `${report.failures} problem${report.failures === 1 ? '' : 's'}${report.warnings ? `, ${report.warnings} warning${report.warnings === 1 ? '' : 's'}` : ''}: docs/least-privilege.md lists the scopes and how to create the tokens.`,
  );
  return lines;
}

/**
 * Pre-flight check of everything a token or a role must be allowed to do, before a workflow finds
 * out halfway through: the cluster token, the tokens of each onboarded environment, and AWS when it
 * is configured. Exit 0 when all is there, 1 when something is missing, 2 for usage or configuration.
 */
export async function doctorCommand(argv: string[], print: Print, overrides: DoctorOverrides = {}): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      environment: { type: 'string', multiple: true },
      'warn-days': { type: 'string', default: '7' },
      json: { type: 'boolean', default: false },
    },
  });
  if (positionals.length > 0) throw new CliError(`usage: ${doctorUsage}`);
  const warnDays = Number(values['warn-days']);
  if (!Number.isInteger(warnDays) || warnDays < 0 || warnDays > 365) {
    throw new CliError('--warn-days must be a whole number of days from 0 to 365');
  }
  for (const id of values.environment ?? []) {
    if (!/^[a-zA-Z0-9_-]{1,70}$/.test(id))
      throw new CliError(`--environment ${JSON.stringify(id)} is not an environment id`);
  }
  const env = overrides.env ?? process.env;
  const config = loadConfig(env);
  const report = await runDoctor(config, {
    env,
    warnDays,
    ...(overrides.aws ? { aws: overrides.aws } : {}),
    ...(values.environment?.length ? { environments: values.environment } : {}),
  });
  // Details quote Dynatrace and AWS error texts, which we do not control: mask anything token-shaped.
  if (values.json) print(redactSecrets(JSON.stringify(report)));
  else for (const line of reportLines(report, config.aws.region)) print(redactSecrets(line));
  return report.ok ? 0 : 1;
}
