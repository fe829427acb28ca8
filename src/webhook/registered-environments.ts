/** Where the receiver learns whether an environment is Autopilot's (the registry in the fleet database). */
export interface EnvironmentLookup {
  has(environmentId: string): Promise<boolean>;
}

export interface RegistryCacheOptions {
  /** How long an answer, yes or no, is reused. */
  ttlMs: number;
  /** Environments remembered at most (memory bound); the oldest answer goes first. */
  maxEntries: number;
}

export const DEFAULT_REGISTRY_CACHE: RegistryCacheOptions = { ttlMs: 5_000, maxEntries: 10_000 };

/**
 * The registry as the receiver asks it: each answer, registered or not, is kept for a short while
 * and concurrent questions about one environment share one lookup, so a burst of notifications, or
 * of requests naming an environment that does not exist, costs one database round trip per id and
 * period rather than one each. A failed lookup is not kept: the next request asks again.
 */
export class RegisteredEnvironments {
  private readonly answers = new Map<string, { registered: boolean; until: number }>();
  private readonly asking = new Map<string, Promise<boolean>>();

  constructor(
    private readonly lookup: EnvironmentLookup,
    private readonly options: RegistryCacheOptions = DEFAULT_REGISTRY_CACHE,
  ) {}

  isRegistered(environmentId: string): Promise<boolean> {
    const known = this.answers.get(environmentId);
    if (known && known.until > Date.now()) return Promise.resolve(known.registered);
    let pending = this.asking.get(environmentId);
    if (!pending) {
      pending = this.lookup
        .has(environmentId)
        .then((registered) => {
          this.remember(environmentId, registered);
          return registered;
        })
        .finally(() => this.asking.delete(environmentId));
      this.asking.set(environmentId, pending);
    }
    return pending;
  }

  private remember(environmentId: string, registered: boolean): void {
    this.answers.delete(environmentId);
    if (this.answers.size >= this.options.maxEntries) this.answers.delete(this.answers.keys().next().value!);
    this.answers.set(environmentId, { registered, until: Date.now() + this.options.ttlMs });
  }
}
