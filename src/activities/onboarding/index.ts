import type { SecretSource } from '../../config/secret.js';
import type { InstallerStore } from '../../installers/installer-store.js';
import type { InstallerTrust } from '../../installers/installer-trust.js';
import type { SecretStore } from '../../secrets/secret-store.js';
import type { WebhookKeyMode } from '../../webhook/webhook-keys.js';
import type { DynatraceAccess } from '../dynatrace-access.js';
import { createEnsureEnvironment } from './ensure-environment.js';
import { createEnsureEnvironmentToken } from './ensure-environment-token.js';
import { createEnsureInstaller } from './ensure-installer.js';
import { createEnsureProblemNotifications } from './ensure-problem-notifications.js';
import { createEnsureTokenManagementToken } from './ensure-token-management-token.js';
import { createEnsureUserGroups } from './ensure-user-groups.js';

export interface OnboardingDeps {
  dynatrace: DynatraceAccess;
  secrets: SecretStore;
  installers: InstallerStore;
  /** What an installer must prove before it is stored or run (see installers/installer-trust.ts). */
  installerTrust: InstallerTrust;
  /** Where environments send problem notifications, and the master key (in `keyHeader`, per `keyMode`) the receiver expects. */
  webhook: {
    publicUrl: string | undefined;
    apiKey: SecretSource | undefined;
    keyHeader?: string;
    keyMode?: WebhookKeyMode;
  };
}

export function createOnboardingActivities(deps: OnboardingDeps) {
  return {
    ensureEnvironment: createEnsureEnvironment(deps),
    ensureTokenManagementToken: createEnsureTokenManagementToken(deps),
    ensureUserGroups: createEnsureUserGroups(deps),
    ensureEnvironmentToken: createEnsureEnvironmentToken(deps),
    ensureInstaller: createEnsureInstaller(deps),
    ensureProblemNotifications: createEnsureProblemNotifications(deps),
  };
}
