import { ApplicationFailure } from '@temporalio/common';
import type { Executors } from '../activities/enrollment/host-failure.js';
import type { AutopilotConfig } from '../config/config.js';
import type { SecretStore } from '../secrets/secret-store.js';
import { HostKeyPolicy } from './host-key-policy.js';
import { DEFAULT_ONEAGENT_INSTALL_PATH } from './installed-oneagent.js';
import { LocalExecutor } from './local-executor.js';
import { SshExecutor } from './ssh-executor.js';
import { FailureType } from '../shared/failure-types.js';

export function createExecutors(config: AutopilotConfig, secrets: SecretStore): Executors {
  const { ssh, local, defaultExecutor } = config.hosts;
  return {
    default: defaultExecutor,
    local: new LocalExecutor({ rootDir: local.rootDir, simulatedInstallMs: local.simulatedInstallMs }),
    ssh: new SshExecutor({
      defaultUser: ssh.user,
      hostKeys: new HostKeyPolicy(ssh.hostKeyPolicy, ssh.knownHostsFile),
      connectTimeoutMs: ssh.connectTimeoutMs,
      stagingDir: ssh.stagingDir,
      defaultInstallPath: DEFAULT_ONEAGENT_INSTALL_PATH,
      // A host may name its own key (kept in the secret store); otherwise the worker's default key.
      privateKey: async (keyRef) => {
        if (keyRef) {
          const stored = await secrets.get(keyRef);
          if (!stored)
            throw ApplicationFailure.nonRetryable(
              `no SSH key ${keyRef} in the secret store`,
              FailureType.MissingSecret,
            );
          return stored.value;
        }
        if (!ssh.privateKey) {
          throw ApplicationFailure.nonRetryable(
            'no SSH private key configured for this worker (AUTOPILOT_SSH_PRIVATE_KEY_FILE)',
            FailureType.MissingSecret,
          );
        }
        return ssh.privateKey.reveal();
      },
    }),
  };
}
