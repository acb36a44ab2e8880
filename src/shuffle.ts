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
