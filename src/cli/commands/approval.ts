import { parseArgs } from 'node:util';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { approvalUpdate } from '../../workflows/shared/remediation-signals.js';
import { CliError } from '../cli-error.js';
import { connect } from '../context.js';
import type { Print } from '../output.js';

export const approvalUsage = 'autopilot approve|reject <workflowId> [--by <name>] [--reason <text>] [--json]';

/** Approves or rejects a pending self-healing change (REMEDIATION_APPROVAL=required). */
export async function approvalCommand(decision: 'approve' | 'reject', argv: string[], print: Print): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { by: { type: 'string' }, reason: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  const workflowId = positionals[0];
  if (!workflowId || positionals.length > 1) throw new CliError(`usage: ${approvalUsage}`);
  const ctx = await connect();
  try {
    try {
      await ctx.client.workflow.getHandle(workflowId).executeUpdate(approvalUpdate, {
        args: [
          decision,
          { by: values.by ?? process.env.USER ?? 'cli', ...(values.reason ? { reason: values.reason } : {}) },
        ],
      });
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new CliError(`no running workflow ${workflowId}`, 1);
      if (err instanceof WorkflowUpdateFailedError)
        throw new CliError(`${decision} refused: ${err.cause?.message ?? err.message}`, 1);
      throw err;
    }
    if (values.json) print(JSON.stringify({ workflowId, decision, accepted: true }));
    else print(`${workflowId}: ${decision === 'approve' ? 'approved' : 'rejected'}`);
    return 0;
  } finally {
    await ctx.close();
  }
}
