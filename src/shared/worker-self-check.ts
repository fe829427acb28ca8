/** The round trip `npm start` and `autopilot doctor` run to prove a worker polls the task queue. */
export const WORKER_SELF_CHECK = 'WorkerSelfCheck';
