import { parseArgs } from 'node:util';
import { startEnrollment } from '../../client/start-enrollment.js';
import type { HostEnrollmentInput, HostEnrollmentResult } from '../../shared/enrollment.js';
import { CliError } from '../cli-error.js';
import { connect } from '../context.js';
import { FOLLOW_RUN_OPTIONS, followRunFlags, startAndFollow } from '../follow-run.js';
import type { Print } from '../output.js';
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
      ...FOLLOW_RUN_OPTIONS,
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
  const follow = followRunFlags(values);
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
    return await startAndFollow<HostEnrollmentResult>(ctx, print, follow, {
      start: () => startEnrollment(ctx.client, input, { taskQueue: ctx.config.temporal.taskQueue }),
      startedLine: (handle) => `Enrolling ${values.host} into ${environmentIdOf(input)}: workflow ${handle.workflowId}`,
      completedLines: (r) => [
        `${r.hostname} reports into ${r.environmentId} as ${r.entityId}: ${r.outcome === 'already-enrolled' ? 'already enrolled' : r.outcome} (OneAgent ${r.version}${r.previousVersion ? `, was ${r.previousVersion}` : ''})`,
      ],
      failedLine: (message) => `Enrollment failed: ${message}`,
    });
  } finally {
    await ctx.close();
  }
}
