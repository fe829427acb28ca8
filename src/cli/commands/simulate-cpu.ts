import { parseArgs } from 'node:util';
import { remediationWorkflowId, type RemediationStatus } from '../../shared/remediation.js';
import { remediationStatusQuery } from '../../workflows/shared/remediation-signals.js';
import { CliError } from '../cli-error.js';
import { connect } from '../context.js';
import type { Print } from '../output.js';

export const simulateCpuUsage =
  'autopilot simulate-cpu [--host vm-1] [--environment demo-p1] [--times 3] [--json]   (sandbox only)';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Sandbox demo of the self-healing loop: the simulator opens (and closes) CPU-saturation problems
 * on a host, which sends its notifications to our webhook like a real environment; then this
 * follows the host's remediation until it has acted.
 */
export async function simulateCpuCommand(argv: string[], print: Print): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string', default: 'vm-1' },
      environment: { type: 'string', default: 'demo-p1' },
      times: { type: 'string', default: '3' },
      json: { type: 'boolean', default: false },
    },
  });
  const times = Number(values.times);
  if (!(Number.isInteger(times) && times > 0 && times <= 20))
    throw new CliError('--times must be a number from 1 to 20');
  const ctx = await connect();
  try {
    if (ctx.config.dynatrace.clusterUrl)
      throw new CliError('simulate-cpu drives the sandbox simulator; DT_CLUSTER_URL points at a real cluster');
    const simulator = `http://127.0.0.1:${ctx.config.dynatrace.simulatorPort}`;
    const control = async <T>(path: string, body: unknown): Promise<T> => {
      let response: Response;
      try {
        response = await fetch(`${simulator}/_sim${path}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(body),
        });
      } catch {
        throw new CliError(`the sandbox simulator does not answer on ${simulator}; is \`npm start\` running?`, 1);
      }
      const text = await response.text();
      if (!response.ok) throw new CliError(`the simulator refused: ${text}`, 1);
      return JSON.parse(text) as T;
    };

    let entityId = '';
    const problems: string[] = [];
    for (let i = 0; i < times; i++) {
      const problem = await control<{ problemId: string; displayId: string; entityId: string }>('/problems', {
        environmentId: values.environment,
        hostName: values.host,
        kind: 'CPU_SATURATION',
      });
      entityId = problem.entityId;
      problems.push(problem.displayId);
      if (!values.json) print(`opened ${problem.displayId}: CPU saturation on ${values.host} (${problem.problemId})`);
      // Each occurrence is its own problem: close it before the next one opens.
      await sleep(1_500);
      await control(`/problems/${encodeURIComponent(problem.problemId)}/resolve`, {});
    }

    const workflowId = remediationWorkflowId(values.environment, entityId);
    const handle = ctx.client.workflow.getHandle(workflowId);
    const deadline = Date.now() + 120_000;
    let status: RemediationStatus | undefined;
    while (Date.now() < deadline) {
      status = await handle.query(remediationStatusQuery).catch(() => status);
      if (status?.artifact || status?.awaitingApproval || status?.phase === 'NeedsAttention' || status?.outcome) break;
      await sleep(1_000);
    }
    if (values.json) {
      print(JSON.stringify({ workflowId, problems, status }));
    } else if (status?.artifact) {
      const a = status.artifact;
      print(
        `${workflowId}: ${a.created ? 'created' : 'found'} version ${a.artifactId} "${a.name}" of product ${a.productId} (${a.fromType} → ${a.toType}); the problems got a comment`,
      );
    } else if (status?.awaitingApproval) {
      print(`${workflowId} waits for approval: autopilot approve ${workflowId}`);
    } else {
      print(
        `${workflowId}: ${status ? `${status.occurrences.length} of ${status.threshold} occurrences, phase ${status.phase}` : 'no remediation yet'}; see autopilot status ${workflowId}`,
      );
    }
    return status?.artifact || status?.awaitingApproval ? 0 : 4;
  } finally {
    await ctx.close();
  }
}
