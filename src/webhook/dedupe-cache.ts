/**
 * Recently seen notification keys, so a redelivered notification costs no Temporal call. The
 * workflow de-duplicates too (this cache is per process and forgets); this is only the fast path.
 */
export class DedupeCache {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  /** True the first time a key is seen within the TTL. */
  firstSeen(key: string, now = Date.now()): boolean {
    const at = this.seen.get(key);
    if (at !== undefined && now - at < this.ttlMs) return false;
    this.seen.delete(key);
    this.seen.set(key, now);
    if (this.seen.size > this.maxEntries) this.seen.delete(this.seen.keys().next().value!);
    return true;
  }

  forget(key: string): void {
    this.seen.delete(key);
  }
}
