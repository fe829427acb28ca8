export { WorkerSelfCheck } from './worker-self-check.js';
export { OnboardCustomer } from './onboard-customer.js';
