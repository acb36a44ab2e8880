import assert from 'node:assert/strict';
import { test } from 'node:test';
import dnsPacket, { type Answer } from 'dns-packet';
import { parseName } from '../dns/index.ts';
import { cachedAnswer, cacheQuestion, fillQuery, replaySections } from './dns-cached-answer.ts';

const q = (name: string, type = 'A', token = '') => cacheQuestion(parseName(name, type, 'consul.', '')!, type, 'IN', token, 'dc1');

test('services, connect, ingress and nodes are refreshed on their blocking reads; prepared queries are simple entries', () => {
  assert.deepEqual(q('web.service.consul')?.watch, { key: '\n/v1/health/service/web', path: '/v1/health/service/web?stale', headers: {} });
  assert.equal(q('v1.web.service.dc2.consul', 'A', 's3cret')?.watch?.path, '/v1/health/service/web?stale&dc=dc2');
  assert.deepEqual(q('v1.web.service.dc2.consul', 'A', 's3cret')?.watch?.headers, { 'x-consul-token': 's3cret' });
  assert.equal(q('v1.web.service.dc2.consul')?.ownDatacenter, false);
  assert.equal(q('web.service.dc1.consul')?.ownDatacenter, true);
  assert.equal(q('_web._tcp.service.consul', 'SRV')?.watch?.path, '/v1/health/service/web?stale');
  assert.equal(q('web.connect.consul')?.watch?.path, '/v1/health/connect/web?stale');
  assert.equal(q('gw.ingress.consul')?.watch?.path, '/v1/health/ingress/gw?stale');
  assert.equal(q('n1.node.consul')?.watch?.path, '/v1/catalog/node/n1?stale');
  const pq = q('geo.query.consul');
  assert.ok(pq && !pq.watch, 'prepared queries: no background refresh');
  assert.notEqual(q('web.service.consul', 'A', 'a')?.key, q('web.service.consul', 'A', 'b')?.key, 'answers are per token');
  assert.notEqual(q('web.service.consul', 'A')?.key, q('web.service.consul', 'SRV')?.key, 'and per type');
  for (const name of ['1.0.0.127.in-addr.arpa', 'web.virtual.consul', '7f000001.addr.dc1.consul', 'consul', 'web.service.ns1.dc1.consul', 'web.service.p1.peer.consul']) {
    assert.equal(q(name), null, `${name} is not cached`);
  }
});

function reply(answers: Answer[], rcode = 0): Buffer {
  return dnsPacket.encode({ type: 'response', id: 0, flags: dnsPacket.AUTHORITATIVE_ANSWER | rcode, questions: [{ name: 'web.service.consul', type: 'A' }], answers });
}

test('a replayed service answer is shuffled by instance, and a_record_limit counts instances', () => {
  const answers: Answer[] = [
    { type: 'A', name: 'web.service.consul', ttl: 0, data: '10.0.0.1' },
    { type: 'CNAME', name: 'web.service.consul', ttl: 0, data: 'host.example' },
    { type: 'A', name: 'host.example', ttl: 0, data: '10.0.0.9' },
    { type: 'A', name: 'web.service.consul', ttl: 0, data: '10.0.0.3' },
  ];
  const cached = cachedAnswer(reply(answers), { shuffle: true, limit: true })!;
  assert.equal(cached.rcode, 0);
  const orders = new Set<string>();
  for (let i = 0; i < 40; i++) {
    const out = replaySections(cached, 'web.service.consul.', { aRecordLimit: 0 }, Math.random).answers;
    assert.equal(out.length, 4);
    const cname = out.findIndex((a) => a.type === 'CNAME');
    assert.equal(out[cname + 1].name, 'host.example', 'a CNAME target stays behind its CNAME');
    orders.add(out.map((a) => (a.type === 'A' ? a.data : a.type)).join(','));
  }
  assert.ok(orders.size > 1, 'the order changes between replays');
  const limited = replaySections(cached, 'web.service.consul.', { aRecordLimit: 2 }, () => 0.5).answers;
  assert.ok(limited.length === 2 || limited.length === 3, 'two instances (the CNAME one has two records)');
  assert.equal(replaySections(cachedAnswer(reply(answers), { shuffle: false, limit: false })!, 'web.service.consul.', { aRecordLimit: 1 }, Math.random).answers.length, 4,
    'node and SRV answers are replayed as given');
});

test('only NOERROR and NXDOMAIN answers are kept; the fill question asks without EDNS0', () => {
  assert.equal(cachedAnswer(reply([], 3), { shuffle: true, limit: true })?.rcode, 3);
  assert.equal(cachedAnswer(reply([], 2), { shuffle: true, limit: true }), null);
  const fill = dnsPacket.decode(fillQuery({ name: 'web.service.consul.', type: 'SRV', class: 'IN' }));
  assert.deepEqual(fill.questions, [{ name: 'web.service.consul', type: 'SRV', class: 'IN' }]);
  assert.deepEqual(fill.additionals, []);
});
