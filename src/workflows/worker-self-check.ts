import { setCurrentDetails } from '@temporalio/workflow';
import type { createWorkerInfoActivities, WorkerDescription } from '../activities/worker-info.js';
import { autopilotActivities } from './shared/activity-proxies.js';

const { describeWorker } = autopilotActivities<ReturnType<typeof createWorkerInfoActivities>>(
  { apiCall: '10 seconds', retryWindow: '1 minute' },
  { maximumRetryInterval: '5 seconds', maximumAttempts: 5 },
);

/**
 * Round trip client → server → worker → activity → server. `npm start` and `autopilot doctor` run it
 * to prove that a worker is polling the configured task queue and can execute activities.
 */
export async function WorkerSelfCheck(): Promise<WorkerDescription> {
  const description = await describeWorker.executeWithOptions(
    { summary: 'Describe the worker that picked up this task' },
    [],
  );
  setCurrentDetails(`Worker **${description.identity}** answered on task queue \`${description.taskQueue}\`.`);
  return description;
}
