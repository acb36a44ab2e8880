// Parses a filter expression and words its syntax errors exactly as go-bexpr's pigeon parser
// does: `line:col (offset): no match found, expected: …` at the farthest failure, or the
// predicate errors (`rule "string": Unterminated string literal`) when any were raised.

import { BadRequestError } from '../errors.ts';
import type { Expression } from './ast.ts';
import { parse, SyntaxError as PeggySyntaxError, type PeggyExpectation } from './parser.generated.js';
import { goUnquote } from './strconv.ts';

/** The prefix Consul's answers put before every go-bexpr parse error. */
export const EVALUATOR_ERROR_PREFIX = 'Failed to create boolean expression evaluator: ';

/** Pigeon's `!.` expectation; listed last as EOF. */
const NOT_ANY = '!.';
const WHITESPACE = '[ \\t\\r\\n]';

/**
 * Records what the grammar's predicates see: pigeon's expectations inside the EOF and
 * AfterNumbers lookaheads (peggy keeps lookaheads silent) and the errors predicates raise.
 */
export class ParseTracker {
  readonly input: string;
  far = -1;
  wants: string[] = [];
  errors: string[] = [];

  constructor(input: string) {
    this.input = input;
  }

  /** `EOF <- !.`: true at the end; elsewhere pigeon records `!.` (shown as EOF). */
  eof(offset: number): boolean {
    if (offset >= this.input.length) return true;
    this.record(offset, NOT_ANY);
    return false;
  }

  /** `AfterNumbers <- &(_ / EOF / ")")`, recording only outside a negative lookahead. */
  afterNumbers(offset: number, recording: boolean): boolean {
    const record = (at: number, want: string): void => {
      if (recording) this.record(at, want);
    };
    let end = offset;
    while (end < this.input.length && ' \t\r\n'.includes(this.input[end])) end++;
    if (end > offset) {
      record(end, WHITESPACE);
      return true;
    }
    record(offset, WHITESPACE);
    if (offset >= this.input.length) return true;
    record(offset, NOT_ANY);
    if (this.input[offset] === ')') return true;
    record(offset, '")"');
    return false;
  }

  /** Go's strconv.Unquote of a double-quoted literal's body, or undefined when invalid. */
  unquote(body: string): string | undefined {
    return goUnquote(body);
  }

  /** An error raised in rule `rule` (its display name) at `offset`; parsing goes on. */
  error(offset: number, rule: string, message: string): void {
    const text = `${this.position(offset)}: rule "${rule}": ${message}`;
    if (!this.errors.includes(text)) this.errors.push(text);
  }

  /** Pigeon's `line:col (byteOffset)`; a newline itself sits at column 0 of the next line. */
  position(offset: number): string {
    let line = 1;
    let col = 0;
    let bytes = 0;
    let i = 0;
    for (;;) {
      const code = i < this.input.length ? this.input.codePointAt(i)! : -1;
      col++;
      if (code === 0x0a) {
        line++;
        col = 0;
      }
      if (i >= offset || code === -1) break;
      bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
      i += code > 0xffff ? 2 : 1;
    }
    return `${line}:${col} (${bytes})`;
  }

  private record(offset: number, want: string): void {
    if (offset < this.far) return;
    if (offset > this.far) {
      this.far = offset;
      this.wants = [];
    }
    this.wants.push(want);
  }
}

/** Parses `expr` into go-bexpr's syntax tree, throwing BadRequestError with Consul's text. */
export function parseExpression(expr: string): Expression {
  const tracker = new ParseTracker(expr);
  let ast: Expression | undefined;
  let failure: PeggySyntaxError | undefined;
  try {
    ast = parse(expr, { tracker });
  } catch (err) {
    if (err instanceof PeggySyntaxError) failure = err;
    else if (err instanceof RangeError) throw new BadRequestError(`${EVALUATOR_ERROR_PREFIX}expression is nested too deeply`);
    else throw err;
  }
  if (tracker.errors.length > 0) {
    throw new BadRequestError(EVALUATOR_ERROR_PREFIX + tracker.errors.join('\n'));
  }
  if (failure !== undefined || ast === undefined) {
    throw new BadRequestError(EVALUATOR_ERROR_PREFIX + noMatchMessage(tracker, failure));
  }
  return ast;
}

/** Merges peggy's farthest expectations with the tracker's, listed as pigeon lists them. */
function noMatchMessage(tracker: ParseTracker, failure: PeggySyntaxError | undefined): string {
  let offset = failure?.location.start.offset ?? 0;
  let wants = (failure?.expected ?? []).map(describe);
  if (tracker.far > offset) {
    offset = tracker.far;
    wants = tracker.wants;
  } else if (tracker.far === offset) {
    wants = wants.concat(tracker.wants);
  }
  const unique = new Set(wants);
  const eof = unique.delete(NOT_ANY);
  // Go's sort.Strings: byte order, which for these ASCII descriptions is code-unit order
  const list = [...unique].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (eof) list.push('EOF');
  const joined = list.length <= 1 ? list.join('') : `${list.slice(0, -1).join(', ')} or ${list[list.length - 1]}`;
  return `${tracker.position(offset)}: no match found, expected: ${joined}`;
}

/** Pigeon's spelling of one expectation: a Go-quoted literal or the class as written. */
function describe(expectation: PeggyExpectation): string {
  switch (expectation.type) {
    case 'literal':
      return JSON.stringify(expectation.text);
    case 'class': {
      const parts = expectation.parts.map((part) =>
        typeof part === 'string' ? classChar(part) : `${classChar(part[0])}-${classChar(part[1])}`,
      );
      return `[${expectation.inverted ? '^' : ''}${parts.join('')}]`;
    }
    case 'any':
      return '.';
    case 'end':
      return NOT_ANY;
    case 'other':
      return expectation.description;
  }
}

/** A class member as the grammar spells it (`\t`, `\pL`). */
function classChar(part: string): string {
  const escapes: Record<string, string> = { '\t': '\\t', '\r': '\\r', '\n': '\\n', '\\p{L}': '\\pL', '\\p{N}': '\\pN' };
  return escapes[part] ?? part;
}
