// Tests for isReverse: which questions Consul's DNS server hands to its PTR handler (dns.ptr_query).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import dnsPacket from 'dns-packet';
import { isReverse } from './server.ts';

const q = (name: string, type: 'A' | 'PTR' = 'A') => dnsPacket.encode({ type: 'query', id: 1, questions: [{ type, name }] });

test('reverse names end in arpa, in any case; other names and broken messages are not', () => {
  assert.equal(isReverse(q('1.0.0.10.in-addr.arpa', 'PTR')), true);
  assert.equal(isReverse(q('1.0.0.10.IN-ADDR.ARPA', 'PTR')), true);
  assert.equal(isReverse(q('b.a.9.8.ip6.arpa', 'PTR')), true);
  assert.equal(isReverse(q('web.service.consul')), false);
  assert.equal(isReverse(q('arpa.service.consul')), false);
  assert.equal(isReverse(q('carpa')), false);
  assert.equal(isReverse(Buffer.alloc(8)), false);
  assert.equal(isReverse(q('1.0.0.10.in-addr.arpa').subarray(0, 30)), false);
});
