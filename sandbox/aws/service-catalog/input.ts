import { invalidParameters } from './errors.js';

export type JsonObject = Record<string, unknown>;

/** Model constraints of `Id` members (ProductId, ProvisioningArtifactId, …). */
const ID_PATTERN = /^[a-zA-Z0-9_-]*$/;
const ID_MAX_LENGTH = 100;
/** Model constraints of `IdempotencyToken`. */
const TOKEN_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_-]*$/;
const TOKEN_MAX_LENGTH = 128;

interface StringRules {
  maxLength?: number;
  pattern?: RegExp;
}

export const isJsonObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Reads members of a request body. The JS SDK sends whatever the caller set without checking required members,
 * types or patterns, so every violation must come back from the service as InvalidParametersException.
 */
export class InputReader {
  constructor(
    private readonly body: JsonObject,
    private readonly path = '',
  ) {}

  has(name: string): boolean {
    return this.body[name] !== undefined && this.body[name] !== null;
  }

  optionalString(name: string, rules: StringRules = {}): string | undefined {
    const value = this.body[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw invalidParameters(`${this.label(name)} must be a string`);
    if (rules.maxLength !== undefined && value.length > rules.maxLength) {
      throw invalidParameters(`${this.label(name)} must be at most ${rules.maxLength} characters long`);
    }
    if (rules.pattern !== undefined && !rules.pattern.test(value)) {
      throw invalidParameters(`${this.label(name)} must satisfy the pattern ${String(rules.pattern)}`);
    }
    return value;
  }

  requiredString(name: string, rules: StringRules = {}): string {
    const value = this.optionalString(name, rules);
    if (value === undefined || value === '') throw invalidParameters(`${this.label(name)} is required`);
    return value;
  }

  optionalId(name: string): string | undefined {
    const value = this.optionalString(name, { maxLength: ID_MAX_LENGTH, pattern: ID_PATTERN });
    if (value === '') throw invalidParameters(`${this.label(name)} must not be empty`);
    return value;
  }

  requiredId(name: string): string {
    return this.requiredString(name, { maxLength: ID_MAX_LENGTH, pattern: ID_PATTERN });
  }

  idempotencyToken(name = 'IdempotencyToken'): string {
    return this.requiredString(name, { maxLength: TOKEN_MAX_LENGTH, pattern: TOKEN_PATTERN });
  }

  optionalBoolean(name: string): boolean | undefined {
    const value = this.body[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'boolean') throw invalidParameters(`${this.label(name)} must be a boolean`);
    return value;
  }

  optionalEnum<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const value = this.optionalString(name);
    if (value === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(value)) {
      throw invalidParameters(`${this.label(name)} must be one of ${allowed.join(', ')}`);
    }
    return value as T;
  }

  optionalObject(name: string): InputReader | undefined {
    const value = this.body[name];
    if (value === undefined || value === null) return undefined;
    if (!isJsonObject(value)) throw invalidParameters(`${this.label(name)} must be an object`);
    return new InputReader(value, this.label(name));
  }

  requiredObject(name: string): InputReader {
    const reader = this.optionalObject(name);
    if (reader === undefined) throw invalidParameters(`${this.label(name)} is required`);
    return reader;
  }

  /** A `map<string, string>` member such as `Info`. */
  requiredStringMap(name: string): Record<string, string> {
    const value = this.body[name];
    if (!isJsonObject(value)) throw invalidParameters(`${this.label(name)} is required and must be an object`);
    const map: Record<string, string> = {};
    for (const [key, item] of Object.entries(value)) {
      if (typeof item !== 'string') throw invalidParameters(`${this.label(name)}.${key} must be a string`);
      map[key] = item;
    }
    return map;
  }

  /** A list of `{Key, Value}` tags. */
  optionalTags(name: string): { Key: string; Value: string }[] {
    const value = this.body[name];
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) throw invalidParameters(`${this.label(name)} must be a list`);
    if (value.length > 50) throw invalidParameters(`${this.label(name)} must hold at most 50 tags`);
    return value.map((item, index) => {
      if (!isJsonObject(item)) throw invalidParameters(`${this.label(name)}[${index}] must be an object`);
      const tag = new InputReader(item, `${this.label(name)}[${index}]`);
      return {
        Key: tag.requiredString('Key', { maxLength: 128 }),
        Value: tag.requiredString('Value', { maxLength: 256 }),
      };
    });
  }

  private label(name: string): string {
    return this.path === '' ? name : `${this.path}.${name}`;
  }
}
