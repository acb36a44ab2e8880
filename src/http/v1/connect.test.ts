// PUT /v1/connect/ca/configuration: the provider Config is a Go map[string]interface{}, whose
// numbers are float64s; a huge integer there reached the store as a BigInt (500 "Do not know how
// to serialize a BigInt").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectHandlers } from './connect.ts';
import type { HttpRequest } from '../request.ts';

test('a big integer in the CA provider Config is a number, as in Go\'s interface{}', async () => {
  let seen: any;
  const ca = { setConfiguration: async (u: unknown) => { seen = u; } } as never;
  const h = connectHandlers(ca, { datacenter: 'dc1', defaultToken: '' });
  const body = Buffer.from('{"Provider":"consul","Config":{"LeafCertTTL":18446744073709551616,"List":[99999999999999999999]}}');
  const req = { method: 'PUT', path: '/v1/connect/ca/configuration', params: { rest: '' }, query: new URLSearchParams(), headers: {}, remoteAddr: '127.0.0.1', signal: new AbortController().signal, body: async () => body } as unknown as HttpRequest;
  await h.setConfiguration(req);
  assert.equal(typeof seen.Config.LeafCertTTL, 'number');
  assert.equal(typeof seen.Config.List[0], 'number');
  assert.doesNotThrow(() => JSON.stringify(seen));
});
