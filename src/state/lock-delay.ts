// Lock-delay bookkeeping (Consul's state/delay): after a session is invalidated, the keys it
// held cannot be re-acquired by another session until the delay passes. Local to each server,
// set when the invalidation is applied, read with the server's clock.

/** Expiration times of lock-delays by KV key. */
export class LockDelays {
  #until = new Map<string, number>();

  /** Blocks `key` until `now + delayMs`. */
  set(key: string, now: number, delayMs: number): void {
    if (delayMs <= 0) return;
    const until = now + delayMs;
    if (until > (this.#until.get(key) ?? 0)) this.#until.set(key, until);
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
