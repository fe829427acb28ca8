import type { AutopilotConfig } from '../config/config.js';
import { localExecutorWarning } from '../hosts/create-executors.js';
import { installerTrustOf, installerTrustWarning } from '../installers/installer-trust.js';

/**
 * What a worker says loudly at every start, and `autopilot doctor` repeats: outside the sandbox,
 * installers that would run without a verified signature (or would all be refused), and installers
 * that would run on the worker's own machine.
 */
export function startupWarnings(config: AutopilotConfig, mode: { sandbox: boolean }): string[] {
  const trust = installerTrustOf({
    caFile: config.dynatrace.installerCaFile,
    signature: config.dynatrace.installerSignature,
    sandbox: mode.sandbox,
  });
  return [installerTrustWarning(trust), localExecutorWarning(config, mode)].filter((w): w is string => Boolean(w));
}
