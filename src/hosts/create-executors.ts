import { ApplicationFailure } from '@temporalio/common';
import type { Executors } from '../activities/enrollment/host-failure.js';
import type { AutopilotConfig } from '../config/config.js';
import type { SecretStore } from '../secrets/secret-store.js';
import { HostKeyPolicy } from './host-key-policy.js';
import { DEFAULT_ONEAGENT_INSTALL_PATH } from './installed-oneagent.js';
import { LocalExecutor } from './local-executor.js';
import { SshExecutor } from './ssh-executor.js';
import { FailureType } from '../shared/failure-types.js';

/**
 * The ways this worker reaches hosts. The local executor (installers run on this machine, one folder
 * per host) is the sandbox's default; elsewhere only the operator can choose it, with
 * AUTOPILOT_HOST_EXECUTOR=local, never a workflow's input.
 */
export function createExecutors(config: AutopilotConfig, secrets: SecretStore, mode: { sandbox: boolean }): Executors {
  const { ssh, local, configuredExecutor } = config.hosts;
  const localAllowed = mode.sandbox || configuredExecutor === 'local';
  return {
    default: configuredExecutor ?? (mode.sandbox ? 'local' : 'ssh'),
    localAllowed,
    ...(localAllowed
      ? { local: new LocalExecutor({ rootDir: local.rootDir, simulatedInstallMs: local.simulatedInstallMs }) }
      : {}),
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

/** The warning a worker logs at every start (and the doctor shows) when it runs installers on its own machine outside the sandbox. */
export function localExecutorWarning(config: AutopilotConfig, mode: { sandbox: boolean }): string | undefined {
  if (mode.sandbox || config.hosts.configuredExecutor !== 'local') return undefined;
  return (
    `AUTOPILOT_HOST_EXECUTOR=local: this worker runs OneAgent installers on its own machine (one folder per host in ` +
    `${config.hosts.local.rootDir}) instead of on the hosts; that simulates hosts and is not for production`
  );
}
