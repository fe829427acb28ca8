import type { DeploymentDeps } from './deployment.js';
import { createEnrollmentActivities, type EnrollmentDeps } from './enrollment/index.js';
import { createFleetActivities, type FleetDeps } from './fleet/index.js';
import { createFleetScanActivities, type FleetScanDeps } from './fleet-scan/index.js';
import { createMaintenanceActivities, type MaintenanceDeps } from './maintenance/index.js';
import { createOnboardingActivities, type OnboardingDeps } from './onboarding/index.js';
import { createRegistryActivities, type RegistryDeps } from './registry/index.js';
import { createRemediationActivities, type RemediationDeps } from './remediation/index.js';
import { createStandardsActivities, type StandardsDeps } from './standards/index.js';
import { createWorkerInfoActivities, type WorkerInfoDeps } from './worker-info.js';

/** Everything the activities need from the outside world, injected by the worker process or a test. */
export type ActivityDeps = DeploymentDeps &
  WorkerInfoDeps &
  OnboardingDeps &
  EnrollmentDeps &
  FleetDeps &
  FleetScanDeps &
  RemediationDeps &
  MaintenanceDeps &
  RegistryDeps &
  StandardsDeps;

export function createActivities(deps: ActivityDeps) {
  return {
    ...createWorkerInfoActivities(deps),
    ...createOnboardingActivities(deps),
    ...createEnrollmentActivities(deps),
    ...createFleetActivities(deps),
    ...createFleetScanActivities(deps),
    ...createRemediationActivities(deps),
    ...createMaintenanceActivities(deps),
    ...createRegistryActivities(deps),
    ...createStandardsActivities(deps),
  };
}

export type AutopilotActivities = ReturnType<typeof createActivities>;
