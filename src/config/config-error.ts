/**
 * Thrown for a missing or malformed environment variable. Its message is one line that names the
 * variable and says what is expected, so entry points can print it as is and exit.
 */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    expectation: string,
  ) {
    super(`Invalid configuration: ${variable} ${expectation}`);
    this.name = 'ConfigError';
  }
}
