import { parseArgs } from 'node:util';
import { WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import {
  AUTOPILOT_PHASE,
  DT_CUSTOMER,
  DT_ENVIRONMENT_ID,
  DT_HOST,
  DT_PROBLEM_ID,
} from '../../shared/search-attributes.js';
import { CliError } from '../cli-error.js';
import { connect } from '../context.js';
import { attentionLines, stepLine, type Print } from '../output.js';
import { queryProgress } from '../wait.js';

export const statusUsage = 'autopilot status <workflowId> [--json]';

export async function statusCommand(argv: string[], print: Print): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false } },
  });
  const workflowId = positionals[0];
  if (!workflowId || positionals.length > 1) throw new CliError(`usage: ${statusUsage}`);
  const ctx = await connect();
  try {
    const handle = ctx.client.workflow.getHandle(workflowId);
    let description;
    try {
      description = await handle.describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError)
        throw new CliError(`no workflow ${workflowId} in namespace ${ctx.config.temporal.namespace}`, 1);
      throw err;
    }
    const sa = description.typedSearchAttributes;
    const attributes = Object.fromEntries(
      [DT_ENVIRONMENT_ID, DT_CUSTOMER, DT_HOST, DT_PROBLEM_ID, AUTOPILOT_PHASE]
        .map((key) => [key.name, sa.get(key)])
        .filter(([, v]) => v !== undefined),
    ) as Record<string, string>;
    const progress = await queryProgress(handle);
    let result: unknown;
    let error: string | undefined;
    if (description.status.name === 'COMPLETED') result = await handle.result();
    if (description.status.name === 'FAILED') {
      error = await handle.result().then(
        () => undefined,
        (err: unknown) => (err instanceof WorkflowFailedError ? (err.cause?.message ?? err.message) : String(err)),
      );
    }
    if (values.json) {
      print(
        JSON.stringify({
          workflowId,
          runId: description.runId,
          type: description.type,
          status: description.status.name,
          startTime: description.startTime.toISOString(),
          closeTime: description.closeTime?.toISOString(),
          searchAttributes: attributes,
          progress,
          ...(result !== undefined ? { result } : {}),
          ...(error ? { error } : {}),
        }),
      );
      return 0;
    }
    print(
      `${workflowId}  ${description.type}  ${description.status.name}${attributes.AutopilotPhase ? ` (${attributes.AutopilotPhase})` : ''}`,
    );
    print(
      `  started ${description.startTime.toISOString()}${description.closeTime ? `, closed ${description.closeTime.toISOString()}` : ''}`,
    );
    for (const [k, v] of Object.entries(attributes)) if (k !== 'AutopilotPhase') print(`  ${k}: ${v}`);
    if (progress) progress.steps.forEach((s) => print(stepLine(s)));
    else if (description.status.name === 'RUNNING') print('  (progress unavailable: no worker answered the query)');
    if (progress) attentionLines(workflowId, progress).forEach(print);
    if (error) print(`  failed: ${error}`);
    const link = ctx.uiLink(workflowId);
    if (link) print(`  ${link}`);
    return 0;
  } finally {
    await ctx.close();
  }
}
