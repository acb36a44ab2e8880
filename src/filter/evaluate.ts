// Evaluates a parsed filter against one JSON-shaped item as go-bexpr's evaluate.go does:
// values coerced to the field's kind, missing map keys answered by each operator's
// not-present disposition, `any`/`all` over lists and maps with local bindings.

import { selectorText, type CollectionExpression, type Expression, type MatchExpression, type MatchOperator } from './ast.ts';
import { compileGoRegex } from './regex.ts';
import { childSpec, isList, isMap, isStruct, type FieldSpec } from './schema.ts';
import { CoercionError, goParseBool, goParseFloat, goParseInt, goParseUint } from './strconv.ts';

/** An evaluation failure; Consul answers these with a 500 carrying the text. */
export class EvaluationError extends Error {}

/** A name bound by `any`/`all`: an alias for a path, or a known key or index. */
interface Local {
  name: string;
  path?: string[];
  value?: string | number;
}

/** What evaluation carries: the item, its schema (if any) and the bound locals. */
export interface EvalState {
  datum: unknown;
  schema: FieldSpec;
  locals: Local[];
  regexes: Map<string, RegExp>;
}

/** A resolved selector: absent (a missing map key) or a value with its spec. */
type Found = { present: false } | { present: true; value: unknown; spec: FieldSpec };

/** go-bexpr's NotPresentDisposition: what each operator answers for a missing map key. */
const NOT_PRESENT: Record<MatchOperator, boolean> = {
  '==': false, '!=': true, in: false, 'not in': true, 'is empty': true, 'is not empty': false, matches: false, 'not matches': true,
};

/** Evaluates `ast` for the item in `state`. */
export function evaluate(ast: Expression, state: EvalState): boolean {
  switch (ast.type) {
    case 'and':
      return evaluate(ast.left, state) && evaluate(ast.right, state);
    case 'or':
      return evaluate(ast.left, state) || evaluate(ast.right, state);
    case 'not':
      return !evaluate(ast.operand, state);
    case 'match':
      return evaluateMatch(ast, state);
    case 'collection':
      return evaluateCollection(ast, state);
  }
}

function evaluateMatch(expr: MatchExpression, state: EvalState): boolean {
  const found = getValue(expr.selector.path, state);
  if (!found.present) return NOT_PRESENT[expr.op];
  const { value, spec } = found;
  switch (expr.op) {
    case '==':
      return matchEqual(expr, value, spec);
    case '!=':
      return !matchEqual(expr, value, spec);
    case 'in':
      return matchIn(expr, value, spec);
    case 'not in':
      return !matchIn(expr, value, spec);
    case 'is empty':
      return matchIsEmpty(expr, value, spec);
    case 'is not empty':
      return !matchIsEmpty(expr, value, spec);
    case 'matches':
      return matchMatches(expr, value, spec, state);
    case 'not matches':
      return !matchMatches(expr, value, spec, state);
  }
}

/** The Go kind a value has, from its spec or, without one, from the JS value. */
function kindOf(value: unknown, spec: FieldSpec): string {
  if (spec !== 'any') return isList(spec) ? 'slice' : isMap(spec) ? 'map' : isStruct(spec) ? 'struct' : goKind(spec);
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float64';
  if (Array.isArray(value)) return 'slice';
  if (value !== null && typeof value === 'object') return 'map';
  return 'invalid';
}

function goKind(type: 'string' | 'int' | 'uint' | 'float' | 'bool'): string {
  return type === 'float' ? 'float64' : type === 'int' ? 'int' : type;
}

/** The raw value coerced to a primitive kind, as go-bexpr's getMatchExprValue does. */
function coerce(kind: string, raw: string): string | boolean | bigint | number {
  switch (kind) {
    case 'string':
      return raw;
    case 'bool':
      return goParseBool(raw);
    case 'int':
      return goParseInt(raw);
    case 'uint':
      return goParseUint(raw);
    default:
      return goParseFloat(raw);
  }
}

/** Primitive equality between a coerced match value and the field's value. */
function equalTo(expected: string | boolean | bigint | number, value: unknown): boolean {
  if (typeof expected === 'bigint') return Number.isInteger(value) && BigInt(value as number) === expected;
  return expected === value;
}

function equalAs(kind: string, raw: string, value: unknown): boolean {
  return equalTo(coerce(kind, raw), value);
}

const PRIMITIVE_KINDS = new Set(['string', 'bool', 'int', 'uint', 'float64']);

function matchEqual(expr: MatchExpression, value: unknown, spec: FieldSpec): boolean {
  const kind = kindOf(value, spec);
  if (!PRIMITIVE_KINDS.has(kind)) throw new EvaluationError('unable to find suitable primitive comparison function for matching');
  return coercing(() => equalAs(kind, expr.value ?? '', value));
}

function coercing<T>(run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (err instanceof CoercionError) throw new EvaluationError(`error getting match value in expression: ${err.message}`);
    throw err;
  }
}

function matchIn(expr: MatchExpression, value: unknown, spec: FieldSpec): boolean {
  const raw = expr.value ?? '';
  const kind = kindOf(value, spec);
  if (kind === 'string') return (value as string).includes(raw);
  if (kind === 'map') return value !== null && typeof value === 'object' && Object.hasOwn(value, raw);
  if (kind !== 'slice') {
    throw new EvaluationError(`Cannot perform in/contains operations on type ${kind} for selector: ${JSON.stringify(selectorText(expr.selector))}`);
  }
  const items = Array.isArray(value) ? value : [];
  const elemSpec = isList(spec) ? spec.list : 'any';
  if (elemSpec !== 'any') {
    const elemKind = kindOf(undefined, elemSpec);
    if (!PRIMITIVE_KINDS.has(elemKind)) throw new EvaluationError('unable to find suitable primitive comparison function for "in" comparison');
    const expected = coercing(() => coerce(elemKind, raw));
    return items.some((item) => equalTo(expected, item));
  }
  // an untyped list is Go's []interface{}: each element coerces alone, unparsable ones skip
  for (const item of items) {
    const elemKind = kindOf(item, 'any');
    if (!PRIMITIVE_KINDS.has(elemKind)) {
      throw new EvaluationError(`unable to find suitable primitive comparison function for "in" comparison in interface slice: ${elemKind}`);
    }
    try {
      if (equalAs(elemKind, raw, item)) return true;
    } catch (err) {
      if (!(err instanceof CoercionError)) throw err;
    }
  }
  return false;
}

function matchIsEmpty(expr: MatchExpression, value: unknown, spec: FieldSpec): boolean {
  const kind = kindOf(value, spec);
  if (kind === 'string') return (value as string).length === 0;
  if (kind === 'slice') return !Array.isArray(value) || value.length === 0;
  if (kind === 'map') return value === null || typeof value !== 'object' || Object.keys(value).length === 0;
  throw new EvaluationError(`cannot perform is-empty operations on type ${kind} for selector: ${JSON.stringify(selectorText(expr.selector))}`);
}

function matchMatches(expr: MatchExpression, value: unknown, spec: FieldSpec, state: EvalState): boolean {
  const kind = kindOf(value, spec);
  if (kind !== 'string') throw new EvaluationError(`Value of type ${kind} is not convertible to []byte`);
  const raw = expr.value ?? '';
  let re = state.regexes.get(raw);
  if (re === undefined) {
    try {
      re = compileGoRegex(raw);
    } catch (err) {
      throw new EvaluationError(`Failed to compile regular expression ${JSON.stringify(raw)}: ${(err as Error).message}`);
    }
    state.regexes.set(raw, re);
  }
  return re.test(value as string);
}

function evaluateCollection(expr: CollectionExpression, state: EvalState): boolean {
  const found = getValue(expr.selector.path, state);
  if (!found.present) return expr.op === 'all';
  const { value, spec } = found;
  const kind = kindOf(value, spec);
  if (kind !== 'slice' && kind !== 'map') throw new EvaluationError(`${selectorText(expr.selector)} is not a list or a map`);
  const b = expr.binding;
  if (b.mode === 'index-value' && b.index === b.value) {
    throw new EvaluationError(`${JSON.stringify(b.index)} cannot be used as a placeholder for both the index and the value`);
  }
  const keys: (string | number)[] = Array.isArray(value) ? value.map((_, i) => i) : kind === 'map' && value ? Object.keys(value) : [];
  for (const key of keys) {
    const alias = [...expr.selector.path, String(key)];
    const locals = [...state.locals];
    const known = (name: string): void => void locals.push({ name, value: key });
    const aliased = (name: string): void => void locals.push({ name, path: alias });
    if (b.mode === 'default') (typeof key === 'string' ? known : aliased)(b.name);
    if (b.mode === 'index' || b.mode === 'index-value') known(b.index);
    if (b.mode === 'value' || b.mode === 'index-value') aliased(b.value);
    const result = evaluate(expr.inner, { ...state, locals });
    if (result === (expr.op === 'any')) return result;
  }
  return expr.op === 'all';
}

/** Resolves a selector path through the locals, then the item (go-bexpr's getValue). */
function getValue(selectorPath: string[], state: EvalState): Found {
  let path = selectorPath;
  for (let i = state.locals.length - 1; i >= 0 && path.length > 0; i--) {
    const local = state.locals[i];
    if (path[0] !== local.name) continue;
    if (local.path === undefined) {
      if (path.length > 1) {
        const type = typeof local.value === 'number' ? 'int' : 'string';
        throw new EvaluationError(`/${local.name} references a ${type} so /${path.join('/')} is invalid`);
      }
      return { present: true, value: local.value, spec: typeof local.value === 'number' ? 'int' : 'string' };
    }
    path = [...local.path, ...path.slice(1)];
  }
  return walk(path, state.datum, state.schema);
}

function walk(path: string[], datum: unknown, schema: FieldSpec): Found {
  let value = datum;
  let spec = schema;
  for (let i = 0; i < path.length; i++) {
    const part = path[i];
    const next = childSpec(spec, part);
    if (next === undefined) throw notFound(path, i, `couldn't find struct field with name ${JSON.stringify(part)}`);
    const parentIsMap = isMap(spec) || (spec === 'any' && typeof value === 'object' && !Array.isArray(value));
    if (Array.isArray(value)) {
      const index = Number(part);
      if (!/^[0-9]+$/.test(part) || index >= value.length) throw notFound(path, i, `index ${part} out of range`);
      value = value[index];
    } else if (value !== null && typeof value === 'object' && Object.hasOwn(value, part)) {
      value = (value as Record<string, unknown>)[part];
    } else if (isStruct(spec)) {
      value = undefined; // a Go struct field omitted from the JSON holds its zero value
    } else if (parentIsMap || value === null || value === undefined) {
      return { present: false };
    } else {
      throw notFound(path, i, `cannot find ${JSON.stringify(part)} in ${kindOf(value, spec)}`);
    }
    spec = next;
    if ((value === null || value === undefined) && !isStruct(spec) && !isList(spec) && !isMap(spec)) {
      if (spec === 'any') return { present: false };
      value = zeroValue(spec);
    }
  }
  return { present: true, value, spec };
}

function zeroValue(type: 'string' | 'int' | 'uint' | 'float' | 'bool'): unknown {
  return type === 'string' ? '' : type === 'bool' ? false : 0;
}

function notFound(path: string[], at: number, why: string): EvaluationError {
  return new EvaluationError(`error finding value in datum: /${path.join('/')} at part ${at}: ${why}`);
}
