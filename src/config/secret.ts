import { inspect } from 'node:util';

/**
 * A secret value that refuses to be printed: logging, JSON-serialising or interpolating it yields
 * `[redacted]`. Only `reveal()` hands out the value, at the one place that sends it.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return '[redacted]';
  }

  toJSON(): string {
    return '[redacted]';
  }

  [inspect.custom](): string {
    return 'Secret([redacted])';
  }
}
