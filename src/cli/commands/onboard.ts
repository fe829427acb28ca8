import { parseArgs } from 'node:util';
import { ApplicationFailure } from '@temporalio/common';
import { startOnboarding } from '../../client/start-onboarding.js';
import {
  ENVIRONMENT_FIELDS,
  type EnvironmentField,
  type OnboardCustomerInput,
  type OnboardCustomerResult,
} from '../../shared/onboarding.js';
import type { WorkflowProgress } from '../../shared/progress.js';
import { CliError } from '../cli-error.js';
import { connect } from '../context.js';
import { attentionLines, stepLine, type Print } from '../output.js';
import { waitForOutcome } from '../wait.js';
import { FailureType } from '../../shared/failure-types.js';
import { environmentIdOf } from '../../shared/environment-id.js';

export const onboardUsage = `autopilot onboard --customer <id> --stage <stage> [--name <display name>] [--tag <tag>]...
                 [--host-group <name>] [--monitoring-mode fullstack|infra-only|discovery] [--install-path <dir>]
                 [--admins-ldap <group>]... [--viewers-ldap <group>]... [--overwrite name,tags,state]
                 [--wait] [--timeout <minutes>] [--json]
                 An environment that exists keeps the name, tags and state operators gave it in the cluster
                 unless --overwrite names them; the differences are reported.`;

function parseDurationMinutes(value: string): number {
  const minutes = Number(value);
  if (!Number.isFinite(minutes) || minutes <= 0)
    throw new CliError(`--timeout must be a number of minutes, got ${JSON.stringify(value)}`);
  return minutes;
}

export async function onboardCommand(argv: string[], print: Print): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      customer: { type: 'string' },
      stage: { type: 'string' },
      name: { type: 'string' },
      tag: { type: 'string', multiple: true },
      'host-group': { type: 'string' },
      'monitoring-mode': { type: 'string' },
      'install-path': { type: 'string' },
      'admins-ldap': { type: 'string', multiple: true },
      'viewers-ldap': { type: 'string', multiple: true },
      overwrite: { type: 'string' },
      wait: { type: 'boolean', default: false },
      timeout: { type: 'string', default: '60' },
      json: { type: 'boolean', default: false },
    },
  });
  if (!values.customer || !values.stage)
    throw new CliError('--customer and --stage are required (see `autopilot help`)');
  const timeoutMs = parseDurationMinutes(values.timeout) * 60_000;
  const overwrite = values.overwrite === undefined ? [] : values.overwrite.split(',').map((f) => f.trim());
  const unknown = overwrite.filter((f) => !(ENVIRONMENT_FIELDS as readonly string[]).includes(f));
  if (unknown.length > 0)
    throw new CliError(
      `--overwrite takes ${ENVIRONMENT_FIELDS.join(', ')} (comma-separated), not ${unknown.join(', ')}`,
    );
  const input: OnboardCustomerInput = {
    customer: values.customer,
    stage: values.stage,
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
    let handle;
    try {
      handle = await startOnboarding(ctx.client, input, { taskQueue: ctx.config.temporal.taskQueue });
    } catch (err) {
      if (err instanceof ApplicationFailure && err.type === FailureType.InvalidWorkflowInput)
        throw new CliError(err.message);
      throw err;
    }
    const link = ctx.uiLink(handle.workflowId);
    if (!values.json) {
      print(`Onboarding ${environmentIdOf(input)}: workflow ${handle.workflowId} (run ${handle.firstExecutionRunId})`);
      if (link) print(`  ${link}`);
    }
    if (!values.wait) {
      if (values.json)
        print(JSON.stringify({ workflowId: handle.workflowId, runId: handle.firstExecutionRunId, status: 'RUNNING' }));
      return 0;
    }

    const shown = new Map<string, string>();
    const outcome = await waitForOutcome<OnboardCustomerResult>(handle, {
      timeoutMs,
      onProgress: (progress: WorkflowProgress) => {
        if (values.json) return;
        for (const step of progress.steps) {
          const key = `${step.status}:${step.detail ?? ''}`;
          if (step.status !== 'pending' && step.status !== 'running' && shown.get(step.name) !== key) {
            shown.set(step.name, key);
            print(stepLine(step));
          }
        }
      },
    });
    const base = { workflowId: handle.workflowId, runId: handle.firstExecutionRunId };
    switch (outcome.kind) {
      case 'completed':
        if (values.json) print(JSON.stringify({ ...base, status: 'COMPLETED', result: outcome.result }));
        else {
          print(`Environment ${outcome.result.environmentId} is ready: ${outcome.result.environmentUrl}`);
          for (const d of outcome.result.environmentDifferences ?? [])
            print(
              d.action === 'kept'
                ? `  kept ${d.field} as the cluster has it: ${d.inCluster} (input: ${d.requested}; --overwrite ${d.field} to change it)`
                : `  overwrote ${d.field}: ${d.inCluster} → ${d.requested}`,
            );
          if (outcome.result.installer)
            print(
              `  OneAgent installer ${outcome.result.installer.version} (sha256 ${outcome.result.installer.sha256})`,
            );
        }
        return 0;
      case 'needs-attention':
        if (values.json)
          print(JSON.stringify({ ...base, status: 'NEEDS_ATTENTION', attention: outcome.progress.attention }));
        else attentionLines(handle.workflowId, outcome.progress).forEach(print);
        return 3;
      case 'failed':
        if (values.json)
          print(
            JSON.stringify({ ...base, status: 'FAILED', error: outcome.message, failureType: outcome.failureType }),
          );
        else print(`Onboarding failed: ${outcome.message}`);
        return 1;
      case 'timed-out':
        if (values.json) print(JSON.stringify({ ...base, status: 'RUNNING', timedOut: true }));
        else
          print(`Still running after ${values.timeout} minutes; follow it with: autopilot status ${handle.workflowId}`);
        return 4;
    }
  } finally {
    await ctx.close();
  }
}
