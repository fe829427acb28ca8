import { readFileSync, statSync } from 'node:fs';
import { inspect } from 'node:util';

/** Anything that yields a secret when asked, and nothing when printed. */
export interface SecretSource {
  reveal(): string;
  /** Always `[redacted]`. */
  toString(): string;
}

/** What every secret prints as, however it is logged, serialised or interpolated. */
abstract class Redacted {
  toString(): string {
    return '[redacted]';
  }

  toJSON(): string {
    return '[redacted]';
  }
}

/**
 * A secret value that refuses to be printed: logging, JSON-serialising or interpolating it yields
 * `[redacted]`. Only `reveal()` hands out the value, at the one place that sends it.
 */
export class Secret extends Redacted implements SecretSource {
  readonly #value: string;

  constructor(value: string) {
    super();
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  [inspect.custom](): string {
    return 'Secret([redacted])';
  }
}

/**
 * A secret kept in a file (`NAME_FILE`, e.g. a mounted Kubernetes secret) and re-read when the file
 * changes, so an operator can rotate a token without restarting workers.
 */
export class FileSecret extends Redacted implements SecretSource {
  #value: string;
  #mtimeMs: number;

  constructor(
    private readonly file: string,
    initial: string,
  ) {
    super();
    this.#value = initial;
    this.#mtimeMs = statSync(file).mtimeMs;
  }

  reveal(): string {
    try {
      const { mtimeMs } = statSync(this.file);
      if (mtimeMs !== this.#mtimeMs) {
        const value = readFileSync(this.file, 'utf8').replace(/\r?\n$/, '');
        if (value.trim() !== '') {
          this.#value = value;
          this.#mtimeMs = mtimeMs;
        }
      }
    } catch {
      // A file being replaced can vanish for a moment; keep the last good value.
    }
    return this.#value;
  }

  [inspect.custom](): string {
    return `FileSecret(${this.file})`;
  }
}
