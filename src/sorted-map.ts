// The ordered map used by the store engine and replica tables: sorted-btree, with its
// CommonJS default export unwrapped once here for ESM.
import * as mod from 'sorted-btree';

type BTreeClass = typeof mod.default.default;
const loaded = mod as unknown as { default: { default?: BTreeClass } & BTreeClass };

/** B+tree ordered map with O(1) copy-on-write clone(). */
export const BTree: BTreeClass = loaded.default.default ?? loaded.default;
/** Instance type of BTree. */
export interface BTree<K, V> {
  get(key: K): V | undefined;
  set(key: K, value: V, overwrite?: boolean): boolean;
  delete(key: K): boolean;
  entries(lowestKey?: K): IterableIterator<[K, V]>;
  keys(lowestKey?: K): IterableIterator<K>;
  values(lowestKey?: K): IterableIterator<V>;
  clone(): BTree<K, V>;
  readonly size: number;
}

/** Creates an empty ordered map. */
export function sortedMap<K, V>(): BTree<K, V> {
  return new BTree<K, V>() as unknown as BTree<K, V>;
}

/** Calls `fn` for every entry whose key starts with `prefix`, in key order; stops on `false`. */
export function forPrefix<V>(tree: BTree<string, V>, prefix: string, fn: (key: string, value: V) => boolean | void): void {
  for (const [k, v] of tree.entries(prefix)) {
    if (!k.startsWith(prefix)) break;
    if (fn(k, v) === false) break;
  }
}
