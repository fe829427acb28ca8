import { shellQuote } from './executor.js';

/**
 * The shell command that prints the version of the OneAgent in `installPath`: `oneagentctl --version`,
 * else the version file the installer leaves; it prints nothing where no agent is installed.
 */
export function installedOneAgentVersionCommand(installPath: string): string {
  const p = shellQuote(installPath);
  return (
    `if [ -x ${p}/agent/tools/oneagentctl ]; then ${p}/agent/tools/oneagentctl --version; ` +
    `elif [ -r ${p}/agent/installer.version ]; then cat ${p}/agent/installer.version; fi`
  );
}

/** Where OneAgent installs unless told otherwise (the installer's own default). */
export const DEFAULT_ONEAGENT_INSTALL_PATH = '/opt/dynatrace/oneagent';
