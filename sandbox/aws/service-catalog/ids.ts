import { randomBytes } from 'node:crypto';

/** Prefixes of the Service Catalog identifiers the emulator hands out. */
export type IdPrefix = 'prod' | 'prodview' | 'pa' | 'pp' | 'port' | 'rec';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const SUFFIX_LENGTH = 13;
// The largest multiple of 36 below 256: bytes above it are dropped so every character is equally likely.
const UNBIASED_LIMIT = 252;

/** A new id shaped like AWS's: prefix, dash, 13 random lowercase alphanumerics (e.g. `pa-pcz347abcdcfm`). */
export function newResourceId(prefix: IdPrefix): string {
  let suffix = '';
  while (suffix.length < SUFFIX_LENGTH) {
    for (const byte of randomBytes(SUFFIX_LENGTH * 2)) {
      if (byte < UNBIASED_LIMIT && suffix.length < SUFFIX_LENGTH) suffix += ALPHABET[byte % ALPHABET.length];
    }
  }
  return `${prefix}-${suffix}`;
}
