import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goJsonSyntax } from './go-json-syntax.ts';

test("decoder mode: json.Decoder's texts, text after the first value ignored", () => {
  assert.deepEqual(goJsonSyntax(''), { message: 'EOF' });
  assert.deepEqual(goJsonSyntax('  \n'), { message: 'EOF' });
  assert.deepEqual(goJsonSyntax('{"a":'), { message: 'unexpected EOF' });
  assert.deepEqual(goJsonSyntax('"abc'), { message: 'unexpected EOF' });
  assert.deepEqual(goJsonSyntax('{"a":1}x'), { end: 7 });
  assert.deepEqual(goJsonSyntax('[1,2] [3]'), { end: 5 });
  assert.deepEqual(goJsonSyntax('x'), { message: "invalid character 'x' looking for beginning of value" });
  assert.deepEqual(goJsonSyntax('{"a":tx}'), { message: "invalid character 'x' in literal true (expecting 'r')" });
});

test("unmarshal mode: json.Unmarshal's texts, text after the value is an error", () => {
  const u = (t: string) => goJsonSyntax(t, 'unmarshal');
  for (const t of ['', '   ', '{', '{"a":', '{"a":nu', '"abc', '-', '1.', '1e', '[1,', '"\\u12']) {
    assert.deepEqual(u(t), { message: 'unexpected end of JSON input' }, JSON.stringify(t));
  }
  assert.deepEqual(u('{"a":1}x'), { message: "invalid character 'x' after top-level value" });
  assert.deepEqual(u('{} \n {}'), { message: "invalid character '{' after top-level value" });
  assert.deepEqual(u('1x'), { message: "invalid character 'x' after top-level value" });
  assert.deepEqual(u("{}'"), { message: "invalid character '\\'' after top-level value" });
  // Syntax errors inside the value keep the scanner's wording in both modes.
  assert.deepEqual(u('x{}'), { message: "invalid character 'x' looking for beginning of value" });
  assert.deepEqual(u('{"a" 1}'), { message: "invalid character '1' after object key" });
  assert.deepEqual(u('[1 2]'), { message: "invalid character '2' after array element" });
  assert.deepEqual(u('{"a":"\t"}'), { message: "invalid character '\\t' in string literal" });
  // A complete value with trailing whitespace only is valid.
  assert.deepEqual(u('{"a":1} \r\n\t'), { end: 7 });
});
