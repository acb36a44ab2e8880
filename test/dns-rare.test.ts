// Rarer DNS questions against a real agent with `dig`, checked against Consul's current DNS server
// (agent/dns since 1.19.1): an SRV target for a service at its node's address, dotted tags, zone
// transfers and other opcodes, reverse names of namespaced services, prepared query TTLs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import { dig } from './support/dns.ts';

let a: DevAgent;
const port = (): number => Number(a.agent.dnsAddresses().udp[0].split(':').pop());

const put = (path: string, body: unknown): Promise<string> => send('PUT', path, body);
const post = (path: string, body: unknown): Promise<string> => send('POST', path, body);

async function send(method: string, path: string, body: unknown): Promise<string> {
  const res = await fetch(`http://${a.httpAddr}${path}`, { method, body: JSON.stringify(body) });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return text;
}

before(async () => {
  a = await startDevAgent({ config: { dnsAddrs: [{ kind: 'tcp', host: '127.0.0.1', port: 0 }], raw: { dns_config: { enable_additional_node_meta_txt: false, node_ttl: '3s', service_ttl: { 'fast*': '11s', slowsvc: '22s' } } } } });
});
after(async () => {
  await a?.stop();
});

describe('DNS: rarer questions as Consul 1.19.1+ answers them', () => {
  test('SRV: a service registered at its node\'s own address is targeted <hex>.addr (as Nomad registers), one without an address by the node', async () => {
    // The agent's node is at 127.0.0.1 (advertise_addr), as in Consul's TestDNS_ServiceAddressWithTagLookup.
    await put('/v1/agent/service/register', { ID: 'db-1', Name: 'db', Tags: ['primary'], Address: '127.0.0.1', Port: 12345 });
    await put('/v1/agent/service/register', { ID: 'db-2', Name: 'db', Tags: ['secondary'], Address: '127.0.0.2', Port: 12345 });
    await put('/v1/agent/service/register', { ID: 'plain', Name: 'plain', Port: 7000 });
    for (const q of ['_db._primary.service.dc1.consul', 'primary.db.service.dc1.consul']) {
      const r = await dig(port(), q, 'SRV');
      assert.deepEqual(r.answer.map((x) => x.slice(4).join(' ')), ['1 1 12345 7f000001.addr.dc1.consul.'], q);
      assert.deepEqual(r.additional.map((x) => [x[0], x[3], x[4]]), [['7f000001.addr.dc1.consul.', 'A', '127.0.0.1']], q);
    }
    const plain = await dig(port(), 'plain.service.consul', 'SRV');
    assert.deepEqual(plain.answer.map((x) => x.slice(4).join(' ')), ['1 1 7000 test-node.node.dc1.consul.']);
  });

  test('a dotted tag (more than one label before the service) is NXDOMAIN with the SOA, even for a tag holding the dot', async () => {
    await put('/v1/catalog/register', { Node: 'tagged', Address: '10.9.0.1', Service: { ID: 'dotted', Service: 'dotted', Port: 80, Tags: ['a.b', 'b'] } });
    assert.deepEqual((await dig(port(), 'b.dotted.service.consul', 'A')).answer.map((x) => x[4]), ['10.9.0.1'], 'one tag still filters');
    for (const [q, type] of [['a.b.dotted.service.consul', 'A'], ['banana._db._primary.service.dc1.consul', 'SRV']]) {
      const r = await dig(port(), q, type);
      assert.equal(r.status, 'NXDOMAIN', q);
      assert.deepEqual(r.answer, [], q);
      assert.deepEqual(r.authority.map((x) => [x[0], x[3]]), [['consul.', 'SOA']], q);
    }
  });

  test('zone transfers are answered as any other type (NXDOMAIN for the domain, NODATA for a service); other opcodes NOTIMP, NOTIFY as a query; any class', async () => {
    await put('/v1/catalog/register', { Node: 'zt', Address: '10.9.1.1', Service: { ID: 'zt', Service: 'zt', Port: 80 } });
    for (const [name, type, want] of [['consul', 'AXFR', 'NXDOMAIN'], ['zt.service.consul', 'AXFR', 'NOERROR'], ['zt.service.consul', 'IXFR', 'NOERROR']]) {
      const r = await udp({ type: 'query', id: 42, questions: [{ type: type as 'AXFR', name }] });
      assert.equal(r.rcode, want, `${name} ${type}`);
      assert.deepEqual([r.answers!.length, r.authorities!.map((x) => x.type)], [0, ['SOA']], `${name} ${type}`);
    }
    const notify = await dig(port(), '+opcode=notify', 'zt.service.consul', 'A');
    assert.match(notify.raw, /opcode: NOTIFY, status: NOERROR/);
    assert.deepEqual(notify.answer.map((x) => x[4]), ['10.9.1.1']);
    for (const opcode of ['status', 'update']) {
      const r = await dig(port(), `+opcode=${opcode}`, 'zt.service.consul', 'A');
      assert.match(r.raw, new RegExp(`opcode: ${opcode.toUpperCase()}, status: NOTIMP`), opcode);
    }
    for (const cls of ['CH', 'ANY']) {
      const r = await dig(port(), '-c', cls, 'zt.service.consul', 'A');
      assert.deepEqual(r.answer.map((x) => [x[2], x[4]]), [['IN', '10.9.1.1']], cls);
    }
  });

  test('a prepared query without a DNS TTL takes the service_ttl of its name as asked (else node_ttl), not of its service', async () => {
    await put('/v1/catalog/register', { Node: 'pq', Address: '10.9.2.1', Service: { ID: 'slowsvc', Service: 'slowsvc', Port: 80 } });
    const id = JSON.parse(await post('/v1/query', { Name: 'fastq', Service: { Service: 'slowsvc' } })).ID as string;
    await post('/v1/query', { Name: 'tuned', Service: { Service: 'slowsvc' }, DNS: { TTL: '7s' } });
    const ttls = async (q: string, type = 'A') => (await dig(port(), q, type)).answer.map((x) => x[1]);
    assert.deepEqual(await ttls('slowsvc.service.consul'), ['22']);
    assert.deepEqual(await ttls('fastq.query.consul'), ['11']);
    assert.deepEqual(await ttls('_fastq._tcp.query.consul', 'SRV'), ['11']);
    assert.deepEqual(await ttls(`${id}.query.consul`), ['3'], 'by ID: no service_ttl key matches');
    assert.deepEqual(await ttls('tuned.query.consul'), ['7'], 'the query\'s own TTL first');
  });

  test('PTR of a service address in another namespace names it <svc>.service.<ns>.<dc>; another partition\'s addresses are not this agent\'s', async () => {
    await put('/v1/namespace', { Name: 'team' });
    await put('/v1/catalog/register', { Node: 'nsnode', Address: '10.9.3.1', Service: { ID: 'api', Service: 'api', Port: 80, Address: '10.9.3.2', Namespace: 'team' } });
    await put('/v1/catalog/register', { Node: 'dfnode', Address: '10.9.3.3', Service: { ID: 'web', Service: 'web', Port: 80, Address: '10.9.3.4' } });
    await put('/v1/partition', { Name: 'ap1' });
    await put('/v1/catalog/register?partition=ap1', { Node: 'apnode', Address: '10.9.3.5', Service: { ID: 'apsvc', Service: 'apsvc', Port: 80, Address: '10.9.3.6' } });
    const ptr = async (ip: string) => (await dig(port(), '-x', ip)).answer.map((x) => x[4]);
    assert.deepEqual(await ptr('10.9.3.2'), ['api.service.team.dc1.consul.']);
    assert.deepEqual(await ptr('10.9.3.4'), ['web.service.dc1.consul.']);
    assert.deepEqual(await ptr('10.9.3.1'), ['nsnode.node.dc1.consul.']);
    for (const ip of ['10.9.3.5', '10.9.3.6']) assert.equal((await dig(port(), '-x', ip)).status, 'NXDOMAIN', ip);
    // The name answers back: the legacy <ns>.<dc> form.
    assert.deepEqual((await dig(port(), 'api.service.team.dc1.consul', 'A')).answer.map((x) => x[4]), ['10.9.3.2']);
  });
});

/** One question over UDP, decoded (dig asks AXFR and IXFR over TCP as transfers, not as questions). */
async function udp(q: dnsPacket.Packet): Promise<dnsPacket.DecodedPacket & { rcode?: string }> {
  const sock = dgram.createSocket('udp4');
  const reply = new Promise<Buffer>((r) => sock.once('message', r));
  sock.send(dnsPacket.encode(q), port(), '127.0.0.1');
  try {
    return dnsPacket.decode(await reply);
  } finally {
    sock.close();
  }
}
