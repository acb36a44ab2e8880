// Lifeguard local health awareness: a score that rises when this node misses acks or has to
// refute suspicion, and stretches its probe timeouts so a slow node does not accuse others.

/** The local health score, 0 (healthy) to max-1. */
export class Awareness {
  #score = 0;
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  /** Adds `delta`, clamped to [0, max-1]. */
  apply(delta: number): void {
    this.#score = Math.min(this.#max - 1, Math.max(0, this.#score + delta));
  }

  /** The current score. */
  get score(): number {
    return this.#score;
  }

  /** Scales a timeout by (score + 1). */
  scale(ms: number): number {
    return ms * (this.#score + 1);
  }
}
