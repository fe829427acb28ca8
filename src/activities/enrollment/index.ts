import type { HostLookupBatcher } from '../../dynatrace/host-lookup-batcher.js';
import type { InstallSlots } from '../../fleet/install-slots.js';
import type { InstallerStore } from '../../installers/installer-store.js';
import type { InstallerTrust } from '../../installers/installer-trust.js';
import type { DynatraceAccess } from '../dynatrace-access.js';
import { createEnvironmentOnboardingActivities } from './environment-onboarding.js';
import { executorFor, type Executors } from './host-failure.js';
import { createHostReportingActivities } from './host-reporting.js';
import { createInspectHost } from './inspect-host.js';
import { createInstallOneAgent } from './install-oneagent.js';

export interface EnrollmentDeps {
  executors: Executors;
  installers: InstallerStore;
  installerTrust: InstallerTrust;
  dynatrace: DynatraceAccess;
  hostLookup: HostLookupBatcher;
  reportingPollMs: number;
  installSlots: InstallSlots;
}

export function createEnrollmentActivities(deps: EnrollmentDeps) {
  return {
    ...createEnvironmentOnboardingActivities(),
    /**
     * Whether the workers of this queue may reach hosts the way a fleet asks, answered before any
     * environment is onboarded or host enrollment started: a refused executor fails the fleet at once.
     */
    async checkHostExecutor(input: { executor?: 'ssh' | 'local' }): Promise<void> {
      executorFor(deps.executors, input.executor);
    },
    inspectHost: createInspectHost(deps),
    installOneAgent: createInstallOneAgent(deps),
    ...createHostReportingActivities(deps),
  };
}
