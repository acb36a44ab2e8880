import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BadRequestError } from '../errors.ts';
import { dnsConfigFrom } from './config.ts';
import { decodeDnsConfig, encodeDnsConfig } from './config-wire.ts';
import { devConfig } from '../../test/support/agent.ts';

test('a client configuration survives the header, with the server datacenter', () => {
  const cfg = dnsConfigFrom(devConfig({
    domain: 'Pc', altDomain: 'alt.example', datacenter: 'dc1',
    raw: {
      recursors: ['127.0.0.6:5353', '[::1]'],
      dns_config: {
        node_ttl: '7s', service_ttl: { '*': '11s', 'we*': '12s', web: '13s', 'ünï': '1s' }, only_passing: true, allow_stale: false,
        max_stale: '5s', udp_answer_limit: 2, a_record_limit: 1, enable_truncate: true, enable_additional_node_meta_txt: false,
        disable_compression: true, recursor_strategy: 'random', recursor_timeout: '3s', soa: { refresh: 1, retry: 2, expire: 3, min_ttl: 4 },
        prefer_namespace: true,
      },
    },
  }));
  const wire = encodeDnsConfig(cfg);
  assert.match(wire, /^[A-Za-z0-9_-]+$/, 'a valid header value');
  assert.equal(encodeDnsConfig(cfg), wire, 'stable');
  assert.deepEqual(decodeDnsConfig(wire, 'dc9'), { ...cfg, datacenter: 'dc9' });
  assert.equal(decodeDnsConfig(wire, 'dc1').domain, 'pc.');
});

test('malformed settings are a bad request', () => {
  const good = JSON.parse(Buffer.from(encodeDnsConfig(dnsConfigFrom(devConfig())), 'base64url').toString()) as Record<string, unknown>;
  const enc = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  for (const bad of ['%%%', enc(null), enc([]), enc({ ...good, domain: '' }), enc({ ...good, nodeTtl: -1 }), enc({ ...good, onlyPassing: 'yes' }),
    enc({ ...good, serviceTtl: { web: 1 } }), enc({ ...good, recursors: ['1.2.3.4'] }), enc({ ...good, soa: {} }), enc({ ...good, recursorStrategy: 'x' })]) {
    assert.throws(() => decodeDnsConfig(bad, 'dc1'), BadRequestError, bad);
  }
});

test('the WAN translation flags survive the header; settings without them decode as off', () => {
  const cfg = { ...dnsConfigFrom(devConfig({ translateWanAddrs: true })), wanAddresses: true };
  assert.deepEqual(decodeDnsConfig(encodeDnsConfig(cfg), 'dc2'), { ...cfg, datacenter: 'dc2' });
  const w = JSON.parse(Buffer.from(encodeDnsConfig(cfg), 'base64url').toString()) as Record<string, unknown>;
  delete w.translateWanAddrs;
  delete w.wanAddresses;
  const old = decodeDnsConfig(Buffer.from(JSON.stringify(w)).toString('base64url'), 'dc2');
  assert.deepEqual([old.translateWanAddrs, old.wanAddresses], [false, false]);
  assert.throws(() => decodeDnsConfig(Buffer.from(JSON.stringify({ ...w, wanAddresses: 'yes' })).toString('base64url'), 'dc2'), BadRequestError);
});
