import assert from 'node:assert/strict';
import { test } from 'node:test';
import dnsPacket, { type Answer } from 'dns-packet';
import { parseName } from '../dns/index.ts';
import { cachedAnswer, cacheQuestion, fillQuery, replaySections } from './dns-cached-answer.ts';

const q = (name: string, type = 'A', token = '', source = '', preferNamespace = false) =>
  cacheQuestion(parseName(name, type, 'consul.', '')!, type, 'IN', token, { datacenter: 'dc1', preferNamespace }, source);

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
  for (const name of ['1.0.0.127.in-addr.arpa', 'web.virtual.consul', '7f000001.addr.dc1.consul', 'consul']) {
    assert.equal(q(name), null, `${name} is not cached`);
  }
});

test('namespace, partition, peer and sameness-group lookups are cached under keys of their own', () => {
  const plain = q('web.service.consul')!;
  const names = ['web.service.default.ns.consul', 'web.service.default.ap.consul', 'web.service.ns1.ns.consul', 'web.service.ns1.dc1.consul',
    'web.service.p1.ap.consul', 'web.service.p1.peer.consul', 'web.service.sg1.sg.consul', 'n1.node.p1.peer.consul', 'n1.node.p1.ap.consul'];
  const keys = new Set([plain.key]);
  for (const name of names) {
    const c = q(name);
    assert.ok(c, `${name} is cached`);
    keys.add(c.key);
  }
  assert.equal(keys.size, names.length + 1, 'no two share an answer');
  // The default namespace and partition are the catalog's: refreshed on its blocking read.
  assert.equal(q('web.service.default.ns.consul')?.watch?.path, '/v1/health/service/web?stale');
  assert.equal(q('web.service.default.ns.default.ap.dc2.dc.consul')?.watch?.path, '/v1/health/service/web?stale&dc=dc2');
  // A namespace's services are watched in it; nodes are partition-level.
  assert.equal(q('web.service.ns1.ns.consul')?.watch?.path, '/v1/health/service/web?stale&ns=ns1');
  assert.equal(q('web.connect.ns1.dc2.consul')?.watch?.path, '/v1/health/connect/web?stale&dc=dc2&ns=ns1');
  assert.equal(q('n1.node.ns1.ns.consul')?.watch?.path, '/v1/catalog/node/n1?stale');
  // Other partitions are watched there (nodes too).
  assert.equal(q('n1.node.p1.ap.consul')?.watch?.path, '/v1/catalog/node/n1?stale&partition=p1');
  assert.equal(q('web.service.ns1.ns.p1.ap.consul')?.watch?.path, '/v1/health/service/web?stale&partition=p1&ns=ns1');
  assert.equal(q('web.ingress.ns1.ns.consul')?.watch?.path, '/v1/health/ingress/web?stale&ns=ns1');
  assert.equal(q('web.ingress.p1.ap.consul')?.watch?.path, '/v1/health/ingress/web?stale&partition=p1');
  // A peer's and a sameness group's service answers are watched on health/service?peer= and ?sg= in their partition and namespace.
  assert.equal(q('web.service.p1.peer.consul')?.watch?.path, '/v1/health/service/web?stale&peer=p1');
  assert.equal(q('web.service.ns1.ns.p1.peer.p2.ap.consul')?.watch?.path, '/v1/health/service/web?stale&partition=p2&ns=ns1&peer=p1');
  assert.equal(q('n1.node.p1.peer.consul')?.watch, undefined, 'a peer\'s node: kept as fetched');
  assert.equal(q('web.service.sg1.sg.consul')?.watch?.path, '/v1/health/service/web?stale&sg=sg1');
  assert.equal(q('web.service.ns1.ns.sg1.sg.p1.ap.consul')?.watch?.path, '/v1/health/service/web?stale&partition=p1&ns=ns1&sg=sg1');
  // prefer_namespace: a lone label is a namespace, not a datacenter.
  assert.equal(q('web.service.dc2.consul')?.watch?.path, '/v1/health/service/web?stale&dc=dc2');
  assert.equal(q('web.service.dc2.consul', 'A', '', '', true)?.watch?.path, '/v1/health/service/web?stale&ns=dc2');
  // A client agent in another partition: its plain names are that partition's, watched there; .default.ap names the default one.
  const inP1 = (name: string) => cacheQuestion(parseName(name, 'A', 'consul.', '')!, 'A', 'IN', '', { datacenter: 'dc1', preferNamespace: false, partition: 'p1' });
  assert.equal(inP1('web.service.consul')?.watch?.path, '/v1/health/service/web?stale&partition=p1');
  assert.equal(inP1('n1.node.consul')?.watch?.path, '/v1/catalog/node/n1?stale&partition=p1');
  assert.equal(inP1('web.service.default.ap.consul')?.watch?.path, '/v1/health/service/web?stale');
  assert.notEqual(inP1('web.service.consul')?.watch?.key, q('web.service.consul')?.watch?.key, 'a watch of its own');
  assert.equal(q('web.service.default.consul', 'A', '', '', true)?.watch?.path, '/v1/health/service/web?stale');
});

test('a prepared query\'s answer is keyed by the address it runs near; other answers are not', () => {
  const a = q('geo.query.consul', 'A', '', '10.0.0.1')!;
  const b = q('geo.query.consul', 'A', '', '10.0.0.2')!;
  assert.notEqual(a.key, b.key);
  assert.equal(a.source, '10.0.0.1');
  assert.equal(q('geo.query.consul', 'A', '', '10.0.0.1')!.key, a.key);
  assert.equal(q('web.service.consul', 'A', '', '10.0.0.1')!.key, q('web.service.consul', 'A', '', '10.0.0.2')!.key);
  assert.equal(q('web.service.consul', 'A', '', '10.0.0.1')!.source, '');
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
