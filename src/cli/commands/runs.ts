import { parseArgs } from 'node:util';
import { AUTOPILOT_PHASE, DT_CUSTOMER, DT_ENVIRONMENT_ID, DT_HOST } from '../../shared/search-attributes.js';
import { CliError } from '../cli-error.js';
import { connect } from '../context.js';
import { table, type Print } from '../output.js';

export const runsUsage =
  'autopilot runs [--customer <id>] [--environment <id>] [--host <name>] [--phase <phase>] [--type <workflow type>] [--status running|completed|failed] [--limit <n>] [--json]';

const quote = (value: string) => {
  if (!/^[A-Za-z0-9._:-]+$/.test(value)) throw new CliError(`invalid filter value ${JSON.stringify(value)}`);
  return `'${value}'`;
};

export async function runsCommand(argv: string[], print: Print): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      customer: { type: 'string' },
      environment: { type: 'string' },
      host: { type: 'string' },
      phase: { type: 'string' },
      type: { type: 'string' },
      status: { type: 'string' },
      limit: { type: 'string', default: '50' },
      json: { type: 'boolean', default: false },
    },
  });
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1)
    throw new CliError(`--limit must be a positive number, got ${JSON.stringify(values.limit)}`);
  const filters: string[] = [];
  if (values.customer) filters.push(`${DT_CUSTOMER.name} = ${quote(values.customer)}`);
  if (values.environment) filters.push(`${DT_ENVIRONMENT_ID.name} = ${quote(values.environment)}`);
  if (values.host) filters.push(`${DT_HOST.name} = ${quote(values.host)}`);
  if (values.phase) filters.push(`${AUTOPILOT_PHASE.name} = ${quote(values.phase)}`);
  if (values.type) filters.push(`WorkflowType = ${quote(values.type)}`);
  if (values.status) {
    const status = { running: 'Running', completed: 'Completed', failed: 'Failed', terminated: 'Terminated' }[
      values.status.toLowerCase()
    ];
    if (!status) throw new CliError('--status must be running, completed, failed or terminated');
    filters.push(`ExecutionStatus = '${status}'`);
  }
  const ctx = await connect();
  try {
    const rows = [];
    for await (const run of ctx.client.workflow.list({ query: filters.join(' AND ') || undefined })) {
      rows.push({
        workflowId: run.workflowId,
        type: run.type,
        status: run.status.name,
        phase: run.typedSearchAttributes.get(AUTOPILOT_PHASE) ?? '',
        environment: run.typedSearchAttributes.get(DT_ENVIRONMENT_ID) ?? '',
        started: run.startTime.toISOString(),
      });
      if (rows.length >= limit) break;
    }
    if (values.json) print(JSON.stringify(rows));
    else if (rows.length === 0) print('no matching runs');
    else
      table([
        ['WORKFLOW ID', 'TYPE', 'STATUS', 'PHASE', 'ENVIRONMENT', 'STARTED'],
        ...rows.map((r) => [r.workflowId, r.type, r.status, r.phase, r.environment, r.started]),
      ]).forEach(print);
    return 0;
  } finally {
    await ctx.close();
  }
}
