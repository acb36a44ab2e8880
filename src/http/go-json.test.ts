// checkGoTypes: the first misfit in the type table's order is refused with Go's text; a
// [type, Go name] pair names the Go type; null and absent fields pass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkGoTypes, type GoType } from './go-json.ts';

const TYPES: Record<string, GoType | [GoType, string]> = {
  Name: 'string', Port: 'number', Tags: '[]string', Meta: 'map[string]string', Locality: ['object', 'structs.Locality'], Raw: 'object',
};
const check = (b: Record<string, unknown>) => checkGoTypes(b, TYPES, 'S', 'Request decode failed', 'At.');

test('the first misfit in table order is refused, whatever the body order', () => {
  assert.throws(() => check({ Meta: { k: 1 }, Port: '80', Name: 1 }), { message: 'Request decode failed: json: cannot unmarshal number into Go struct field S.At.Name of type string' });
  assert.throws(() => check({ Meta: { k: 1 }, Port: '80' }), { message: 'Request decode failed: json: cannot unmarshal string into Go struct field S.At.Port of type int' });
  assert.throws(() => check({ Tags: ['a', 2] }), { message: 'Request decode failed: json: cannot unmarshal number into Go struct field S.At.Tags of type []string' });
});

test('a [type, name] pair names the Go type; plain kinds get Go\'s generic names', () => {
  assert.throws(() => check({ Locality: 'x' }), { message: 'Request decode failed: json: cannot unmarshal string into Go struct field S.At.Locality of type structs.Locality' });
  assert.throws(() => check({ Raw: [] }), { message: 'Request decode failed: json: cannot unmarshal array into Go struct field S.At.Raw of type map[string]interface {}' });
});

test('well-typed, null and absent fields pass', () => {
  check({});
  check({ Name: null, Port: null, Tags: null, Meta: null, Locality: null, Raw: null });
  check({ Name: 'n', Port: 80, Tags: ['a', null], Meta: { k: 'v' }, Locality: { Region: 'r' }, Raw: {}, Other: 5 });
});

test('body keys that are no field of the table pass, Object.prototype names included', () => {
  check(JSON.parse('{"constructor": 1, "toString": [], "__proto__": 5, "hasOwnProperty": {}}') as Record<string, unknown>);
  assert.throws(() => check(JSON.parse('{"constructor": 1, "Port": true}') as Record<string, unknown>), { message: 'Request decode failed: json: cannot unmarshal bool into Go struct field S.At.Port of type int' });
});
