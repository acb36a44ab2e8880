// Per-endpoint field tables: which selectors a filter may use on an endpoint's items and
// with which Go kinds, so a filter is checked when compiled and values coerce as Consul's
// typed structs make them (Port is an int, Weights.Passing an int, Meta a map of strings).

import { BadRequestError } from '../errors.ts';
import { selectorText, type Expression, type Selector } from './ast.ts';

/** A leaf's Go kind; `any` skips checking below it and types values from the data. */
export type FieldType = 'string' | 'int' | 'uint' | 'float' | 'bool' | 'any';

/**
 * One field: a leaf kind, a nested struct, `{ list: elem }` or `{ map: value }` (string keys).
 * Consul's field names are capitalized, so `list` and `map` never clash with a struct field.
 */
export type FieldSpec = FieldType | FieldSchema | { list: FieldSpec } | { map: FieldSpec };

/** A struct: its fields by JSON name. */
export interface FieldSchema {
  [field: string]: FieldSpec;
}

/** Narrows a spec to `{ list }`. */
export function isList(spec: FieldSpec): spec is { list: FieldSpec } {
  return typeof spec === 'object' && 'list' in spec && Object.keys(spec).length === 1;
}

/** Narrows a spec to `{ map }`. */
export function isMap(spec: FieldSpec): spec is { map: FieldSpec } {
  return typeof spec === 'object' && 'map' in spec && Object.keys(spec).length === 1;
}

/** Narrows a spec to a struct. */
export function isStruct(spec: FieldSpec): spec is FieldSchema {
  return typeof spec === 'object' && !isList(spec) && !isMap(spec);
}

/** The spec one path part below `spec`, or undefined when the part is not a valid step. */
export function childSpec(spec: FieldSpec, part: string): FieldSpec | undefined {
  if (spec === 'any') return 'any';
  if (isList(spec)) return /^[0-9]+$/.test(part) ? spec.list : undefined;
  if (isMap(spec)) return spec.map;
  if (isStruct(spec)) return Object.hasOwn(spec, part) ? spec[part] : undefined;
  return undefined;
}

/** Local names bound by enclosing `any`/`all` expressions, with the spec each stands for. */
type Scope = Map<string, FieldSpec>;

/** Throws `Selector "X" is not valid` for the first selector the schema does not have. */
export function validateSelectors(ast: Expression, schema: FieldSchema, scope: Scope = new Map()): void {
  switch (ast.type) {
    case 'and':
    case 'or':
      validateSelectors(ast.left, schema, scope);
      validateSelectors(ast.right, schema, scope);
      return;
    case 'not':
      validateSelectors(ast.operand, schema, scope);
      return;
    case 'match':
      resolveSpec(ast.selector, schema, scope);
      return;
    case 'collection': {
      const spec = resolveSpec(ast.selector, schema, scope);
      const inner = new Map(scope);
      const elem = isList(spec) ? spec.list : isMap(spec) ? spec.map : 'any';
      const key: FieldSpec = isList(spec) ? 'int' : isMap(spec) ? 'string' : 'any';
      const b = ast.binding;
      if (b.mode === 'default') inner.set(b.name, isMap(spec) ? key : elem);
      if (b.mode === 'index' || b.mode === 'index-value') inner.set(b.index, key);
      if (b.mode === 'value' || b.mode === 'index-value') inner.set(b.value, elem);
      validateSelectors(ast.inner, schema, inner);
    }
  }
}

function resolveSpec(selector: Selector, schema: FieldSchema, scope: Scope): FieldSpec {
  const [first, ...rest] = selector.path;
  let spec: FieldSpec | undefined = first !== undefined && scope.has(first) ? scope.get(first) : childSpec(schema, first ?? '');
  for (const part of rest) {
    if (spec === undefined) break;
    spec = childSpec(spec, part);
  }
  if (spec === undefined) throw new BadRequestError(`Selector ${JSON.stringify(selectorText(selector))} is not valid`);
  return spec;
}
