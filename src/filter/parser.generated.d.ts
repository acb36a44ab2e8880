// Types for parser.generated.js, which peggy builds from bexpr.peggy (`npm run build:filter`).

import type { Expression } from './ast.ts';
import type { ParseTracker } from './syntax.ts';

/** One expectation peggy recorded at its farthest failure. */
export type PeggyExpectation =
  | { type: 'literal'; text: string; ignoreCase: boolean }
  | { type: 'class'; parts: (string | [string, string])[]; inverted: boolean; ignoreCase: boolean; unicode: boolean }
  | { type: 'any' }
  | { type: 'end' }
  | { type: 'other'; description: string };

/** Thrown by parse() when the start rule fails. */
export class SyntaxError extends Error {
  expected: PeggyExpectation[] | null;
  found: string | null;
  location: { start: { offset: number } };
}

/** Parses a filter expression; predicates report to `tracker` instead of throwing. */
export function parse(input: string, options: { tracker: ParseTracker }): Expression;
