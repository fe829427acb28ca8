export { WorkerSelfCheck } from './worker-self-check.js';
export { OnboardCustomer } from './onboard-customer.js';
export { HostEnrollment } from './host-enrollment.js';
export { EnrollFleet } from './enroll-fleet.js';
export { RemediateCpuSaturation } from './remediate-cpu-saturation.js';
export { RouteProblemNotification } from './route-problem-notification.js';
export { FleetMaintenance } from './fleet-maintenance.js';
