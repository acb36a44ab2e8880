// The nesting guard in front of the HCL v1 parser (deep input overflowed its stack, slowly).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHclText, MAX_HCL_DEPTH } from './hcl.ts';

test('nesting past the limit is a parse error with its position, not a stack overflow', () => {
  const d = MAX_HCL_DEPTH + 1;
  assert.equal(parseHclText(`${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}`), `unable to parse JSON: At 1:${5 * MAX_HCL_DEPTH + 1}: nesting deeper than ${MAX_HCL_DEPTH} levels`);
  assert.match(parseHclText(`x = ${'['.repeat(d)}${']'.repeat(d)}`), /^unable to parse JSON: At 1:\d+: nesting deeper than/);
  assert.match(parseHclText(`# {\n${'a {\n'.repeat(d)}${'}\n'.repeat(d)}`), new RegExp(`^unable to parse JSON: At ${d + 1}:3: nesting`));
});

test('nesting up to the limit, and brackets inside strings and comments, parse as before', () => {
  const ok = `${'a {'.repeat(MAX_HCL_DEPTH)}${'}'.repeat(MAX_HCL_DEPTH)}`;
  assert.ok(parseHclText(ok).startsWith('{'));
  const quoted = `key "${'{'.repeat(500)}" { policy = "read" } /* ${'['.repeat(500)} */ // ${'{'.repeat(500)}\n`;
  assert.deepEqual(JSON.parse(parseHclText(quoted)), { key: [{ ['{'.repeat(500)]: [{ policy: 'read' }] }] });
});

test('parsing HCL leaves Error.stackTraceLimit as it was (GopherJS sets it to Infinity on load)', () => {
  const before = Error.stackTraceLimit;
  parseHclText('a = 1');
  parseHclText('a = [');
  assert.equal(Error.stackTraceLimit, before);
  assert.notEqual(Error.stackTraceLimit, Infinity);
});
