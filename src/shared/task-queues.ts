/**
 * The queue fleet coordinators run on, next to a worker's task queue. A fleet's workflow task
 * handles hundreds of hosts' news at once; on the hosts' own queue it waited behind thousands of
 * host tasks until the server gave up on the worker's sticky queue, sent it to another poller with
 * the full history and, once the buffered news overflowed, failed it. A queue of their own, polled
 * by a small worker of its own, keeps coordinators answering however busy the hosts are.
 */
export const fleetTaskQueue = (taskQueue: string) => `${taskQueue}-fleets`;
