// dns_config keys against real agents with `dig`: soa timers, enable_additional_node_meta_txt,
// udp_answer_limit, prefer_namespace, recursor_strategy (sequential and random),
// recursor_timeout (a silent recursor is given up on and the next one answers) and which recursor
// replies hostname resolution takes (any rcode) against forwarding (NOERROR/NXDOMAIN only).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import { dig, upstream } from './support/dns.ts';

const DNS = [{ kind: 'tcp' as const, host: '127.0.0.1', port: 0 }];
const port = (a: DevAgent): number => Number(a.agent.dnsAddresses().udp[0].split(':').pop());
const agents: DevAgent[] = [];
let failing: Awaited<ReturnType<typeof upstream>>;
let good: Awaited<ReturnType<typeof upstream>>;
let silent: dgram.Socket;

async function agent(raw: Record<string, unknown>): Promise<DevAgent> {
  const a = await startDevAgent({ config: { dnsAddrs: DNS, raw } });
  agents.push(a);
  await a.agent.endpoints.catalog.register({ Node: 'n1', Address: '10.0.0.1', NodeMeta: { rack: 'r1' }, Service: { ID: 'web1', Service: 'web', Port: 80 } } as never);
  for (let i = 0; i < 8; i++) {
    await a.agent.endpoints.catalog.register({ Node: `m${i}`, Address: `10.2.0.${i + 1}`, Service: { ID: `many${i}`, Service: 'many', Port: 9000 } } as never);
  }
  return a;
}

before(async () => {
  failing = await upstream({}, 2);
  good = await upstream({ 'example.test': [{ type: 'A', name: 'example.test', ttl: 60, data: '192.0.2.7' }] });
  silent = dgram.createSocket('udp4');
  await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
});
after(async () => {
  for (const a of agents) await a.stop();
  await failing?.close();
  await good?.close();
  silent?.close();
});

describe('dns_config answer settings', () => {
  let a: DevAgent;
  before(async () => {
    a = await agent({ dns_config: { soa: { refresh: 11, retry: 12, expire: 13, min_ttl: 14 }, enable_additional_node_meta_txt: false, udp_answer_limit: 5 } });
  });

  test('soa: refresh, retry, expire and min_ttl (also the SOA TTL) in SOA answers and NXDOMAIN authorities', async () => {
    const soa = await dig(port(a), 'consul', 'SOA');
    assert.deepEqual([soa.answer[0][1], ...soa.answer[0].slice(7)], ['14', '11', '12', '13', '14']);
    const nx = await dig(port(a), 'nothing.service.consul', 'A');
    assert.equal(nx.status, 'NXDOMAIN');
    assert.deepEqual([nx.authority[0][1], ...nx.authority[0].slice(7)], ['14', '11', '12', '13', '14']);
  });

  test('enable_additional_node_meta_txt = false: no node-meta TXT in SRV or node additionals; TXT questions still answer it', async () => {
    const srv = await dig(port(a), 'web.service.consul', 'SRV');
    assert.deepEqual(srv.additional.map((x) => x[3]), ['A']);
    assert.deepEqual((await dig(port(a), 'n1.node.consul', 'A')).additional.map((x) => x[3]), []);
    assert.deepEqual((await dig(port(a), 'n1.node.consul', 'TXT')).answer.map((x) => x[4]), ['"rack=r1"']);
  });

  test('udp_answer_limit bounds UDP answers without EDNS0; TCP returns everything', async () => {
    assert.equal((await dig(port(a), 'many.service.consul', 'A', '+noedns', '+ignore')).answer.length, 5);
    assert.equal((await dig(port(a), 'many.service.consul', 'A', '+tcp')).answer.length, 8);
  });
});

describe('prefer_namespace', () => {
  test('a lone label after the service names a namespace instead of a datacenter', async () => {
    const preferring = await agent({ dns_config: { prefer_namespace: true } });
    assert.equal((await dig(port(preferring), 'web.service.default.consul', 'A')).status, 'NOERROR');
    assert.equal((await dig(port(preferring), 'web.service.dc1.consul', 'A')).status, 'NXDOMAIN', 'dc1 is not a namespace');
    assert.equal((await dig(port(preferring), 'web.service.dc1.dc.consul', 'A')).status, 'NOERROR', 'an explicit .dc still names the datacenter');
    const plain = await agent({});
    assert.equal((await dig(port(plain), 'web.service.default.consul', 'A')).status, 'NXDOMAIN');
    assert.equal((await dig(port(plain), 'web.service.dc1.consul', 'A')).status, 'NOERROR');
  });
});

describe('recursors', () => {
  test('sequential asks the recursors in order: a SERVFAIL falls through to the next', async () => {
    const a = await agent({ recursors: [`127.0.0.1:${failing.port}`, `127.0.0.1:${good.port}`] });
    const before = failing.queries;
    for (let i = 0; i < 10; i++) assert.deepEqual((await dig(port(a), 'example.test', 'A')).answer.map((x) => x[4]), ['192.0.2.7']);
    assert.equal(failing.queries - before, 10);
  });

  test('recursor_strategy = random does not always start with the first recursor', async () => {
    const a = await agent({ recursors: [`127.0.0.1:${failing.port}`, `127.0.0.1:${good.port}`], dns_config: { recursor_strategy: 'random' } });
    const before = failing.queries;
    for (let i = 0; i < 30; i++) assert.deepEqual((await dig(port(a), 'example.test', 'A')).answer.map((x) => x[4]), ['192.0.2.7']);
    assert.ok(failing.queries - before < 30, `the failing first recursor was asked ${failing.queries - before} times of 30`);
  });

  test('recursor_timeout: a silent recursor is given up on after it and the next one answers', async () => {
    const a = await agent({ recursors: [`127.0.0.1:${silent.address().port}`, `127.0.0.1:${good.port}`], dns_config: { recursor_timeout: '300ms' } });
    // dig waits 2 s (the default recursor_timeout): only a shorter timeout gets the answer in time.
    const r = await dig(port(a), 'example.test', 'A');
    assert.equal(r.status, 'NOERROR');
    assert.deepEqual(r.answer.map((x) => x[4]), ['192.0.2.7']);
  });

  test('a question that came over TCP is forwarded over TCP', async () => {
    // One port, two answers: 192.0.2.7 over UDP (`udp` below), 192.0.2.9 over TCP.
    const tcp = net.createServer((c) => c.on('data', (d: Buffer) => {
      const q = dnsPacket.decode(d.subarray(2));
      const reply = dnsPacket.encode({ type: 'response', id: q.id, flags: 0, questions: q.questions, answers: [{ type: 'A', name: 'example.test', ttl: 60, data: '192.0.2.9' }] });
      const len = Buffer.alloc(2);
      len.writeUInt16BE(reply.length);
      c.end(Buffer.concat([len, reply]));
    }));
    // The TCP server takes a free port first and the UDP upstream joins it there: taking the UDP
    // port first left its TCP twin free for anything else on the machine to take (EADDRINUSE in CI).
    let udp: Awaited<ReturnType<typeof upstream>> | undefined;
    for (let attempt = 0; !udp; attempt++) {
      await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', () => r()));
      const p = (tcp.address() as net.AddressInfo).port;
      udp = await upstream({ 'example.test': [{ type: 'A', name: 'example.test', ttl: 60, data: '192.0.2.7' }] }, 0, '127.0.0.1', p).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'EADDRINUSE' || attempt >= 20) throw e;
        return undefined;
      });
      if (!udp) await new Promise((r) => tcp.close(r));
    }
    try {
      const a = await agent({ recursors: [`127.0.0.1:${udp.port}`] });
      assert.deepEqual((await dig(port(a), 'example.test', 'A', '+tcp')).answer.map((x) => x[4]), ['192.0.2.9']);
      assert.deepEqual((await dig(port(a), 'example.test', 'A')).answer.map((x) => x[4]), ['192.0.2.7']);
    } finally {
      await new Promise((r) => tcp.close(r));
      await udp.close();
    }
  });

  test('a hostname address takes the first recursor\'s reply whatever its rcode (Consul\'s resolveCNAME): its answers, the next not asked', async () => {
    // A recursor whose SERVFAIL still carries the start of the chain (the target's zone failing).
    const partial = await upstream({ 'api.example.test': [{ type: 'CNAME', name: 'api.example.test', ttl: 60, data: 'lb.example.test' }] }, 2);
    const full = await upstream({ 'api.example.test': [{ type: 'CNAME', name: 'api.example.test', ttl: 60, data: 'lb.example.test' }, { type: 'A', name: 'lb.example.test', ttl: 60, data: '192.0.2.8' }] });
    try {
      const ext = { Node: 'n9', Address: '10.0.0.9', Service: { ID: 'ext', Service: 'ext', Port: 443, Address: 'api.example.test' } };
      const a = await agent({ recursors: [`127.0.0.1:${partial.port}`, `127.0.0.1:${full.port}`] });
      await a.agent.endpoints.catalog.register(ext as never);
      const r = await dig(port(a), 'ext.service.consul', 'A');
      assert.equal(r.status, 'NOERROR');
      assert.deepEqual(r.answer.map((x) => [x[0], x[3], x[4]]), [['ext.service.consul.', 'CNAME', 'api.example.test.'], ['api.example.test.', 'CNAME', 'lb.example.test.']]);
      const srv = await dig(port(a), 'ext.service.consul', 'SRV');
      assert.deepEqual(srv.additional.map((x) => [x[0], x[3], x[4]]), [['api.example.test.', 'CNAME', 'lb.example.test.']]);
      assert.equal(full.queries, 0, 'the second recursor is not asked');
      // A SERVFAIL without records leaves the CNAME alone in a NOERROR answer.
      const b = await agent({ recursors: [`127.0.0.1:${failing.port}`, `127.0.0.1:${full.port}`] });
      await b.agent.endpoints.catalog.register(ext as never);
      const bare = await dig(port(b), 'ext.service.consul', 'A');
      assert.equal(bare.status, 'NOERROR');
      assert.deepEqual(bare.answer.map((x) => [x[0], x[3], x[4]]), [['ext.service.consul.', 'CNAME', 'api.example.test.']]);
      assert.equal(full.queries, 0);
      // Names outside the domain still fall through a SERVFAIL to the next recursor (handleRecurse).
      assert.deepEqual((await dig(port(b), 'api.example.test', 'A')).answer.map((x) => x[4]), ['lb.example.test.', '192.0.2.8']);
      assert.equal(full.queries, 1);
    } finally {
      await partial.close();
      await full.close();
    }
  });

  test('SERVFAIL when every recursor fails', async () => {
    const a = await agent({ recursors: [`127.0.0.1:${failing.port}`, `127.0.0.1:${silent.address().port}`], dns_config: { recursor_timeout: '200ms' } });
    const r = await dig(port(a), 'example.test', 'A', '+bufsize=1400');
    assert.equal(r.status, 'SERVFAIL');
    assert.ok(r.flags.includes('ra'));
    assert.match(r.raw, /EDNS: version: 0, flags:; udp: 1400/, 'the EDNS0 of the question is echoed');
  });
});
