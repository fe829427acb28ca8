import type { HostExecutor, HostTarget } from '../../hosts/executor.js';
import { installedOneAgentVersionCommand } from '../../hosts/installed-oneagent.js';
import { parseOneAgentVersion } from '../../shared/oneagent-version.js';
import { asHostFailure, executorFor, type Executors } from './host-failure.js';

export interface HostInspection {
  installPath: string;
  installedVersion?: string;
}

export function createInspectHost(deps: { executors: Executors }) {
  /** Which OneAgent version the host has: `oneagentctl --version`, else the install path's version file. */
  return async function inspectHost(input: {
    executor?: 'ssh' | 'local';
    target: HostTarget;
    installPath?: string;
  }): Promise<HostInspection> {
    const executor = executorFor(deps.executors, input.executor);
    const installPath = executor.installPath(input.target, input.installPath);
    try {
      const installedVersion = await installedOneAgentVersion(executor, input.target, installPath);
      return { installPath, ...(installedVersion ? { installedVersion } : {}) };
    } catch (err) {
      throw asHostFailure(err);
    }
  };
}

/** `oneagentctl --version`, else the install path's version file; undefined without an agent. */
export async function installedOneAgentVersion(
  executor: HostExecutor,
  target: HostTarget,
  installPath: string,
): Promise<string | undefined> {
  const command = installedOneAgentVersionCommand(installPath);
  const result = await executor.withSession(target, (session) =>
    session.run(command, { timeoutMs: 60_000, privileged: true, purpose: 'inspect' }),
  );
  return result.exitCode === 0 ? parseOneAgentVersion(result.stdout) : undefined;
}
