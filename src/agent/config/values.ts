// Typed reads from the merged configuration tree, collecting value errors the way Consul's
// builder accumulates them in b.err instead of stopping at the first one.
import { parseGoDuration } from '../../cli/flags.ts';
import { getPath, isObject, type ConfigTree } from './merge.ts';

/** A typed view of a merged tree plus the errors and warnings found while reading it. */
export class TreeReader {
  readonly tree: ConfigTree;
  readonly errors: string[] = [];
  readonly warnings: string[] = [];

  constructor(tree: ConfigTree) {
    this.tree = tree;
  }

  /** The raw value at a dotted path. */
  get(path: string): unknown {
    return getPath(this.tree, path);
  }

  str(path: string, fallback = ''): string {
    const v = this.get(path);
    return typeof v === 'string' ? v : fallback;
  }

  bool(path: string, fallback = false): boolean {
    const v = this.get(path);
    return typeof v === 'boolean' ? v : fallback;
  }

  int(path: string, fallback = 0): number {
    const v = this.get(path);
    return typeof v === 'number' ? v : fallback;
  }

  strings(path: string): string[] {
    const v = this.get(path);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  }

  stringMap(path: string): Record<string, string> {
    const v = this.get(path);
    return isObject(v) ? Object.fromEntries(Object.entries(v).filter(([, x]) => typeof x === 'string')) as Record<string, string> : {};
  }

  /** A duration in milliseconds; bad values were already reported per source, so they read as 0. */
  durationMs(path: string, fallback = 0): number {
    const v = this.get(path);
    if (typeof v !== 'string') return fallback;
    return parseGoDuration(v) ?? 0;
  }

  /** Consul's portVal: unset or ≤ 0 disables (-1); above 65535 is an error. */
  port(path: string): number {
    const v = this.get(path);
    if (typeof v !== 'number' || v <= 0) return -1;
    if (v > 65535) this.errors.push(`${path}: invalid port: ${v}`);
    return v;
  }
}
