// Namespace and partition body decoding: Go's unmarshal errors name the JSON kind as Go does
// (bool, array, object) and the field by its path from the decoded struct.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeNamespace } from './namespaces.ts';
import { decodePartition } from './partitions.ts';

test('wrong JSON types are refused with the kinds and field paths Go names', () => {
  const err = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return (e as Error).message;
    }
    return 'no error';
  };
  const pre = 'Request decode failed: json: cannot unmarshal';
  assert.equal(err(() => decodeNamespace({ Name: true })), `${pre} bool into Go struct field Namespace.Name of type string`);
  assert.equal(err(() => decodeNamespace({ Name: 'a', Description: ['x'] })), `${pre} array into Go struct field Namespace.Description of type string`);
  assert.equal(err(() => decodeNamespace({ Name: 'a', Meta: [] })), `${pre} array into Go struct field Namespace.Meta of type map[string]string`);
  assert.equal(err(() => decodeNamespace({ Name: 'a', ACLs: { PolicyDefaults: {} } })), `${pre} object into Go struct field Namespace.ACLs.PolicyDefaults of type []api.ACLLink`);
  assert.equal(err(() => decodePartition({ Name: false })), `${pre} bool into Go struct field Partition.Name of type string`);
  assert.equal(err(() => decodePartition({ Name: 'a', DisableGossip: 'yes' })), `${pre} string into Go struct field Partition.DisableGossip of type bool`);
  assert.deepEqual(decodeNamespace({ name: 'a', meta: { k: 'v' } }), { Name: 'a', Description: '', Partition: '', Meta: { k: 'v' } });
});
