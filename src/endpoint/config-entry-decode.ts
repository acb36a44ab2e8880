// Decoding a config entry body the way Consul's DecodeConfigEntry does: keys match field names
// case-insensitively and in snake_case (HookTranslateKeys), HCL's one-element block lists become
// objects where the field is an object (HookWeakDecodeFromSlice), and unknown keys are errors.
import { goDurationError, parseGoDuration } from '../duration.ts';

/**
 * The shape of an entry or nested object: field name → kind of value.
 * `0` scalar, `'bool'` a bool decoded weakly as mapstructure's WeaklyTypedInput does (strconv.ParseBool
 * of a string, a number's non-zero), `'duration'` a time.Duration (a Go duration string, through
 * mapstructure's StringToTimeDurationHookFunc, or integer nanoseconds), `'list'` list of scalars, `'map'` free-form map (Meta, Config),
 * `'any'` structured but not modelled here (one-element block lists are still unwrapped), a Shape
 * an object, `[Shape]` a list of objects.
 */
export type Shape = { readonly [field: string]: Field };
/** One field's kind of value; see Shape. */
export type Field = 0 | 'bool' | 'duration' | 'list' | 'map' | 'any' | Shape | readonly [Shape];

/** Fields whose values are lists wherever they appear inside an 'any' field. */
const LIST_FIELDS = new Set([
  'routes', 'splits', 'sources', 'permissions', 'listeners', 'services', 'hosts', 'hostnames', 'consumers',
  'overrides', 'rules', 'filters', 'matches', 'parents', 'certificates', 'paths', 'header', 'queryparam', 'methods',
  'targets', 'addresses', 'locations', 'audiences', 'members', 'envoyextensions', 'ciphersuites', 'remove',
  'verifyclaims', 'providers', 'datacenters', 'backendrefs', 'path', 'claim', 'ecdhcurves', 'hashpolicies',
]);

const fold = (k: string): string => k.toLowerCase().replace(/_/g, '');

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** HookWeakDecodeFromSlice: a one-element list where an object is expected becomes the object. */
function unwrap(v: unknown): unknown {
  return Array.isArray(v) && v.length === 1 && isObject(v[0]) ? v[0] : v;
}

function decodeAny(v: unknown, list: boolean): unknown {
  if (Array.isArray(v)) {
    if (!list && v.length === 1 && isObject(v[0])) return decodeAny(v[0], false);
    return v.map((x) => decodeAny(x, false));
  }
  if (!isObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = decodeAny(x, LIST_FIELDS.has(fold(k)));
  return out;
}

/** Go's %v of a decoded JSON value, for mapstructure's texts. */
function goValue(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goValue).join(' ')}]`;
  if (isObject(v)) return `map[${Object.keys(v).sort().map((k) => `${k}:${goValue(v[k])}`).join(' ')}]`;
  return String(v);
}

/** mapstructure's weak decode of a bool field at `path` (null stays unset). */
function weakBool(v: unknown, path: string, errors: string[]): unknown {
  if (v === null || v === undefined || typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') {
    if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
    if (['0', 'f', 'F', 'false', 'FALSE', 'False', ''].includes(v)) return false;
    errors.push(`cannot parse '${path}' as bool: strconv.ParseBool: parsing ${JSON.stringify(v)}: invalid syntax`);
    return v;
  }
  const type = Array.isArray(v) ? '[]interface {}' : 'map[string]interface {}';
  errors.push(`'${path}' expected type 'bool', got unconvertible type '${type}', value: '${goValue(v)}'`);
  return v;
}

/** A time.Duration field at `path`: a Go duration string becomes integer nanoseconds, as Consul stores and renders it. */
function duration(v: unknown, path: string, errors: string[]): unknown {
  if (typeof v === 'number') return Math.trunc(v);
  if (typeof v !== 'string') return v;
  const ms = parseGoDuration(v);
  if (ms !== null) return Math.round(ms * 1e6);
  // time.ParseDuration's texts, wrapped as mapstructure wraps a hook's error.
  errors.push(`error decoding '${path}': ${goDurationError(v)}`);
  return v;
}

function decodeField(field: Field, v: unknown, path: string, errors: string[]): unknown {
  if (field === 0 || field === 'list') return v;
  if (field === 'bool') return weakBool(v, path, errors);
  if (field === 'duration') return duration(v, path, errors);
  if (field === 'map') return unwrap(v);
  // A list field typed 'any' (a source's Permissions) keeps its one-element lists, as inside one.
  if (field === 'any') return decodeAny(v, LIST_FIELDS.has(fold(path.slice(path.lastIndexOf('.') + 1))));
  if (Array.isArray(field)) {
    if (v === null || v === undefined) return v;
    const items = Array.isArray(v) ? v : [v];
    return items.map((x, i) => decodeObject(field[0] as Shape, x, `${path}[${i}]`, errors));
  }
  return decodeObject(field as Shape, unwrap(v), path, errors);
}

/** mapstructure's conversion errors (a value of the wrong type), told from the unknown-key ones. */
const CONVERSION = /^(cannot parse |error decoding )?'/;

/**
 * Consul's text for the errors a decode collected when a value could not be converted:
 * mapstructure's own (sorted) list, as its Decode fails before unknown keys are looked at; null
 * when there are none (the unknown keys are then worded by the caller).
 */
export function conversionError(errors: readonly string[]): string | null {
  const points = errors.filter((e) => CONVERSION.test(e)).map((e) => `* ${e}`).sort();
  return points.length > 0 ? `${points.length} error(s) decoding:\n\n${points.join('\n')}` : null;
}

/** Decodes one object against its shape; unknown keys are appended to `errors` as Consul words them. */
export function decodeObject(shape: Shape, v: unknown, path: string, errors: string[]): unknown {
  if (!isObject(v)) return v;
  const byFold = new Map(Object.keys(shape).map((f) => [fold(f), f]));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    const name = byFold.get(fold(k));
    const at = path ? `${path}.${k}` : k;
    if (!name) {
      if (/^(namespace|partition)$/.test(fold(k)) && (x === '' || x === 'default')) continue;
      if (path === '' && fold(k) === 'kind') continue;
      errors.push(fold(k).endsWith('namespace')
        ? `invalid config key ${JSON.stringify(at)}, namespaces are a consul enterprise feature`
        : `invalid config key ${JSON.stringify(at)}`);
      continue;
    }
    out[name] = decodeField(shape[name], x, path ? `${path}.${name}` : name, errors);
  }
  return out;
}

/** Orders an object's keys as its shape lists them (Go's struct order), extra keys last. */
export function orderLike(shape: Shape, v: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of Object.keys(shape)) if (f in v) out[f] = v[f];
  for (const [k, x] of Object.entries(v)) if (!(k in out)) out[k] = x;
  return out;
}
