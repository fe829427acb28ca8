import { proxyActivities, setCurrentDetails } from '@temporalio/workflow';
import type { createWorkerInfoActivities, WorkerDescription } from '../activities/worker-info.js';

const { describeWorker } = proxyActivities<ReturnType<typeof createWorkerInfoActivities>>({
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '5 seconds', maximumAttempts: 5 },
  summary: 'Describe the worker that picked up this task',
});

/**
 * Round trip client → server → worker → activity → server. `npm start` and `autopilot doctor` run it
 * to prove that a worker is polling the configured task queue and can execute activities.
 */
export async function WorkerSelfCheck(): Promise<WorkerDescription> {
  const description = await describeWorker();
  setCurrentDetails(`Worker **${description.identity}** answered on task queue \`${description.taskQueue}\`.`);
  return description;
}
