// compileFilter proper: the go-bexpr grammar (peggy parser), selector checks and evaluation.
// Loaded by index.ts on the first expression, so agents that never see `?filter=` skip it.

import { InternalError } from '../errors.ts';
import type { CompileOptions, Filter } from './index.ts';
import { evaluate, EvaluationError } from './evaluate.ts';
import { validateSelectors } from './schema.ts';
import { parseExpression } from './syntax.ts';

/** Parses and checks `expr`; throws BadRequestError with Consul's text when it is invalid. */
export function compileFilter(expr: string, options: CompileOptions = {}): Filter {
  const ast = parseExpression(expr);
  if (options.fields !== undefined) validateSelectors(ast, options.fields);
  const schema = options.fields ?? 'any';
  const regexes = new Map<string, RegExp>();
  return {
    expression: expr,
    ast,
    matches(value: unknown): boolean {
      try {
        return evaluate(ast, { datum: value, schema, locals: [], regexes });
      } catch (err) {
        if (err instanceof EvaluationError) throw new InternalError(err.message, { cause: err });
        throw err;
      }
    },
  };
}
