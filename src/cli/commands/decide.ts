import { parseArgs } from 'node:util';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { decideUpdate } from '../../workflows/shared/operator-controls.js';
import { CliError } from '../cli-error.js';
import { connect } from '../context.js';
import type { Print } from '../output.js';

export const decideUsage = 'autopilot retry|skip|abort <workflowId> [--reason <text>] [--json]';

/** Sends an operator decision through the validated `decide` update, so a refusal comes back at once. */
export async function decideCommand(action: 'retry' | 'skip' | 'abort', argv: string[], print: Print): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { reason: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  const workflowId = positionals[0];
  if (!workflowId || positionals.length > 1) throw new CliError(`usage: ${decideUsage}`);
  const ctx = await connect();
  try {
    let outcome;
    try {
      outcome = await ctx.client.workflow
        .getHandle(workflowId)
        .executeUpdate(decideUpdate, { args: [{ action, ...(values.reason ? { reason: values.reason } : {}) }] });
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
    else print(`${workflowId}: ${action} of step "${outcome.step}" accepted`);
    return 0;
  } finally {
    await ctx.close();
  }
}
