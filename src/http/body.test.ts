// Request-body decoding: canonical() respells keys case-insensitively into a copy;
// canonicalOwned() keeps an object whose keys are all canonical already, and otherwise gives the
// very same answer as canonical().
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonical, canonicalOwned, parseJSON } from './body.ts';

const FIELDS = ['Node', 'Address', 'Service'] as const;

test('canonicalOwned keeps an object already spelled canonically', () => {
  const obj = parseJSON(Buffer.from('{"Node":"n1","Address":"10.0.0.1"}'));
  const out = canonicalOwned(obj, FIELDS);
  assert.equal(out, obj);
  assert.deepEqual(out, canonical(obj, FIELDS));
});

test('canonicalOwned falls back to the canonical copy for other spellings, unknown keys and __proto__', () => {
  for (const body of [
    '{"node":"n1","Address":"a"}',
    '{"Node":"n1","node":"n2"}',
    '{"Node":"n1","Extra":1}',
    '{"Node":"n1","__proto__":{"polluted":true}}',
  ]) {
    const obj = parseJSON(Buffer.from(body));
    const out = canonicalOwned(obj, FIELDS);
    assert.notEqual(out, obj, body);
    assert.deepEqual(out, canonical(parseJSON(Buffer.from(body)), FIELDS), body);
  }
});

test('canonicalOwned answers {} for what is not a plain object, as canonical does', () => {
  for (const v of [null, 3, 'x', [1], undefined]) assert.deepEqual(canonicalOwned(v, FIELDS), canonical(v, FIELDS));
});

test('parseJSON words syntax errors as Go\'s json.Decoder and, like it, ignores text after the first value', () => {
  const err = (t: string) => {
    try { parseJSON(Buffer.from(t)); } catch (e) { return (e as Error).message; }
    return 'no error';
  };
  assert.equal(err('{"Name": "x"'), 'Request decode failed: unexpected EOF');
  assert.equal(err('undefined'), "Request decode failed: invalid character 'u' looking for beginning of value");
  assert.equal(err('{"a" 1}'), "Request decode failed: invalid character '1' after object key");
  assert.equal(err('{"a":1 "b":2}'), `Request decode failed: invalid character '"' after object key:value pair`);
  assert.equal(err('[1 2]'), "Request decode failed: invalid character '2' after array element");
  assert.equal(err('{,}'), "Request decode failed: invalid character ',' looking for beginning of object key string");
  assert.equal(err('\u0000'), "Request decode failed: invalid character '\\x00' looking for beginning of value");
  assert.equal(err('tru!'), "Request decode failed: invalid character '!' in literal true (expecting 'e')");
  assert.equal(err('   '), 'Request decode failed: EOF');
  assert.deepEqual(parseJSON(Buffer.from('{"a":1} trailing')), { a: 1 });
  assert.deepEqual(parseJSON(Buffer.from('[18446744073709551616] x')), [18446744073709551616n]);
});
