import { shellQuote, type HostExecutor, type HostTarget } from '../../hosts/executor.js';
import { asHostFailure, executorFor, type Executors } from './host-failure.js';

const VERSION = /\b(\d+\.\d+\.\d+\.\d{8}-\d{6})\b/;

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
  const p = shellQuote(installPath);
  const command =
    `if [ -x ${p}/agent/tools/oneagentctl ]; then ${p}/agent/tools/oneagentctl --version; ` +
    `elif [ -r ${p}/agent/installer.version ]; then cat ${p}/agent/installer.version; fi`;
  const result = await executor.withSession(target, (session) =>
    session.run(command, { timeoutMs: 60_000, privileged: true, purpose: 'inspect' }),
  );
  return result.exitCode === 0 ? VERSION.exec(result.stdout)?.[1] : undefined;
}
