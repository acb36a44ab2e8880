// Parsing: go-bexpr's tree shapes and precedence, and its error texts and positions, checked
// against outputs recorded from go-bexpr's own parser (testdata/bexpr-parse-golden.json).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { BadRequestError } from '../errors.ts';
import type { Expression } from './ast.ts';
import { parseExpression } from './syntax.ts';

const golden = JSON.parse(readFileSync(new URL('testdata/bexpr-parse-golden.json', import.meta.url), 'utf8')) as {
  cases: ({ input: string; error: string } | { input: string; ast: Expression })[];
};

function errorOf(input: string): string {
  try {
    parseExpression(input);
  } catch (err) {
    assert.ok(err instanceof BadRequestError);
    return err.message;
  }
  assert.fail(`${JSON.stringify(input)} parsed`);
}

const m = (path: string, op: string, value?: string): Expression =>
  ({ type: 'match', selector: { kind: 'bexpr', path: path.split('.') }, op, ...(value === undefined ? {} : { value }) }) as Expression;

describe('golden outputs of go-bexpr v0.1.14', () => {
  test(`${golden.cases.length} recorded inputs parse or fail exactly as go-bexpr`, () => {
    for (const c of golden.cases) {
      if ('error' in c) assert.equal(errorOf(c.input), c.error, JSON.stringify(c.input));
      else assert.deepEqual(parseExpression(c.input), c.ast, JSON.stringify(c.input));
    }
  });
});

describe('tree shapes', () => {
  test('not binds tighter than and, and tighter than or', () => {
    assert.deepEqual(parseExpression('a == 1 and not b == 2 or c == 3'), {
      type: 'or',
      left: { type: 'and', left: m('a', '==', '1'), right: { type: 'not', operand: m('b', '==', '2') } },
      right: m('c', '==', '3'),
    });
  });

  test('parentheses override precedence', () => {
    assert.deepEqual(parseExpression('a == 1 and (b == 2 or c == 3)'), {
      type: 'and',
      left: m('a', '==', '1'),
      right: { type: 'or', left: m('b', '==', '2'), right: m('c', '==', '3') },
    });
  });

  test('and/or chain to the right; not not folds away', () => {
    assert.deepEqual(parseExpression('a is empty or b is empty or c is empty'), {
      type: 'or',
      left: m('a', 'is empty'),
      right: { type: 'or', left: m('b', 'is empty'), right: m('c', 'is empty') },
    });
    assert.deepEqual(parseExpression('not not a == 1'), m('a', '==', '1'));
  });

  test('contains is in with the sides swapped; not contains is not in', () => {
    assert.deepEqual(parseExpression('Tags contains "x"'), parseExpression('"x" in Tags'));
    assert.deepEqual(parseExpression('Tags not contains x'), parseExpression('x not in Tags'));
  });

  test('selectors: dots, quoted index, numeric step, JSON pointer with ~1 and ~0', () => {
    assert.deepEqual(parseExpression('Meta["a b"].c.0 == x'), {
      type: 'match', selector: { kind: 'bexpr', path: ['Meta', 'a b', 'c', '0'] }, op: '==', value: 'x',
    });
    assert.deepEqual((parseExpression('"/Meta/a~1b/c~0d" == x') as { selector: unknown }).selector, {
      kind: 'pointer', path: ['Meta', 'a/b', 'c~d'],
    });
  });

  test('values: bare words and selectors keep their text, strings unquote, raw strings do not', () => {
    const value = (input: string): string | undefined => (parseExpression(input) as { value?: string }).value;
    assert.equal(value('a == Foo.Bar'), 'Foo.Bar');
    assert.equal(value('a == -1.5'), '-1.5');
    assert.equal(value('a == "tab\\there \\u00e9 \\x41 \\101 \\\\"'), 'tab\there é A A \\');
    assert.equal(value('a == `raw \\n`'), 'raw \\n');
    assert.equal(value('a == `cr\r\nlf`'), 'cr\nlf');
  });

  test('collection expressions bind names', () => {
    assert.deepEqual(parseExpression('all Tags as i, t { t != x }'), {
      type: 'collection', op: 'all', selector: { kind: 'bexpr', path: ['Tags'] },
      binding: { mode: 'index-value', index: 'i', value: 't' }, inner: m('t', '!=', 'x'),
    });
  });
});

describe('error texts', () => {
  const prefix = 'Failed to create boolean expression evaluator: ';
  const cases: [string, string][] = [
    ['Name ==', '1:8 (7): no match found, expected: "-", "0", "\\"", "`", [ \\t\\r\\n], [1-9] or [a-zA-Z]'],
    ['Name == x y', '1:11 (10): no match found, expected: "and", "or", [ \\t\\r\\n] or EOF'],
    ['Name == "abc', '1:13 (12): rule "string": Unterminated string literal'],
    ['Name == "a\\qb"', '1:9 (8): rule "string": invalid syntax'],
    ['Port == 8x', '1:10 (9): rule "number": Invalid number literal'],
    ['(Port == 8', '1:11 (10): rule "grouping": Unmatched parentheses'],
    ['Meta[x] == y', '1:6 (5): rule "index": Invalid index'],
    ['Meta["a" == x', '1:10 (9): rule "index": Unclosed index expression'],
    ['"x" in 5', '1:8 (7): rule "match": Invalid selector'],
    ['', '1:1 (0): no match found, expected: "(", "-", "0", "\\"", "`", "all", "any", "not", [ \\t\\r\\n], [1-9] or [a-zA-Z]'],
    // a newline sits at column 0 of the next line; offsets count UTF-8 bytes, columns runes
    ['Name\n== \n  x y', '3:5 (13): no match found, expected: "and", "or", [ \\t\\r\\n] or EOF'],
    ['Name == "é" x', '1:13 (13): no match found, expected: "and", "or", [ \\t\\r\\n] or EOF'],
  ];
  for (const [input, message] of cases) {
    test(JSON.stringify(input), () => assert.equal(errorOf(input), prefix + message));
  }

  test('go-bexpr v0.1.14 has no `is nil` and no comparison operators', () => {
    assert.equal(errorOf('Port is nil'), `${prefix}1:9 (8): no match found, expected: "empty", "not" or [ \\t\\r\\n]`);
    assert.equal(
      errorOf('Port > 8000'),
      `${prefix}1:6 (5): no match found, expected: "!=", "==", "contains", "in", "is", "matches", "not" or [ \\t\\r\\n]`,
    );
  });

  test('nesting parses in linear time (packrat), and stack exhaustion is a 400, not a crash', () => {
    const nested = `${'('.repeat(40)}a == b${')'.repeat(40)}`;
    assert.deepEqual(parseExpression(nested), m('a', '==', 'b'));
    assert.equal(errorOf(`${'('.repeat(100000)}a == b`), `${prefix}expression is nested too deeply`);
  });
});
