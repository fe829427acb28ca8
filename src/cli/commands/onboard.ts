import { parseArgs } from 'node:util';
import { startOnboarding } from '../../client/start-onboarding.js';
import {
  ENVIRONMENT_FIELDS,
  type EnvironmentField,
  type OnboardCustomerInput,
  type OnboardCustomerResult,
} from '../../shared/onboarding.js';
import { CliError } from '../cli-error.js';
import { connect } from '../context.js';
import { FOLLOW_RUN_OPTIONS, followRunFlags, startAndFollow } from '../follow-run.js';
import type { Print } from '../output.js';
import { environmentIdOf } from '../../shared/environment-id.js';

export const onboardUsage = `autopilot onboard --customer <id> --stage <stage> [--cluster <name>] [--name <display name>] [--tag <tag>]...
                 [--host-group <name>] [--monitoring-mode fullstack|infra-only|discovery] [--install-path <dir>]
                 [--admins-ldap <group>]... [--viewers-ldap <group>]... [--overwrite name,tags,state]
                 [--wait] [--timeout <minutes>] [--json]
                 An environment that exists keeps the name, tags and state operators gave it in the cluster
                 unless --overwrite names them; the differences are reported.`;

export async function onboardCommand(argv: string[], print: Print): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      customer: { type: 'string' },
      stage: { type: 'string' },
      cluster: { type: 'string' },
      name: { type: 'string' },
      tag: { type: 'string', multiple: true },
      'host-group': { type: 'string' },
      'monitoring-mode': { type: 'string' },
      'install-path': { type: 'string' },
      'admins-ldap': { type: 'string', multiple: true },
      'viewers-ldap': { type: 'string', multiple: true },
      overwrite: { type: 'string' },
      ...FOLLOW_RUN_OPTIONS,
    },
  });
  if (!values.customer || !values.stage)
    throw new CliError('--customer and --stage are required (see `autopilot help`)');
  const follow = followRunFlags(values);
  const overwrite = values.overwrite === undefined ? [] : values.overwrite.split(',').map((f) => f.trim());
  const unknown = overwrite.filter((f) => !(ENVIRONMENT_FIELDS as readonly string[]).includes(f));
  if (unknown.length > 0)
    throw new CliError(
      `--overwrite takes ${ENVIRONMENT_FIELDS.join(', ')} (comma-separated), not ${unknown.join(', ')}`,
    );
  const input: OnboardCustomerInput = {
    customer: values.customer,
    stage: values.stage,
    ...(values.cluster ? { cluster: values.cluster } : {}),
    ...(values.name ? { displayName: values.name } : {}),
    ...(values.tag ? { tags: values.tag } : {}),
    ...(overwrite.length ? { overwrite: overwrite as EnvironmentField[] } : {}),
    ...(values['admins-ldap'] || values['viewers-ldap']
      ? { ldapGroups: { admins: values['admins-ldap'] ?? [], viewers: values['viewers-ldap'] ?? [] } }
      : {}),
    enrollment: {
      ...(values['host-group'] ? { hostGroup: values['host-group'] } : {}),
      ...(values['monitoring-mode'] ? { monitoringMode: values['monitoring-mode'] as 'fullstack' } : {}),
      ...(values['install-path'] ? { installPath: values['install-path'] } : {}),
    },
  };

  const ctx = await connect();
  try {
    return await startAndFollow<OnboardCustomerResult>(ctx, print, follow, {
      start: () => startOnboarding(ctx.client, input, { taskQueue: ctx.config.temporal.taskQueue }),
      startedLine: (handle) =>
        `Onboarding ${environmentIdOf(input)}: workflow ${handle.workflowId} (run ${handle.firstExecutionRunId})`,
      completedLines: (result) => [
        `Environment ${result.environmentId} is ready: ${result.environmentUrl}`,
        ...(result.environmentDifferences ?? []).map((d) =>
          d.action === 'kept'
            ? `  kept ${d.field} as the cluster has it: ${d.inCluster} (input: ${d.requested}; --overwrite ${d.field} to change it)`
            : `  overwrote ${d.field}: ${d.inCluster} → ${d.requested}`,
        ),
        ...(result.installer
          ? [`  OneAgent installer ${result.installer.version} (sha256 ${result.installer.sha256})`]
          : []),
      ],
      failedLine: (message) => `Onboarding failed: ${message}`,
    });
  } finally {
    await ctx.close();
  }
}
