import { readFileSync } from 'node:fs';
import { ConfigError } from './config-error.js';
import { blankToUndefined, type Env } from './formats.js';
import { FileSecret, Secret, type SecretSource } from './secret.js';

/** A secret as read, before it becomes a `SecretSource` or a key. */
export interface SecretValue {
  text: string;
  /** Where it came from, for error messages: `NAME`, or `NAME_FILE` when read from a file. */
  variable: string;
  file: string | undefined;
}

/**
 * Reads a secret from `NAME` or from the file named by `NAME_FILE` (Docker/Kubernetes secrets).
 * The value is never part of an error message.
 */
export function readSecret(env: Env, name: string): string | undefined {
  const direct = blankToUndefined(env[name]) as string | undefined;
  const file = blankToUndefined(env[`${name}_FILE`]) as string | undefined;
  if (direct !== undefined && file !== undefined) {
    throw new ConfigError(name, `and ${name}_FILE are both set; set only one of them`);
  }
  if (file === undefined) return direct;
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError(`${name}_FILE`, `names a file that cannot be read: ${file} (${code})`);
  }
  const value = content.replace(/\r?\n$/, '');
  if (value.trim() === '') throw new ConfigError(`${name}_FILE`, `names an empty file: ${file}`);
  return value;
}

export function readSecretValue(env: Env, name: string): SecretValue | undefined {
  const text = readSecret(env, name);
  if (text === undefined) return undefined;
  const file = blankToUndefined(env[`${name}_FILE`]) as string | undefined;
  return { text, variable: file === undefined ? name : `${name}_FILE`, file };
}

/** A secret from a file is re-read when the file changes (rotation without restarts). */
export function secretSource(value: SecretValue): SecretSource {
  return value.file ? new FileSecret(value.file, value.text) : new Secret(value.text);
}
