// Go's encoding/json type rules for request bodies: Consul decodes each body into a typed struct,
// so a value of the wrong JSON type is a 400 naming the struct field, never a crash further in.
import { BadRequestError } from '../errors.ts';

/** The Go types a body field is checked against. `null` is accepted for every one (Go keeps the zero value). */
export type GoType = 'string' | 'bool' | 'number' | '[]string' | 'map[string]string' | 'object' | 'array';

/** Go's name for a JSON value's kind in unmarshal errors. */
export function goJsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'bool';
  return typeof v === 'object' ? 'object' : typeof v;
}

function fits(v: unknown, t: GoType): boolean {
  switch (t) {
    case 'string': return typeof v === 'string';
    case 'bool': return typeof v === 'boolean';
    case 'number': return typeof v === 'number' || typeof v === 'bigint';
    case 'array': return Array.isArray(v);
    case 'object': return typeof v === 'object' && !Array.isArray(v);
    case '[]string': return Array.isArray(v) && v.every((x) => x === null || typeof x === 'string');
    case 'map[string]string':
      return typeof v === 'object' && !Array.isArray(v) && Object.values(v as object).every((x) => x === null || typeof x === 'string');
  }
}

/** The kind Go names when a container's element is the misfit (`[]string` holding a number: number). */
function misfitKind(v: unknown, t: GoType): string {
  if (t === '[]string' && Array.isArray(v)) return goJsonKind(v.find((x) => x !== null && typeof x !== 'string'));
  if (t === 'map[string]string' && v && typeof v === 'object' && !Array.isArray(v)) {
    return goJsonKind(Object.values(v).find((x) => x !== null && typeof x !== 'string'));
  }
  return goJsonKind(v);
}

/** Each type table's fields, in a Map: a body key such as `constructor` finds nothing in it. */
const tableFields = new WeakMap<object, Map<string, GoType | [GoType, string]>>();

/**
 * Refuses a field whose JSON type Go could not decode into the struct's field, as Consul's
 * decoder does: `<prefix>: json: cannot unmarshal number into Go struct field ACLPolicy.Name of type string`.
 * `types` names each field's Go type (a pair gives the exact Go type name for the message);
 * `at` is the path to a nested struct (`Policies.`), which Go puts after the innermost struct's name.
 */
export function checkGoTypes(
  b: Record<string, unknown>, types: Record<string, GoType | [GoType, string]>, struct: string, prefix: string, at = '',
): void {
  let fields = tableFields.get(types);
  if (fields === undefined) tableFields.set(types, fields = new Map(Object.entries(types)));
  // The body's own keys (a handful) rather than every field of the table (up to 16, each a
  // megamorphic lookup on the body, ≈1 µs per catalog registration); a misfit is then named by
  // the table's walk, so the error is the one the table's order gives.
  for (const k in b) {
    const spec = fields.get(k);
    if (spec === undefined) continue;
    const v = b[k];
    if (v === undefined || v === null || fits(v, typeof spec === 'string' ? spec : spec[0])) continue;
    refuse(b, types, struct, prefix, at);
  }
}

/** Throws for the first field of `types`, in its order, whose value Go could not decode. */
function refuse(
  b: Record<string, unknown>, types: Record<string, GoType | [GoType, string]>, struct: string, prefix: string, at: string,
): void {
  // for-in over the (literal) table: its keys in Object.entries order, without the entry and
  // destructuring arrays.
  for (const field in types) {
    const spec = types[field];
    const t = typeof spec === 'string' ? spec : spec[0];
    const v = b[field];
    if (v === undefined || v === null || fits(v, t)) continue;
    const name = typeof spec === 'string' ? undefined : spec[1];
    const goType = name ?? (t === 'object' ? 'map[string]interface {}' : t === 'array' ? '[]interface {}' : t === 'number' ? 'int' : t);
    throw new BadRequestError(`${prefix}: json: cannot unmarshal ${misfitKind(v, t)} into Go struct field ${struct}.${at}${field} of type ${goType}`);
  }
}
