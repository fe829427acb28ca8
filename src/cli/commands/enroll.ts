import { parseArgs } from 'node:util';
import { ApplicationFailure } from '@temporalio/common';
import { startEnrollment } from '../../client/start-enrollment.js';
import type { HostEnrollmentInput, HostEnrollmentResult } from '../../shared/enrollment.js';
import { CliError } from '../cli-error.js';
import { connect } from '../context.js';
import { attentionLines, stepLine, type Print } from '../output.js';
import { waitForOutcome } from '../wait.js';
import { FailureType } from '../../shared/failure-types.js';
import { environmentIdOf } from '../../shared/environment-id.js';

export const enrollUsage = `autopilot enroll --host <name> --address <ip or name> --customer <id> --stage <stage> [--port <ssh port>]
                [--ssh-user <user>] [--ssh-key <key name>] [--executor ssh|local] [--install-path <dir>] [--wait] [--json]`;

export async function enrollCommand(argv: string[], print: Print): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string' },
      address: { type: 'string' },
      customer: { type: 'string' },
      stage: { type: 'string' },
      port: { type: 'string' },
      'ssh-user': { type: 'string' },
      'ssh-key': { type: 'string' },
      executor: { type: 'string' },
      'install-path': { type: 'string' },
      wait: { type: 'boolean', default: false },
      timeout: { type: 'string', default: '60' },
      json: { type: 'boolean', default: false },
    },
  });
  if (!values.host || !values.address || !values.customer || !values.stage) {
    throw new CliError('--host, --address, --customer and --stage are required (see `autopilot help`)');
  }
  if (values.executor && values.executor !== 'ssh' && values.executor !== 'local')
    throw new CliError('--executor must be ssh or local');
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536))
    throw new CliError(`--port must be a port number, got ${JSON.stringify(values.port)}`);
  const minutes = Number(values.timeout);
  if (!(minutes > 0))
    throw new CliError(`--timeout must be a number of minutes, got ${JSON.stringify(values.timeout)}`);
  const input: HostEnrollmentInput = {
    hostname: values.host,
    address: values.address,
    customer: values.customer,
    stage: values.stage,
    ...(port ? { port } : {}),
    ...(values.executor ? { executor: values.executor as 'ssh' | 'local' } : {}),
    ...(values['ssh-user'] || values['ssh-key']
      ? {
          ssh: {
            ...(values['ssh-user'] ? { user: values['ssh-user'] } : {}),
            ...(values['ssh-key'] ? { keyName: values['ssh-key'] } : {}),
          },
        }
      : {}),
    ...(values['install-path'] ? { installPath: values['install-path'] } : {}),
  };

  const ctx = await connect();
  try {
    let handle;
    try {
      handle = await startEnrollment(ctx.client, input, { taskQueue: ctx.config.temporal.taskQueue });
    } catch (err) {
      if (err instanceof ApplicationFailure && err.type === FailureType.InvalidWorkflowInput)
        throw new CliError(err.message);
      throw err;
    }
    const base = { workflowId: handle.workflowId, runId: handle.firstExecutionRunId };
    if (!values.json) {
      print(`Enrolling ${values.host} into ${environmentIdOf(input)}: workflow ${handle.workflowId}`);
      const link = ctx.uiLink(handle.workflowId);
      if (link) print(`  ${link}`);
    }
    if (!values.wait) {
      if (values.json) print(JSON.stringify({ ...base, status: 'RUNNING' }));
      return 0;
    }
    const shown = new Map<string, string>();
    const outcome = await waitForOutcome<HostEnrollmentResult>(handle, {
      timeoutMs: minutes * 60_000,
      onProgress: (progress) => {
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
    switch (outcome.kind) {
      case 'completed': {
        const r = outcome.result;
        if (values.json) print(JSON.stringify({ ...base, status: 'COMPLETED', result: r }));
        else
          print(
            `${r.hostname} reports into ${r.environmentId} as ${r.entityId}: ${r.outcome === 'already-enrolled' ? 'already enrolled' : r.outcome} (OneAgent ${r.version}${r.previousVersion ? `, was ${r.previousVersion}` : ''})`,
          );
        return 0;
      }
      case 'needs-attention':
        if (values.json)
          print(JSON.stringify({ ...base, status: 'NEEDS_ATTENTION', attention: outcome.progress.attention }));
        else attentionLines(handle.workflowId, outcome.progress).forEach(print);
        return 3;
      case 'failed':
        if (values.json) print(JSON.stringify({ ...base, status: 'FAILED', error: outcome.message }));
        else print(`Enrollment failed: ${outcome.message}`);
        return 1;
      case 'timed-out':
        if (values.json) print(JSON.stringify({ ...base, status: 'RUNNING', timedOut: true }));
        else print(`Still running; follow it with: autopilot status ${handle.workflowId}`);
        return 4;
    }
  } finally {
    await ctx.close();
  }
}
