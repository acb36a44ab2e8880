// Go strconv behaviour that filters depend on: literal unquoting and value coercion.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CoercionError, goParseBool, goParseFloat, goParseInt, goParseUint, goUnquote } from './strconv.ts';

test('goUnquote: Go escapes, UTF-8 bytes, and the escapes Go rejects', () => {
  assert.equal(goUnquote('plain'), 'plain');
  assert.equal(goUnquote('\\a\\b\\f\\n\\r\\t\\v\\\\'), '\x07\b\f\n\r\t\v\\');
  assert.equal(goUnquote('\\xc3\\xa9 \\303\\251 \\u00e9 \\U0001F600'), 'é é é 😀');
  for (const bad of ["\\'", '\\q', 'trailing\\', '\\x4', '\\400', '\\ud800', 'new\nline', '\\U00110000']) {
    assert.equal(goUnquote(bad), undefined, bad);
  }
});

test('goParseInt: base prefixes, leading-zero octal, underscores, range', () => {
  assert.equal(goParseInt('42'), 42n);
  assert.equal(goParseInt('-0x2A'), -42n);
  assert.equal(goParseInt('0b101010'), 42n);
  assert.equal(goParseInt('0o52'), 42n);
  assert.equal(goParseInt('052'), 42n);
  assert.equal(goParseInt('1_000'), 1000n);
  assert.equal(goParseInt('9223372036854775807'), 9223372036854775807n);
  assert.throws(() => goParseInt('9223372036854775808'), { message: 'strconv.ParseInt: parsing "9223372036854775808": value out of range' });
  for (const bad of ['1.5', 'abc', '', '08', '1__0', '_1', '0x']) assert.throws(() => goParseInt(bad), CoercionError, bad);
});

test('goParseUint rejects signs and values past 2^64-1', () => {
  assert.equal(goParseUint('18446744073709551615'), 18446744073709551615n);
  assert.throws(() => goParseUint('-1'), { message: 'strconv.ParseUint: parsing "-1": invalid syntax' });
  assert.throws(() => goParseUint('18446744073709551616'), /value out of range/);
});

test('goParseFloat and goParseBool', () => {
  assert.equal(goParseFloat('1.5e3'), 1500);
  assert.equal(goParseFloat('.5'), 0.5);
  assert.equal(goParseFloat('-Inf'), -Infinity);
  assert.ok(Number.isNaN(goParseFloat('NaN')));
  assert.throws(() => goParseFloat('1.2.3'), { message: 'strconv.ParseFloat: parsing "1.2.3": invalid syntax' });
  assert.equal(goParseBool('T'), true);
  assert.equal(goParseBool('0'), false);
  assert.throws(() => goParseBool('yes'), { message: 'strconv.ParseBool: parsing "yes": invalid syntax' });
});
