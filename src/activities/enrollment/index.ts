import type { HostLookupBatcher } from '../../dynatrace/host-lookup-batcher.js';
import type { InstallSlots } from '../../fleet/install-slots.js';
import type { InstallerStore } from '../../installers/installer-store.js';
import type { DynatraceAccess } from '../dynatrace-access.js';
import { createEnvironmentOnboardingActivities } from './environment-onboarding.js';
import type { Executors } from './host-failure.js';
import { createHostReportingActivities } from './host-reporting.js';
import { createInspectHost } from './inspect-host.js';
import { createInstallOneAgent } from './install-oneagent.js';

export interface EnrollmentDeps {
  executors: Executors;
  installers: InstallerStore;
  dynatrace: DynatraceAccess;
  hostLookup: HostLookupBatcher;
  reportingPollMs: number;
  installSlots: InstallSlots;
}

export function createEnrollmentActivities(deps: EnrollmentDeps) {
  return {
    ...createEnvironmentOnboardingActivities(),
    inspectHost: createInspectHost(deps),
    installOneAgent: createInstallOneAgent(deps),
    ...createHostReportingActivities(deps),
  };
}
