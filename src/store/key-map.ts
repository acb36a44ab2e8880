// The store engine's current keys: a B+tree in key order, except for the keys under one hashed
// prefix (the catalog's), which are written at the highest rates and ranged only as part of a wider
// range; those live in a hash map and are sorted when a range reaches them.
import { sortedMap, type BTree } from '../sorted-map.ts';

/**
 * An ordered map from string keys with prefix iteration. Keys under `hashed` cost a hash lookup
 * to read or write instead of a B+tree descent (≈ 20 string compares at 200k keys); a range that
 * reaches them sorts them once, and the order is kept until one is added or removed.
 */
export class KeyMap<V> {
  readonly #ordered: BTree<string, V> = sortedMap<string, V>();
  readonly #hashed = new Map<string, V>();
  readonly #prefix: string;
  /** The hashed keys in order, while none has been added or removed since it was built. */
  #sorted: string[] | null = null;

  /** `hashed`: the prefix whose keys are hashed ('' hashes none). */
  constructor(hashed: string) {
    this.#prefix = hashed;
  }

  #isHashed(key: string): boolean {
    return this.#prefix !== '' && key.startsWith(this.#prefix);
  }

  /** How many keys the map holds. */
  get size(): number {
    return this.#ordered.size + this.#hashed.size;
  }

  /** The value of `key`, if present. */
  get(key: string): V | undefined {
    return this.#isHashed(key) ? this.#hashed.get(key) : this.#ordered.get(key);
  }

  /** Sets the value of `key` (of an absent key only, when `overwrite` is false); true when the key is new. */
  set(key: string, value: V, overwrite = true): boolean {
    if (!this.#isHashed(key)) return this.#ordered.set(key, value, overwrite);
    const hashed = this.#hashed;
    if (!overwrite && hashed.has(key)) return false;
    const size = hashed.size;
    hashed.set(key, value);
    if (hashed.size === size) return false;
    this.#sorted = null;
    return true;
  }

  /** Removes `key`; true when it was present. */
  delete(key: string): boolean {
    if (!this.#isHashed(key)) return this.#ordered.delete(key);
    if (!this.#hashed.delete(key)) return false;
    this.#sorted = null;
    return true;
  }

  /**
   * Calls `fn` for every key starting with `prefix` and its value, in key order; stops on `false`.
   * The hashed keys all share their prefix, so in key order they are one run among the others.
   */
  forPrefix(prefix: string, fn: (key: string, value: V) => boolean | void): void {
    const hp = this.#prefix;
    const reaches = hp !== '' && this.#hashed.size > 0 && (hp.startsWith(prefix) || prefix.startsWith(hp));
    let pending = reaches;
    for (const [k, v] of this.#ordered.entries(prefix)) {
      if (!k.startsWith(prefix)) break;
      if (pending && k > hp) {
        pending = false;
        if (!this.#hashedRun(prefix, fn)) return;
      }
      if (fn(k, v) === false) return;
    }
    if (pending) this.#hashedRun(prefix, fn);
  }

  /** The hashed keys starting with `prefix`, in order; false when `fn` stopped. */
  #hashedRun(prefix: string, fn: (key: string, value: V) => boolean | void): boolean {
    // Code-unit order, as the B+tree's comparator orders strings.
    const sorted = (this.#sorted ??= [...this.#hashed.keys()].sort());
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid] < prefix) lo = mid + 1;
      else hi = mid;
    }
    const hashed = this.#hashed;
    for (let i = lo; i < sorted.length; i++) {
      const k = sorted[i];
      if (!k.startsWith(prefix)) break;
      if (fn(k, hashed.get(k)!) === false) return false;
    }
    return true;
  }
}
