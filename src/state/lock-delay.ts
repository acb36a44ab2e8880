// Lock-delay bookkeeping (Consul's state/delay): after a session is invalidated, the keys it
// held cannot be re-acquired by another session until the delay passes. Local to each server,
// set when the invalidation is applied, read with the server's clock.

/** Expiration times of lock-delays by KV key. */
export class LockDelays {
  #until = new Map<string, number>();
  /** Size after the last sweep of expired entries: the next runs once the map has doubled past it. */
  #swept = 0;

  /** Blocks `key` until `now + delayMs`. */
  set(key: string, now: number, delayMs: number): void {
    if (delayMs <= 0) return;
    const until = now + delayMs;
    if (until > (this.#until.get(key) ?? 0)) this.#until.set(key, until);
    // Keys never read again (a deleted namespace's, a lock abandoned) kept their entry: expired
    // ones are swept as the map grows, so it holds about twice the live delays at most.
    if (this.#until.size > 2 * this.#swept + 64) {
      for (const [k, t] of this.#until) if (t <= now) this.#until.delete(k);
      this.#swept = this.#until.size;
    }
  }

  /** Number of entries kept (expired ones included until swept), for tests. */
  get size(): number {
    return this.#until.size;
  }

  /** Milliseconds-epoch until which `key` is delayed (0 when free); drops expired entries. */
  expiration(key: string, now: number): number {
    const until = this.#until.get(key) ?? 0;
    if (until && until <= now) {
      this.#until.delete(key);
      return 0;
    }
    return until;
  }
}
