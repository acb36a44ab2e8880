// Case- and underscore-insensitive reading of decoded JSON bodies and config blocks:
// `EnableTagOverride`, `enabletagoverride` and `enable_tag_override` are one field, as
// Consul's decoder plus TranslateKeys make them; wrong types fail with Consul's decode prefix.
import { BadRequestError } from '../../errors.ts';

/** A JSON object with its keys folded (lower case, no underscores). */
export type Folded = Map<string, unknown>;

/** Folds an object's keys; anything else folds to an empty map. */
export function fold(v: unknown): Folded {
  const out: Folded = new Map();
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return out;
  for (const [k, val] of Object.entries(v)) out.set(k.toLowerCase().replaceAll('_', ''), val);
  return out;
}

/** The first of `keys` that is set, as a string ('' when none is). */
export function str(f: Folded, ...keys: string[]): string {
  for (const k of keys) {
    const v = f.get(k);
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') throw new BadRequestError(`Request decode failed: ${k}: expected a string, got ${shown(v)}`);
    return v;
  }
  return '';
}

/** A body value quoted in an error: JSON, with the integers past 2^53 that parseJSON keeps as BigInts written out. */
function shown(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? Number(x) : x)) ?? String(v);
}

/** A number field (0 when absent). */
export function num(f: Folded, key: string): number {
  const v = f.get(key);
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new BadRequestError(`Request decode failed: ${key}: expected a number, got ${shown(v)}`);
  return v;
}

/** A boolean field (undefined when absent). */
export function bool(f: Folded, key: string): boolean | undefined {
  const v = f.get(key);
  if (v === undefined || v === null) return undefined;
  return v === true || v === 'true';
}

/** A list-of-strings field (undefined when absent). */
export function strings(f: Folded, ...keys: string[]): string[] | undefined {
  for (const k of keys) {
    const v = f.get(k);
    if (v === undefined || v === null) continue;
    if (!Array.isArray(v)) throw new BadRequestError(`Request decode failed: ${k}: expected a list of strings`);
    return v.map(String);
  }
  return undefined;
}

/** An object field (null when absent or not an object). */
export function record<T>(f: Folded, key: string): Record<string, T> | null {
  const v = f.get(key);
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
  return v as Record<string, T>;
}
