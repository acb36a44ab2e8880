import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KVPair } from '../api/index.ts';
import { decodeBase64Strict, goJsonIndent, parseEntries, toEntry } from './kv-entry.ts';

const pair = (Key: string, value: string | null, Flags = 0): KVPair => ({
  Key, Flags, LockIndex: 0, CreateIndex: 5, ModifyIndex: 6, Value: value === null ? null : Buffer.from(value).toString('base64'),
});

test('export renders Go MarshalIndent with tabs and HTML-safe escapes', () => {
  const json = goJsonIndent([toEntry(pair('a/<b>', 'x&y', 42)), toEntry(pair('empty', null))]);
  assert.equal(json, [
    '[', '\t{', '\t\t"key": "a/\\u003cb\\u003e",', '\t\t"flags": 42,', `\t\t"value": "${Buffer.from('x&y').toString('base64')}"`, '\t},',
    '\t{', '\t\t"key": "empty",', '\t\t"flags": 0,', '\t\t"value": ""', '\t}', ']',
  ].join('\n'));
  assert.equal(goJsonIndent([]), '[]');
});

test('export then import round-trips keys, flags and bytes', () => {
  const binary = Buffer.from([0, 255, 10, 13, 200]);
  const pairs: KVPair[] = [pair('k1', 'v1', 7), { ...pair('bin', null), Value: binary.toString('base64') }];
  const back = parseEntries(goJsonIndent(pairs.map(toEntry)));
  assert.deepEqual(back.map((e) => e.key), ['k1', 'bin']);
  assert.equal(back[0].flags, 7);
  assert.deepEqual(decodeBase64Strict(back[1].value), binary);
});

test('import matches field names case-insensitively and reports Go unmarshal errors', () => {
  assert.deepEqual(parseEntries('[{"Key":"a","FLAGS":3,"Value":"dg=="}]'), [{ key: 'a', flags: 3, value: 'dg==' }]);
  assert.throws(() => parseEntries('{"key":"a"}'), { message: 'json: cannot unmarshal object into Go value of type []*impexp.Entry' });
  assert.throws(() => parseEntries('[{"key":"a","flags":"x"}]'), { message: 'json: cannot unmarshal string into Go struct field Entry.flags of type uint64' });
  assert.throws(() => parseEntries('[{'));
});

test('base64 decoding is as strict as Go StdEncoding', () => {
  assert.equal(decodeBase64Strict('aGVsbG8=').toString(), 'hello');
  assert.equal(decodeBase64Strict('aGVs\nbG8=').toString(), 'hello');
  assert.equal(decodeBase64Strict('').length, 0);
  assert.throws(() => decodeBase64Strict('aGVsbG8'), { message: 'illegal base64 data at input byte 4' });
  assert.throws(() => decodeBase64Strict('aG!sbG8='), { message: 'illegal base64 data at input byte 2' });
  assert.throws(() => decodeBase64Strict('aGVsbG8=aGVs'), { message: 'illegal base64 data at input byte 8' });
});
