// Decoding one parsed JSON/HCL document against the key table: HCL's repeated-block lists are
// folded into objects (Consul's HookWeakDecodeFromSlice), unknown keys and type mismatches are
// collected with the paths and wording of Consul's mapstructure decoder.
import { parseGoDuration } from '../../cli/flags.ts';
import { goDurationError } from '../../duration.ts';
import { isBlock, isList, isMap, type BlockSpec, type Leaf, type Spec } from './keys-types.ts';
import { isObject, mergeConfig, type ConfigTree } from './merge.ts';

/** What decoding found besides the normalized value. */
export interface DecodeReport {
  /** Keys no table entry matches (`ports.foo`, `services[0].x` for closed blocks). */
  unused: string[];
  /** Type mismatches, as mapstructure words them. */
  typeErrors: string[];
  /** Value errors Consul reports after merging (bad durations). */
  valueErrors: string[];
  warnings: string[];
}

/** Decodes a whole document; the result holds only keys the table knows (plus open-block data). */
export function decodeDocument(doc: ConfigTree, spec: BlockSpec): { tree: ConfigTree; report: DecodeReport } {
  const report: DecodeReport = { unused: [], typeErrors: [], valueErrors: [], warnings: [] };
  const tree = decodeBlock(doc, spec, '', report) ?? {};
  report.unused.sort();
  return { tree, report };
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** Go's name for the type a JSON value decodes to, for error messages. */
function goType(v: unknown): string {
  if (Array.isArray(v)) return '[]interface {}';
  if (isObject(v)) return 'map[string]interface {}';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  return typeof v === 'boolean' ? 'bool' : 'string';
}

/** HCL turns every block into a list of objects; a list of objects becomes one merged object. */
function foldBlocks(v: unknown): unknown {
  if (Array.isArray(v) && v.length > 0 && v.every(isObject)) {
    return v.reduce<ConfigTree>((acc, o) => mergeConfig(acc, o), {});
  }
  return v;
}

function decodeValue(v: unknown, spec: Spec, path: string, r: DecodeReport): unknown {
  if (typeof spec === 'string') return decodeLeaf(v, spec, path, r);
  if (isBlock(spec)) return decodeBlock(v, spec, path, r);
  if (isList(spec)) {
    const items = isObject(v) ? [v] : v;
    if (!Array.isArray(items)) {
      r.typeErrors.push(`'${path}': source data must be an array or slice, got ${goType(v)}`);
      return undefined;
    }
    return items.map((item, i) => decodeValue(item, spec.$list, `${path}[${i}]`, r));
  }
  if (isMap(spec)) {
    const obj = foldBlocks(v);
    if (!isObject(obj)) {
      r.typeErrors.push(`'${path}' expected a map, got '${goType(v)}'`);
      return undefined;
    }
    return Object.fromEntries(Object.entries(obj).map(([k, item]) => [k, decodeValue(item, spec.$map, `${path}[${k}]`, r)]));
  }
  return undefined;
}

function decodeBlock(v: unknown, spec: BlockSpec, path: string, r: DecodeReport): ConfigTree | undefined {
  const obj = foldBlocks(v);
  if (!isObject(obj)) {
    r.typeErrors.push(`'${path}' expected a map, got '${goType(v)}'`);
    return undefined;
  }
  const out: ConfigTree = {};
  for (const [key, value] of Object.entries(obj)) {
    const sub = spec.$block[key];
    if (sub !== undefined) out[key] = decodeValue(value, sub, join(path, key), r);
    else if (spec.$open) out[key] = value;
    else if (join(path, key) === 'acl_enforce_version_8') r.warnings.push(`config key "acl_enforce_version_8" is deprecated and should be removed`);
    else r.unused.push(join(path, key));
  }
  return out;
}

function unconvertible(path: string, want: string, v: unknown): string {
  const shown = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return `'${path}' expected type '${want}', got unconvertible type '${goType(v)}', value: '${shown}'`;
}

function decodeLeaf(v: unknown, leaf: Leaf, path: string, r: DecodeReport): unknown {
  // A one-element list decodes as its element (HookWeakDecodeFromSlice), e.g. HCL `x = ["a"]`.
  if (Array.isArray(v) && v.length === 1 && !['strings', 'any'].includes(leaf)) v = v[0];
  switch (leaf) {
    case 'string':
    case 'duration':
      if (typeof v !== 'string') return void r.typeErrors.push(unconvertible(path, 'string', v));
      if (leaf === 'duration' && parseGoDuration(v) === null) {
        r.valueErrors.push(`${path}: invalid duration: ${JSON.stringify(v)}: ${goDurationError(v)}`);
      }
      return v;
    case 'bool':
      return typeof v === 'boolean' ? v : void r.typeErrors.push(unconvertible(path, 'bool', v));
    case 'int':
      return typeof v === 'number' ? Math.trunc(v) : void r.typeErrors.push(unconvertible(path, 'int', v));
    case 'float':
      return typeof v === 'number' ? v : void r.typeErrors.push(unconvertible(path, 'float64', v));
    case 'strings':
      return decodeStrings(v, path, r);
    case 'map':
      return decodeStringMap(v, path, r);
    default:
      return foldBlocks(v);
  }
}

function decodeStrings(v: unknown, path: string, r: DecodeReport): string[] | undefined {
  if (!Array.isArray(v)) {
    r.typeErrors.push(`'${path}': source data must be an array or slice, got ${goType(v)}`);
    return undefined;
  }
  return v.filter((item, i) => {
    if (typeof item === 'string') return true;
    r.typeErrors.push(unconvertible(`${path}[${i}]`, 'string', item));
    return false;
  });
}

function decodeStringMap(v: unknown, path: string, r: DecodeReport): Record<string, string> | undefined {
  const obj = foldBlocks(v);
  if (!isObject(obj)) {
    r.typeErrors.push(`'${path}' expected a map, got '${goType(v)}'`);
    return undefined;
  }
  const out: Record<string, string> = {};
  for (const [k, item] of Object.entries(obj)) {
    const s = Array.isArray(item) && item.length === 1 ? item[0] : item;
    if (typeof s === 'string') out[k] = s;
    else r.typeErrors.push(unconvertible(`${path}[${k}]`, 'string', s));
  }
  return out;
}
