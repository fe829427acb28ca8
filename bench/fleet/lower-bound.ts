export interface LowerBoundInput {
  hosts: number;
  environments: number;
  /** Hosts installing at once, overall and per environment. */
  globalConcurrency: number;
  perEnvironmentConcurrency: number;
  installMs: number;
  /** Mean latency of one Dynatrace API call. */
  apiLatencyMs: number;
}

export interface LowerBound {
  seconds: number;
  /** Which limit sets it. */
  limitedBy: 'global install slots' | 'per-environment install slots';
  explanation: string;
}

/**
 * The fastest any system could enroll the fleet under the same limits. Before an environment's
 * first install, three calls must happen one after another (create the environment, mint an
 * installer token, download the installer); after the last install, one call confirms the host
 * reports. In between, installs run at most `globalConcurrency` at a time overall and
 * `perEnvironmentConcurrency` at a time within one environment. Everything else (workflow
 * bookkeeping, user groups, notifications) is assumed free, so no real system reaches it.
 */
export function fleetLowerBound(input: LowerBoundInput): LowerBound {
  const { hosts, environments, globalConcurrency, perEnvironmentConcurrency, installMs, apiLatencyMs } = input;
  const before = 3 * apiLatencyMs;
  const after = apiLatencyMs;
  const globalMs = Math.ceil(hosts / globalConcurrency) * installMs;
  const largestEnvironment = Math.ceil(hosts / environments);
  const perEnvironmentMs = Math.ceil(largestEnvironment / perEnvironmentConcurrency) * installMs;
  const limitedBy = globalMs >= perEnvironmentMs ? 'global install slots' : 'per-environment install slots';
  const seconds = (before + Math.max(globalMs, perEnvironmentMs) + after) / 1000;
  return {
    seconds,
    limitedBy,
    explanation:
      `${hosts} installs of ${installMs / 1000} s with ${globalConcurrency} at a time ` +
      `(${Math.ceil(hosts / globalConcurrency)} waves = ${globalMs / 1000} s), at most ${perEnvironmentConcurrency} ` +
      `per environment (${largestEnvironment} hosts in the largest = ${perEnvironmentMs / 1000} s), plus 3 calls ` +
      `before and 1 after at ${apiLatencyMs} ms`,
  };
}
