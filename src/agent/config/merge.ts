// Merging configuration fragments the way Consul's Merge does: later scalars replace earlier
// ones, maps and blocks merge key by key, lists concatenate.

/** A decoded configuration tree with Consul's snake_case keys. */
export type ConfigTree = Record<string, unknown>;

/** True for a plain JSON object (not an array, not null). */
export function isObject(v: unknown): v is ConfigTree {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Returns `a` overlaid with `b`; neither input is modified. */
export function mergeConfig(a: ConfigTree, b: ConfigTree): ConfigTree {
  const out: ConfigTree = { ...a };
  for (const [k, bv] of Object.entries(b)) {
    if (bv === undefined) continue;
    const av = out[k];
    if (Array.isArray(av) && Array.isArray(bv)) out[k] = [...av, ...bv];
    else if (isObject(av) && isObject(bv)) out[k] = mergeConfig(av, bv);
    else out[k] = cloneValue(bv);
  }
  return out;
}

/** A deep copy of a JSON value, so merged trees never share mutable parts with their inputs. */
export function cloneValue<T>(v: T): T {
  return v === undefined ? v : structuredClone(v);
}

/** Reads a dotted path (`acl.tokens.agent`) from a tree; undefined when any part is missing. */
export function getPath(tree: ConfigTree, path: string): unknown {
  let cur: unknown = tree;
  for (const part of path.split('.')) {
    if (!isObject(cur)) return undefined;
    cur = cur[part];
  }
  return cur;
}

/** Writes a dotted path, creating intermediate blocks. */
export function setPath(tree: ConfigTree, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur = tree;
  for (const part of parts.slice(0, -1)) {
    if (!isObject(cur[part])) cur[part] = {};
    cur = cur[part] as ConfigTree;
  }
  cur[parts[parts.length - 1]] = value;
}

/** Removes a dotted path; empty parent blocks are left in place. */
export function deletePath(tree: ConfigTree, path: string): void {
  const parts = path.split('.');
  const parent = getPath(tree, parts.slice(0, -1).join('.'));
  const holder = parts.length === 1 ? tree : parent;
  if (isObject(holder)) delete holder[parts[parts.length - 1]];
}
