// `.query` DNS lookups with `dig` against a real agent: A and SRV answers from a prepared query's
// healthy instances, the query's DNS TTL over service_ttl, RFC 2782 names, templates, and
// NXDOMAIN for unknown queries and queries without results, and Near _ip from the asker's address.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import { dig } from './support/dns.ts';

let dev: DevAgent;
const port = (): number => Number(dev.agent.dnsAddresses().udp[0].split(':').pop());

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any; text: string }> {
  const res = await fetch(`http://${dev.httpAddr}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json: unknown;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, json, text };
}

before(async () => {
  dev = await startDevAgent({ config: { dnsAddrs: [{ kind: 'tcp', host: '127.0.0.1', port: 0 }], raw: { dns_config: { service_ttl: { '*': '5s' } } } } });
  for (let i = 1; i <= 3; i++) {
    const r = await call('PUT', '/v1/catalog/register', {
      Node: `n${i}`, Address: `10.0.0.${i}`, Service: { ID: 'web', Service: 'web', Port: 80 + i, Tags: i === 3 ? ['v2'] : ['v1'] },
      Checks: i === 2 ? [{ CheckID: 'c', Name: 'c', ServiceID: 'web', Status: 'critical' }] : [],
    });
    assert.equal(r.status, 200, r.text);
  }
  for (const [node, address] of [['i1', '10.0.9.1'], ['i2', '127.0.0.7'], ['i3', '10.0.9.3']]) {
    assert.equal((await call('PUT', '/v1/catalog/register', { Node: node, Address: address, Service: { ID: 'ipsvc', Service: 'ipsvc', Port: 1 } })).status, 200);
  }
  for (const body of [
    { Name: 'nearq', Service: { Service: 'ipsvc', Near: '_ip' } },
    { Name: 'webq', Service: { Service: 'web' }, DNS: { TTL: '12s' } },
    { Name: 'v1q', Service: { Service: 'web', Tags: ['v1'] } },
    { Name: 'emptyq', Service: { Service: 'nothing' } },
    { Name: 'tmpl-', Template: { Type: 'name_prefix_match' }, Service: { Service: '${name.suffix}' } },
  ]) assert.equal((await call('POST', '/v1/query', body)).status, 200);
});
after(async () => {
  await dev?.stop();
});

test('A answers come from the query, with its DNS TTL', async () => {
  const r = await dig(port(), 'webq.query.consul', 'A');
  assert.equal(r.status, 'NOERROR');
  assert.deepEqual(r.answer.map((a) => a[4]).sort(), ['10.0.0.1', '10.0.0.3']);
  assert.ok(r.answer.every((a) => a[1] === '12'));
  const dc = await dig(port(), 'webq.query.dc1.consul', 'A');
  assert.equal(dc.answer.length, 2);
});

test('tags filter, service_ttl applies without a query TTL, SRV and RFC 2782 forms', async () => {
  const r = await dig(port(), 'v1q.query.consul', 'A');
  assert.deepEqual(r.answer.map((a) => a[4]), ['10.0.0.1']);
  assert.equal(r.answer[0][1], '5');
  const srv = await dig(port(), '_v1q._tcp.query.consul', 'SRV');
  assert.equal(srv.status, 'NOERROR');
  assert.equal(srv.answer.length, 1);
  assert.deepEqual(srv.answer[0].slice(3, 7), ['SRV', '1', '1', '81']);
});

test('templates resolve by name, unknown and empty queries are NXDOMAIN', async () => {
  assert.equal((await dig(port(), 'tmpl-web.query.consul', 'A')).answer.length, 2);
  assert.equal((await dig(port(), 'nope.query.consul', 'A')).status, 'NXDOMAIN');
  assert.equal((await dig(port(), 'emptyq.query.consul', 'A')).status, 'NXDOMAIN');
  assert.equal((await dig(port(), 'webq.query.dc9.consul', 'A')).status, 'NXDOMAIN');
});

test('Near _ip puts the node with the asking address first', async () => {
  for (let i = 0; i < 8; i++) {
    // Asked from 127.0.0.7 (i2's address).
    const r = await dig(port(), '-b', '127.0.0.7', 'nearq.query.consul', 'A');
    assert.equal(r.answer.length, 3);
    assert.equal(r.answer[0][4], '127.0.0.7');
  }
});

test('an EDNS0 client subnet is where the query runs near (_ip), and its echo is scoped to that subnet', async () => {
  for (let i = 0; i < 8; i++) {
    const r = await dig(port(), '+subnet=10.0.9.3/32', 'nearq.query.consul', 'A');
    assert.equal(r.answer[0][4], '10.0.9.3');
    assert.match(r.raw, /CLIENT-SUBNET: 10\.0\.9\.3\/32\/32/);
  }
  // Other answers, and failures, hold everywhere: scope 0.
  assert.match((await dig(port(), '+subnet=10.0.9.0/24', 'web.service.consul', 'A')).raw, /CLIENT-SUBNET: 10\.0\.9\.0\/24\/0/);
  assert.match((await dig(port(), '+subnet=10.0.9.0/24', 'nope.query.consul', 'A')).raw, /CLIENT-SUBNET: 10\.0\.9\.0\/24\/0/);
});
