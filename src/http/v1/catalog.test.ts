// Catalog register bodies of the wrong JSON types are refused with Go's unmarshal error (400), as
// Consul's decoder refuses them; they reached the endpoint and failed there with a TypeError (500).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRegister } from './catalog.ts';

const body = (v: unknown) => Buffer.from(JSON.stringify(v));

test('wrong JSON types in a register body are a 400 naming the Go struct field', () => {
  assert.throws(() => decodeRegister(body({ Node: true, Address: 'a' })), { name: 'BadRequestError', message: 'Request decode failed: json: cannot unmarshal bool into Go struct field RegisterRequest.Node of type string' });
  assert.throws(() => decodeRegister(body({ Node: 'n', NodeMeta: { k: 1 } })), { message: 'Request decode failed: json: cannot unmarshal number into Go struct field RegisterRequest.NodeMeta of type map[string]string' });
  assert.throws(() => decodeRegister(body({ Node: 'n', Service: { Service: 's', Tags: 'a' } })), { message: 'Request decode failed: json: cannot unmarshal string into Go struct field NodeService.Service.Tags of type []string' });
  assert.throws(() => decodeRegister(body({ Node: 'n', Service: { Service: 's', Port: '80' } })), { message: 'Request decode failed: json: cannot unmarshal string into Go struct field NodeService.Service.Port of type int' });
  assert.throws(() => decodeRegister(body({ Node: 'n', Checks: [{ CheckID: 5 }] })), { message: 'Request decode failed: json: cannot unmarshal number into Go struct field HealthCheck.Checks.CheckID of type string' });
});

test('a well-typed body decodes as before (keys in any case)', () => {
  const r = decodeRegister(body({ node: 'n', Address: 'a', Service: { service: 's', Port: 80, Tags: ['t'] }, Check: { Name: 'c' } }));
  assert.equal(r.Node, 'n');
  assert.equal(r.Service?.Service, 's');
  assert.equal(r.Check?.Name, 'c');
});

test('an unknown top-level key is Consul\'s unknown-field 400 naming it as sent; every RegisterRequest key is known', () => {
  // python-consul 0.7.1 puts its token in the body as the Go struct name.
  assert.throws(() => decodeRegister(body({ node: 'n', address: 'a', WriteRequest: { Token: 't' } })),
    { name: 'BadRequestError', message: 'Request decode failed: json: unknown field "WriteRequest"' });
  assert.throws(() => decodeRegister(body({ Node: 'n', nodemeta: {}, Bogus: 1, Other: 2 })), { message: 'Request decode failed: json: unknown field "Bogus"' });
  const all = {
    ID: '', Node: 'n', Address: 'a', Datacenter: 'dc1', TaggedAddresses: {}, NodeMeta: {}, SkipNodeUpdate: false, Partition: '',
    Namespace: '', PeerName: '', token: '', CreateIndex: 0, ModifyIndex: 0, Checks: [],
  };
  assert.equal(decodeRegister(body(all)).Node, 'n');
});
