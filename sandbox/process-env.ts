/**
 * This process's environment without any Autopilot, Temporal, Dynatrace, AWS or webhook setting, for
 * a child process configured like a deployment: nothing of the caller's own settings leaks in.
 */
export function environmentWithoutSettings(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(TEMPORAL_|AUTOPILOT_|DT_|AWS_|REMEDIATION_|WEBHOOK_)/.test(key)) env[key] = value;
  }
  return env;
}
