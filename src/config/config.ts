import { ConfigError } from './config-error.js';
import { configuration, retiredVariables } from './configuration.js';
import type { Env } from './formats.js';
import { resolveConfig } from './resolve-config.js';
import type { ConfigValue } from './variable.js';

export { ConfigError };
export { decodeKey, type LogLevel } from './configuration.js';
export { projectRoot } from './project-root.js';
export { readSecret } from './read-secret.js';
export type { TemporalTls } from './temporal-tls.js';

/** Everything Autopilot is configured with; its shape and types follow `configuration`. */
export type AutopilotConfig = ConfigValue<typeof configuration>;

/** Reads and checks the configuration; a bad or missing variable throws one `ConfigError` naming it. */
export function loadConfig(env: Env = process.env): AutopilotConfig {
  return resolveConfig(configuration, env, retiredVariables);
}
