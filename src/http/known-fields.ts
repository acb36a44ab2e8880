// Unknown body keys refused the way Go's encoding/json does when Consul decodes with
// DisallowUnknownFields (lib.DecodeJSON): keys match a struct's field names (and json tags)
// case-insensitively, the first key no field takes, depth first in body order, is the error.
import { BadRequestError } from '../errors.ts';

/** What a known field's value holds: a struct, a list of structs, a map whose values are structs. */
type Nested = { kind: 'one' | 'list' | 'map'; shape: () => Shape };

/** A field's entry: what its value nests, or null for a value not walked (a leaf, a free map, a lenient type). */
type Field = Nested | null;

/**
 * A Go struct's JSON field names. A `lenient` struct is one whose own UnmarshalJSON decodes with
 * plain json.Unmarshal: its unknown keys are ignored, yet its known nested structs keep their own rules.
 */
export interface Shape {
  readonly fields: ReadonlyMap<string, Field>;
  readonly lenient: boolean;
}

/** A nested field: a struct (or a function returning one, for recursive structs), or a list or map of them. */
export type NestedSpec = Shape | (() => Shape) | readonly ['list' | 'map', Shape | (() => Shape)];

function nested(spec: NestedSpec): Nested {
  const [kind, s] = Array.isArray(spec) ? spec : ['one' as const, spec];
  return { kind, shape: typeof s === 'function' ? s : () => s };
}

/**
 * A struct's shape from its field names (json tag names included) and the nested structs whose
 * keys are checked too; a field absent from `inner` holds a leaf, a map of anything, or a value
 * whose type decodes leniently.
 */
export function struct(names: readonly string[], inner: Record<string, NestedSpec> = {}, lenient = false): Shape {
  const fields = new Map<string, Field>();
  for (const n of names) {
    const spec = inner[n] === undefined ? null : nested(inner[n]);
    // The canonical spelling (what clients almost always send) and the folded one.
    fields.set(n, spec);
    fields.set(n.toLowerCase(), spec);
  }
  return { fields, lenient };
}

/** Consul's 400 for a key no field of the decoded struct takes; `prefix` is the endpoint's wording. */
export function unknownFieldError(key: string, prefix = 'Request decode failed'): BadRequestError {
  return new BadRequestError(`${prefix}: json: unknown field ${JSON.stringify(key)}`);
}

/**
 * Throws Consul's 400 for the first key of `body` (an object, or for a list shape an array of
 * them) that no field of `shape` takes, at any nesting level the shape describes. Values of the
 * wrong JSON type are left alone: checking them is checkGoTypes' work.
 */
export function refuseUnknownFields(body: unknown, shape: Shape, prefix = 'Request decode failed'): void {
  walk(body, shape, prefix);
}

function walk(v: unknown, shape: Shape, prefix: string): void {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return;
  const o = v as Record<string, unknown>;
  for (const k in o) {
    if (!Object.hasOwn(o, k)) continue;
    // One lookup for the canonical spelling clients almost always send, a second for any other case.
    let hit = shape.fields.get(k);
    if (hit === undefined) hit = shape.fields.get(k.toLowerCase());
    if (hit === undefined) {
      if (shape.lenient) continue;
      throw unknownFieldError(k, prefix);
    }
    if (hit !== null) into(o[k], hit, prefix);
  }
}

function into(v: unknown, n: Nested, prefix: string): void {
  if (n.kind === 'one') return walk(v, n.shape(), prefix);
  if (n.kind === 'list') {
    if (Array.isArray(v)) for (const el of v) walk(el, n.shape(), prefix);
    return;
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return;
  for (const val of Object.values(v)) walk(val, n.shape(), prefix);
}

/** Refuses unknown keys in each element of a JSON array body (a list of `shape` structs). */
export function refuseUnknownInList(body: unknown, shape: Shape, prefix = 'Request decode failed'): void {
  if (Array.isArray(body)) for (const el of body) walk(el, shape, prefix);
}
