// Consul's `?filter=` expressions (go-bexpr): compile once per request, then match items.
// Syntax errors carry go-bexpr's exact text and position; a schema, when an endpoint gives
// one, rejects unknown selectors up front and types values as Consul's structs do.

import { createRequire } from 'node:module';
import type { Expression } from './ast.ts';
import type { FieldSchema } from './schema.ts';

export type { FieldSchema, FieldSpec, FieldType } from './schema.ts';
export type { Expression } from './ast.ts';

/** Options for compileFilter. */
export interface CompileOptions {
  /** The endpoint's item fields; without it selectors resolve dynamically on each item. */
  fields?: FieldSchema;
}

/** A compiled filter expression. */
export interface Filter {
  /** The expression as given. */
  readonly expression: string;
  /** The parsed syntax tree. */
  readonly ast: Expression;
  /** Whether one item matches; throws InternalError (Consul's 500) when evaluation fails. */
  matches(value: unknown): boolean;
}

/**
 * The grammar, selector checks and evaluator (7 modules, the peggy parser among them), loaded on
 * the first expression: most requests carry no `?filter=`, and an agent answers its first request
 * without them (issue #9). Loaded with require (synchronous, sharing the ES module cache) because
 * compileFilter is called inside synchronous store reads.
 */
let compiler: typeof import('./compile.ts') | undefined;
const require = createRequire(import.meta.url);

/** Parses and checks `expr`; throws BadRequestError with Consul's text when it is invalid. */
export function compileFilter(expr: string, options: CompileOptions = {}): Filter {
  compiler ??= require('./compile.ts') as typeof import('./compile.ts');
  return compiler.compileFilter(expr, options);
}

/** The items `expr` matches, in order; an absent or empty expression keeps them all. */
export function filterList<T>(items: T[], expr?: string, options: CompileOptions = {}): T[] {
  if (expr === undefined || expr === '') return items;
  const filter = compileFilter(expr, options);
  return items.filter((item) => filter.matches(item));
}

/** Like filterList for a map of items (Consul's /v1/agent/services shape), keeping keys. */
export function filterRecord<T>(items: Record<string, T>, expr?: string, options: CompileOptions = {}): Record<string, T> {
  if (expr === undefined || expr === '') return items;
  const filter = compileFilter(expr, options);
  return Object.fromEntries(Object.entries(items).filter(([, item]) => filter.matches(item)));
}

