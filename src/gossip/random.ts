// Random choices for gossip (probe order, indirect probe relays, gossip targets) through an
// injectable random source, so simulations are reproducible.
import { shuffle } from '../shuffle.ts';

/** Picks up to `k` distinct items accepted by `keep`, uniformly at random. */
export function pickRandom<T>(items: T[], k: number, random: () => number, keep: (t: T) => boolean): T[] {
  return shuffle(items.filter(keep), random).slice(0, k);
}

/** A small seeded generator (mulberry32) for deterministic tests. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit seed from a string (FNV-1a), for per-node random streams that stay reproducible. */
export function stringSeed(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}
