export { WorkerSelfCheck } from './worker-self-check.js';
