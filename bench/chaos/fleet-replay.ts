import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { autopilotDataConverter } from '../../src/codec/data-converter.js';
import { quietBundlerLogger, workflowBundleOptions } from '../../src/workers/workflow-bundle.js';
import type { BenchStack } from '../harness/bench-stack.js';

/**
 * Replays every run of the fleet coordinator against the code, as a worker must when it loses the
 * run from its cache: a history the code cannot replay stalls the fleet the next time that happens.
 */
export async function replayFleetRuns(
  stack: BenchStack,
  taskQueues: string[],
): Promise<{ runs: number; failures: string[] }> {
  const { code } = await bundleWorkflowCode({ ...workflowBundleOptions, logger: quietBundlerLogger });
  const histories = stack.client.workflow
    .list({
      query: `WorkflowType = "EnrollFleet" AND TaskQueue IN (${taskQueues.map((q) => `"${q}"`).join(', ')})`,
    })
    .intoHistories();
  let runs = 0;
  const failures: string[] = [];
  for await (const result of Worker.runReplayHistories(
    { workflowBundle: { code }, dataConverter: autopilotDataConverter(stack.codecKeys) },
    histories,
  )) {
    runs++;
    if (result.error) failures.push(`${result.workflowId} (${result.runId}): ${result.error.message.slice(0, 300)}`);
  }
  return { runs, failures };
}
