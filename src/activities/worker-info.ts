import { activityInfo } from '@temporalio/activity';

export interface WorkerDescription {
  identity: string;
  taskQueue: string;
  version: string;
  nodeVersion: string;
  startedAt: string;
}

export interface WorkerInfoDeps {
  identity: string;
  version: string;
  startedAt: Date;
}

export function createWorkerInfoActivities(deps: WorkerInfoDeps) {
  return {
    async describeWorker(): Promise<WorkerDescription> {
      return {
        identity: deps.identity,
        taskQueue: activityInfo().taskQueue,
        version: deps.version,
        nodeVersion: process.version,
        startedAt: deps.startedAt.toISOString(),
      };
    },
  };
}
