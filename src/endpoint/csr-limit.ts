// Consul's CSR limits on leaf signing: csr_max_per_second (50 by default; a token bucket with a
// burst of one) or, when that is 0, csr_max_concurrent signings at once. A request waits up to
// 500 ms for its turn, then fails with `Rate limit reached, try again later`.
import type { Clock } from '../clock.ts';
import { RateLimitedError } from '../errors.ts';

/** Consul's csrLimitWait. */
export const CSR_LIMIT_WAIT_MS = 500;
/** Consul's default csr_max_per_second. */
export const DEFAULT_CSR_MAX_PER_SECOND = 50;

/** Admits CSR signings under the configured limit. */
export class CsrLimiter {
  readonly #clock: Pick<Clock, 'now' | 'setTimer'>;
  readonly #perSecond: number;
  readonly #maxConcurrent: number;
  #tokens = 1;
  #last: number;
  #running = 0;
  #queue: (() => void)[] = [];

  /** `perSecond` > 0 limits the rate; else `maxConcurrent` > 0 limits concurrency; else no limit. */
  constructor(clock: Pick<Clock, 'now' | 'setTimer'>, perSecond: number, maxConcurrent: number) {
    this.#clock = clock;
    this.#perSecond = perSecond;
    this.#maxConcurrent = maxConcurrent;
    this.#last = clock.now();
  }

  /** Runs `sign` when admitted; throws RateLimitedError when its turn is more than 500 ms away. */
  async run<T>(sign: () => Promise<T> | T): Promise<T> {
    if (this.#perSecond > 0) {
      await this.#sleep(this.#reserve());
      return sign();
    }
    if (this.#maxConcurrent <= 0) return sign();
    await this.#acquire();
    try {
      return await sign();
    } finally {
      this.#release();
    }
  }

  // golang.org/x/time/rate's Reserve with a deadline: the bucket may go negative by the waits it
  // promised; a wait past the deadline is not taken.
  #reserve(): number {
    const now = this.#clock.now();
    this.#tokens = Math.min(1, this.#tokens + ((now - this.#last) * this.#perSecond) / 1000);
    this.#last = now;
    const wait = this.#tokens >= 1 ? 0 : ((1 - this.#tokens) * 1000) / this.#perSecond;
    if (wait > CSR_LIMIT_WAIT_MS) throw new RateLimitedError();
    this.#tokens -= 1;
    return wait;
  }

  #sleep(ms: number): Promise<void> {
    return ms <= 0 ? Promise.resolve() : new Promise((resolve) => this.#clock.setTimer(ms, resolve));
  }

  #acquire(): Promise<void> {
    if (this.#running < this.#maxConcurrent) {
      this.#running++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const admit = (): void => {
        timer.cancel();
        this.#running++;
        resolve();
      };
      const timer = this.#clock.setTimer(CSR_LIMIT_WAIT_MS, () => {
        this.#queue = this.#queue.filter((q) => q !== admit);
        reject(new RateLimitedError());
      });
      this.#queue.push(admit);
    });
  }

  #release(): void {
    this.#running--;
    this.#queue.shift()?.();
  }
}
