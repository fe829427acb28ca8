import { parseArgs } from 'node:util';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { decideUpdate } from '../../workflows/shared/operator-controls.js';
import { decideEnvironmentUpdate } from '../../workflows/shared/standards-signals.js';
import { CliError } from '../cli-error.js';
import { connect } from '../context.js';
import type { Print } from '../output.js';

export const decideUsage =
  'autopilot retry|skip|abort <workflowId> [--environment <id|*>] [--reason <text>] [--json]  (--environment: a standards run)';

/** Sends an operator decision through the validated `decide` update, so a refusal comes back at once. */
export async function decideCommand(action: 'retry' | 'skip' | 'abort', argv: string[], print: Print): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      reason: { type: 'string' },
      environment: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const workflowId = positionals[0];
  if (!workflowId || positionals.length > 1) throw new CliError(`usage: ${decideUsage}`);
  if (values.environment !== undefined && action === 'abort') {
    throw new CliError('a standards run has no abort per environment: skip the environment, or cancel the run', 2);
  }
  const ctx = await connect();
  try {
    let outcome: { step: string } | { environments: string[] };
    try {
      const handle = ctx.client.workflow.getHandle(workflowId);
      const reason = values.reason ? { reason: values.reason } : {};
      outcome =
        values.environment !== undefined
          ? await handle.executeUpdate(decideEnvironmentUpdate, {
              args: [{ environmentId: values.environment, action: action as 'retry' | 'skip', ...reason }],
            })
          : await handle.executeUpdate(decideUpdate, { args: [{ action, ...reason }] });
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) {
        // The server reports an update to a closed run as "not found": say which it is.
        const closed = await ctx.client.workflow
          .getHandle(workflowId)
          .describe()
          .catch(() => undefined);
        if (closed)
          throw new CliError(
            `${action} refused: ${workflowId} is ${closed.status.name} and takes no more decisions`,
            1,
          );
        throw new CliError(`no workflow ${workflowId} in namespace ${ctx.config.temporal.namespace}`, 1);
      }
      if (err instanceof WorkflowUpdateFailedError)
        throw new CliError(`${action} refused: ${err.cause?.message ?? err.message}`, 1);
      throw err;
    }
    if (values.json) print(JSON.stringify({ workflowId, accepted: true, ...outcome }));
    else if ('step' in outcome) print(`${workflowId}: ${action} of step "${outcome.step}" accepted`);
    else print(`${workflowId}: ${action} of ${outcome.environments.join(', ')} accepted`);
    return 0;
  } finally {
    await ctx.close();
  }
}
