// The one CSR limit a server applies to every leaf it signs (Consul's server-wide
// connectSignRateLimiter): AutoEncrypt.Sign and ConnectCA.Sign share it, re-made when the CA
// configuration's limits change. The limiter module is imported on the first signing (issue #9).
import type { Clock } from '../clock.ts';
import type { CASettings } from '../connect/index.ts';
import type { CsrLimiter } from './csr-limit.ts';

/** Admits signings under the CA configuration's csr_max_per_second / csr_max_concurrent. */
export class CsrGate {
  readonly #clock: Pick<Clock, 'now' | 'setTimer'>;
  /** Made on the first signing; it starts with a full bucket (a burst of one), as when the server started. */
  #limit: CsrLimiter | undefined;
  /** The [per second, concurrent] limits #limit was made with. */
  #limits: number[] = [];

  constructor(clock: Pick<Clock, 'now' | 'setTimer'>) {
    this.#clock = clock;
  }

  /** Runs `sign` when the limit admits it; throws RateLimitedError as Consul's ErrRateLimited. */
  async run<T>(ca: CASettings, sign: () => Promise<T> | T): Promise<T> {
    const { CsrLimiter } = await import('./csr-limit.ts');
    // A changed configuration brings new limits (Consul re-reads them per request too).
    const limits = ca.ok ? [ca.config.csrMaxPerSecond, ca.config.csrMaxConcurrent] : [0, 0];
    if (!this.#limit || this.#limits[0] !== limits[0] || this.#limits[1] !== limits[1]) {
      this.#limit = new CsrLimiter(this.#clock, limits[0], limits[1]);
      this.#limits = limits;
    }
    return this.#limit.run(sign);
  }
}
