// The one Fisher–Yates shuffle, over an injectable random source so tests and gossip
// simulations are reproducible: DNS answers, prepared query results, gossip probe order and
// targets, and the order WAN servers are tried in.
import { randomFillSync } from 'node:crypto';

/**
 * Shuffles `xs` in place and returns it. One draw of `random` seeds a xorshift32 sequence for
 * the swaps: a fresh double per swap costs an allocation each on the DNS hot path.
 */
export function shuffle<T>(xs: T[], random: () => number): T[] {
  let x = Math.floor(random() * 0x100000000) >>> 0 || 0x9e3779b9;
  for (let i = xs.length - 1; i > 0; i--) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const j = (x >>> 0) % (i + 1);
    const t = xs[i];
    xs[i] = xs[j];
    xs[j] = t;
  }
  return xs;
}

/**
 * Puts a shuffled order of the indexes 0..n-1 into the first `n` of `order`: the permutation
 * shuffle() makes of [0, 1, …, n-1] for the same draw of `random`, without an array of numbers
 * (the DNS hot path's per-query order).
 */
export function shuffleIndexes(order: Int32Array, n: number, random: () => number): void {
  permute(order, n, Math.floor(random() * 0x100000000) >>> 0 || 0x9e3779b9);
}

/**
 * A xorshift128 state for shuffleIndexesFrom (four 32-bit words, not all zero), seeded from the
 * system's CSPRNG once.
 */
export function shuffleState(): Int32Array {
  const state = randomFillSync(new Int32Array(4));
  if ((state[0] | state[1] | state[2] | state[3]) === 0) state[0] = 1;
  return state;
}

/**
 * shuffleIndexes with the draw taken from a xorshift128 `state` (shuffleState) advanced once, so
 * no number leaves the compiled code as a boxed double (Math.random's draw is one heap number per
 * call); as Consul shuffles with a non-cryptographic generator (Go's math/rand).
 */
export function shuffleIndexesFrom(order: Int32Array, n: number, state: Int32Array): void {
  let t = state[3];
  const s = state[0];
  state[3] = state[2];
  state[2] = state[1];
  state[1] = s;
  t ^= t << 11;
  t ^= t >>> 8;
  state[0] = t ^ s ^ (s >>> 19);
  permute(order, n, state[0] >>> 0 || 0x9e3779b9);
}

/** shuffle()'s swaps seeded by the 32-bit `seed` (not 0), over the identity order. */
function permute(order: Int32Array, n: number, seed: number): void {
  for (let i = 0; i < n; i++) order[i] = i;
  let x = seed;
  for (let i = n - 1; i > 0; i--) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const j = (x >>> 0) % (i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
}
