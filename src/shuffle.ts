// The one Fisher–Yates shuffle, over an injectable random source so tests and gossip
// simulations are reproducible: DNS answers, prepared query results, gossip probe order and
// targets, and the order WAN servers are tried in.

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
  for (let i = 0; i < n; i++) order[i] = i;
  let x = Math.floor(random() * 0x100000000) >>> 0 || 0x9e3779b9;
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
