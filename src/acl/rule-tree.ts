// Segment lookup for one resource kind: exact rules and prefix rules keyed by segment, where an
// exact match beats the longest matching prefix (Consul's radix trees in policy_authorizer.go).

/** The exact and prefix values stored for one segment. */
export interface TreeLeaf<V> {
  exact?: V;
  prefix?: V;
}

/** Exact/prefix rules keyed by segment with Consul's lookup and walk orders. */
export class RuleTree<V> {
  readonly #leaves = new Map<string, TreeLeaf<V>>();
  #maxLength = 0;

  /** Sets the exact (or prefix) value of a segment, replacing an earlier one. */
  insert(segment: string, value: V, prefix: boolean): void {
    let leaf = this.#leaves.get(segment);
    if (!leaf) {
      leaf = {};
      this.#leaves.set(segment, leaf);
      this.#maxLength = Math.max(this.#maxLength, segment.length);
    }
    if (prefix) leaf.prefix = value;
    else leaf.exact = value;
  }

  /** The leaf stored at exactly `segment`. */
  leaf(segment: string): TreeLeaf<V> | undefined {
    return this.#leaves.get(segment);
  }

  /** The value governing `segment`: its exact rule, else the longest prefix rule; undefined if none. */
  get(segment: string): V | undefined {
    let found: V | undefined;
    this.walkPath(segment, (path, leaf) => {
      if (leaf.exact !== undefined && path === segment) {
        found = leaf.exact;
        return true;
      }
      if (leaf.prefix !== undefined) found = leaf.prefix;
      return false;
    });
    return found;
  }

  /** Visits the stored segments that are prefixes of `segment`, shortest first; stop by returning true. */
  walkPath(segment: string, fn: (path: string, leaf: TreeLeaf<V>) => boolean): void {
    const limit = Math.min(segment.length, this.#maxLength);
    for (let i = 0; i <= limit; i++) {
      const path = segment.slice(0, i);
      const leaf = this.#leaves.get(path);
      if (leaf && fn(path, leaf)) return;
    }
  }

  /** Visits every stored segment that starts with `prefix`, in key order; stop by returning true. */
  walkPrefix(prefix: string, fn: (path: string, leaf: TreeLeaf<V>) => boolean): void {
    const keys = [...this.#leaves.keys()].filter((k) => k.startsWith(prefix)).sort();
    for (const k of keys) if (fn(k, this.#leaves.get(k)!)) return;
  }

  /** Visits every stored segment in key order; stop by returning true. */
  walk(fn: (path: string, leaf: TreeLeaf<V>) => boolean): void {
    this.walkPrefix('', fn);
  }
}
