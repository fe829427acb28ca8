import { ConfigError } from '../config/config-error.js';

/** One AES-256 key and the id written next to every payload it encrypts. */
export interface CodecKey {
  id: string;
  key: Buffer;
}

/**
 * The payload keys: the first encrypts, all of them decrypt, so a new key can become primary while
 * histories written under the old one stay readable until they are gone.
 */
export class CodecKeyring {
  readonly primary: CodecKey;
  readonly #byId: Map<string, CodecKey>;

  constructor(keys: CodecKey[]) {
    if (keys.length === 0) throw new Error('a codec keyring needs at least one key');
    this.primary = keys[0]!;
    this.#byId = new Map(keys.map((k) => [k.id, k]));
  }

  get ids(): string[] {
    return [...this.#byId.keys()];
  }

  find(id: string): CodecKey | undefined {
    return this.#byId.get(id);
  }

  toString(): string {
    return `CodecKeyring(${this.ids.join(', ')})`;
  }

  toJSON(): string {
    return this.toString();
  }
}

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * `id:key` entries separated by commas or newlines (the `_FILE` form keeps one per line), first
 * entry primary; keys are 32 bytes in base64 or hex. Errors name the variable and the entry's
 * position, never the key material.
 */
export function parseCodecKeys(text: string, variable: string): CodecKeyring {
  const entries = text
    .split(/[\n,]/)
    .map((e) => e.trim())
    .filter((e) => e !== '' && !e.startsWith('#'));
  if (entries.length === 0) throw new ConfigError(variable, 'holds no key; expected id:key entries');
  const keys: CodecKey[] = [];
  entries.forEach((entry, index) => {
    const position = `entry ${index + 1}`;
    const colon = entry.indexOf(':');
    if (colon < 0)
      throw new ConfigError(variable, `${position} must be id:key (e.g. 2026-11:<openssl rand -base64 32>)`);
    const id = entry.slice(0, colon).trim();
    if (!KEY_ID.test(id)) {
      throw new ConfigError(variable, `${position} has an invalid key id; use 1-64 of A-Z a-z 0-9 . _ -`);
    }
    const key = decodeKeyBytes(entry.slice(colon + 1).trim());
    if (!key) throw new ConfigError(variable, `key ${id} must be 32 bytes, base64 or hex encoded`);
    if (keys.some((k) => k.id === id)) throw new ConfigError(variable, `key id ${id} appears twice`);
    keys.push({ id, key });
  });
  return new CodecKeyring(keys);
}

function decodeKeyBytes(text: string): Buffer | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/]{43}=?$/.test(text) || /^[A-Za-z0-9_-]{43}$/.test(text)) {
    const bytes = Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64');
    return bytes.length === 32 ? bytes : undefined;
  }
  return undefined;
}
