import { invalidParameters } from './errors.js';

interface Entry {
  fingerprint: string;
  /** Settled once the first request has finished; concurrent duplicates await it. */
  response: Promise<unknown>;
}

/**
 * Remembers idempotency tokens per operation.
 *
 * AWS documents only "if multiple requests differ only by the idempotency token, the same response is returned";
 * how long a token is remembered and what a reuse with other parameters does are not documented. The emulator:
 * - remembers a token for its whole lifetime (until reset);
 * - same token + same parameters → the first response again, verbatim (including its `Status: CREATING`), and no
 *   new resource — also while the first request is still running (the SDK's own retries reuse the token);
 * - same token + different parameters → InvalidParametersException, as most AWS APIs do: silently answering with a
 *   resource the caller did not ask for would hide a bug in how the caller derives its tokens;
 * - a request that failed does not consume its token, so a corrected retry with the same token can succeed.
 */
export class IdempotencyLedger {
  private readonly entries = new Map<string, Entry>();
  replays = 0;

  async run<T>(operation: string, token: string, fingerprint: string, execute: () => Promise<T>): Promise<T> {
    const key = `${operation}\u0000${token}`;
    const existing = this.entries.get(key);
    if (existing !== undefined) {
      if (existing.fingerprint !== fingerprint) {
        throw invalidParameters(
          `The idempotency token ${token} was already used for a ${operation} request with different parameters`,
        );
      }
      const replayed = (await existing.response) as T;
      this.replays++;
      return structuredClone(replayed);
    }
    const response = execute();
    const entry: Entry = { fingerprint, response };
    this.entries.set(key, entry);
    try {
      return structuredClone(await response);
    } catch (error) {
      if (this.entries.get(key) === entry) this.entries.delete(key);
      throw error;
    }
  }

  clear(): void {
    this.entries.clear();
    this.replays = 0;
  }
}

/** A stable serialization (sorted keys) of a request's parameters, to compare two requests. */
export function fingerprint(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    typeof item === 'object' && item !== null && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : item,
  );
}
