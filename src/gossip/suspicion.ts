// Lifeguard suspicion timers: a suspect is declared dead after `max`, shrinking towards `min`
// as k independent peers confirm the suspicion (timeout = max − log(c+1)/log(k+1)·(max−min)).
import type { Clock, TimerHandle } from '../clock.ts';

/** Remaining time before a suspect is declared dead, given c confirmations so far. */
export function remainingSuspicionTime(c: number, k: number, elapsed: number, min: number, max: number): number {
  const frac = k < 1 ? 1 : Math.log(c + 1) / Math.log(k + 1);
  const raw = Math.floor(max - frac * (max - min));
  return Math.max(min, raw) - elapsed;
}

/** One suspect's timer. */
export class Suspicion {
  readonly #clock: Clock;
  readonly #k: number;
  readonly #min: number;
  readonly #max: number;
  readonly #start: number;
  readonly #fire: (confirmations: number) => void;
  readonly #confirmed = new Set<string>();
  #timer: TimerHandle;
  #n = 0;

  /** Starts the timer; `from` (the first accuser) never counts as a confirmation. */
  constructor(clock: Clock, from: string, k: number, min: number, max: number, fire: (confirmations: number) => void) {
    this.#clock = clock;
    this.#k = k;
    this.#min = min;
    this.#max = k < 1 ? min : max;
    this.#fire = fire;
    this.#confirmed.add(from);
    this.#start = clock.now();
    this.#timer = clock.setTimer(this.#max, () => this.#fire(this.#n));
  }

  /** Counts an independent confirmation; true when it was new (and worth re-gossiping). */
  confirm(from: string): boolean {
    if (this.#n >= this.#k || this.#confirmed.has(from)) return false;
    this.#confirmed.add(from);
    this.#n++;
    const remaining = remainingSuspicionTime(this.#n, this.#k, this.#clock.now() - this.#start, this.#min, this.#max);
    this.#timer.cancel();
    this.#timer = this.#clock.setTimer(Math.max(0, remaining), () => this.#fire(this.#n));
    return true;
  }

  /** Stops the timer (refuted, or the member changed state). */
  cancel(): void {
    this.#timer.cancel();
  }
}
