// The DNS interface against real agents with real clients (`dig` and Node's resolver): every
// query form, health filtering, UDP truncation with and without EDNS0, name compression, TCP, recursion to a
// test upstream, NXDOMAIN/NODATA with SOA, TTL settings and malformed packets.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import { dig, resolverFor, upstream } from './support/dns.ts';

const DNS = [{ kind: 'tcp' as const, host: '127.0.0.1', port: 0 }];
let main: DevAgent;
let strict: DevAgent;
let limited: DevAgent;
let up: Awaited<ReturnType<typeof upstream>>;
const port = (a: DevAgent): number => Number(a.agent.dnsAddresses().udp[0].split(':').pop());

async function register(a: DevAgent, body: unknown): Promise<void> {
  const res = await fetch(`http://${a.httpAddr}/v1/catalog/register`, { method: 'PUT', body: JSON.stringify(body) });
  assert.equal(res.status, 200, await res.text());
}

/** Ten `many` instances on ten nodes, plus web, db and a mesh-native service. */
async function seed(a: DevAgent): Promise<void> {
  await register(a, { Node: 'n1', Address: '10.0.0.1', NodeMeta: { rack: 'r1', 'rfc1035-x': 'raw' }, Service: { ID: 'web1', Service: 'web', Port: 80, Tags: ['v1', 'Primary'], Weights: { Passing: 7, Warning: 2 } } });
  await register(a, { Node: 'n2', Address: '10.0.0.2', Service: { ID: 'web2', Service: 'web', Port: 81, Address: '10.1.0.2', Tags: ['v2'] } });
  await register(a, { Node: 'n3', Address: 'fd00::3', Service: { ID: 'db1', Service: 'dbx', Port: 5432 } });
  await register(a, { Node: 'n4', Address: '10.0.0.4', Service: { ID: 'ext', Service: 'ext', Port: 443, Address: 'api.example.test' } });
  await register(a, { Node: 'n4', Address: '10.0.0.4', Service: { ID: 'mesh', Service: 'mesh', Port: 9000, Connect: { Native: true } } });
  // Hostname addresses: mixed with an IP instance, and one naming a service under our domain.
  await register(a, { Node: 'n5', Address: '10.0.0.5', Service: { ID: 'mixed1', Service: 'mixed', Port: 1 } });
  await register(a, { Node: 'n6', Address: '10.0.0.6', Service: { ID: 'mixed2', Service: 'mixed', Port: 2, Address: 'api.example.test' } });
  await register(a, { Node: 'n7', Address: '10.0.0.7', Service: { ID: 'alias', Service: 'alias', Port: 3, Address: 'primary.web.service.consul' } });
  for (let i = 0; i < 10; i++) {
    await register(a, { Node: `m${i}`, Address: `10.2.0.${i + 1}`, Service: { ID: `many${i}`, Service: 'many', Port: 9000 + i } });
  }
}

before(async () => {
  up = await upstream({
    'example.test': [{ type: 'A', name: 'example.test', ttl: 60, data: '192.0.2.7' }],
    'api.example.test': [{ type: 'CNAME', name: 'api.example.test', ttl: 60, data: 'lb.example.test' }, { type: 'A', name: 'lb.example.test', ttl: 60, data: '192.0.2.8' }],
  });
  main = await startDevAgent({
    config: {
      dnsAddrs: DNS, altDomain: 'alt.test.',
      raw: { recursors: [`127.0.0.1:${up.port}`], dns_config: { node_ttl: '3s', service_ttl: { '*': '5s', 'db*': '7s', dbx: '9s' } } },
    },
  });
  strict = await startDevAgent({ config: { dnsAddrs: DNS, raw: { dns_config: { enable_truncate: true, only_passing: true } } } });
  limited = await startDevAgent({ config: { dnsAddrs: DNS, raw: { recursors: ['127.0.0.1:1'], dns_config: { a_record_limit: 2, recursor_timeout: '200ms', disable_compression: true } } } });
  for (const a of [main, strict, limited]) await seed(a);
});
after(async () => {
  for (const a of [main, strict, limited]) await a?.stop();
  await up?.close();
});

describe('DNS query forms', () => {
  test('<service>.service A returns healthy instances (service address, else node address), AA set', async () => {
    const r = await dig(port(main), 'web.service.consul', 'A');
    assert.equal(r.status, 'NOERROR');
    assert.ok(r.flags.includes('aa'));
    assert.deepEqual(r.answer.map((x) => x[4]).sort(), ['10.0.0.1', '10.1.0.2']);
    assert.deepEqual((await resolverFor(port(main)).resolve4('web.service.dc1.consul')).sort(), ['10.0.0.1', '10.1.0.2']);
  });

  test('<tag>.<service>.service filters by tag, case-insensitively', async () => {
    assert.deepEqual(await resolverFor(port(main)).resolve4('primary.web.service.consul'), ['10.0.0.1']);
    assert.deepEqual(await resolverFor(port(main)).resolve4('v2.web.service.consul'), ['10.1.0.2']);
    assert.equal((await dig(port(main), 'v3.web.service.consul', 'A')).status, 'NXDOMAIN');
  });

  test('SRV: weights, node and addr targets with A and node-meta TXT in additional', async () => {
    const r = await dig(port(main), 'web.service.consul', 'SRV');
    const srv = r.answer.map((x) => x.slice(4).join(' ')).sort();
    assert.deepEqual(srv, ['1 1 81 0a010002.addr.dc1.consul.', '1 7 80 n1.node.dc1.consul.']);
    const extra = r.additional.map((x) => `${x[0]} ${x[3]} ${x.slice(4).join(' ')}`);
    assert.ok(extra.includes('0a010002.addr.dc1.consul. A 10.1.0.2'));
    assert.ok(extra.includes('n1.node.dc1.consul. A 10.0.0.1'));
    assert.ok(extra.includes('n1.node.dc1.consul. TXT "rack=r1"'));
    assert.ok(extra.includes('n1.node.dc1.consul. TXT "raw"'));
  });

  test('SRV with a service address: A owned by the .addr target, node-meta TXT by the node name', async () => {
    await register(main, { Node: 'tm', Address: '10.7.0.1', NodeMeta: { zone: 'z1' }, Service: { ID: 'metasvc', Service: 'metasvc', Port: 70, Address: '10.7.1.1' } });
    const r = await dig(port(main), 'metasvc.service.consul', 'SRV');
    assert.deepEqual(r.answer.map((x) => x.slice(4).join(' ')), ['1 1 70 0a070101.addr.dc1.consul.']);
    assert.deepEqual(r.additional.map((x) => [x[0], x[3], x[4]]), [['0a070101.addr.dc1.consul.', 'A', '10.7.1.1'], ['tm.node.dc1.consul.', 'TXT', '"zone=z1"']]);
  });

  test('SRV: instances sharing node, address and port are one answer', async () => {
    for (const id of ['dup1', 'dup2']) await register(main, { Node: 'd1', Address: '10.8.0.1', Service: { ID: id, Service: 'dup', Port: 8 } });
    await register(main, { Node: 'd1', Address: '10.8.0.1', Service: { ID: 'dup3', Service: 'dup', Port: 9 } });
    for (let i = 0; i < 3; i++) {
      const r = await dig(port(main), 'dup.service.consul', 'SRV');
      assert.deepEqual(r.answer.map((x) => x.slice(4).join(' ')).sort(), ['1 1 8 d1.node.dc1.consul.', '1 1 9 d1.node.dc1.consul.']);
    }
  });

  test('RFC 2782: _svc._tcp (no tag filter), _svc._tag, and without the .service label', async () => {
    const res = resolverFor(port(main));
    assert.equal((await res.resolveSrv('_web._tcp.service.consul')).length, 2);
    assert.deepEqual((await res.resolveSrv('_web._v2.service.consul')).map((s) => s.port), [81]);
    assert.equal((await res.resolveSrv('_web._tcp.consul')).length, 2);
    assert.equal((await res.resolveSrv('_web._tcp.service.dc1.consul')).length, 2);
  });

  test('locality labels: <dc>, <dc>.dc, default ns/ap accepted; other dc, peer are NXDOMAIN, a sameness group that does not exist SERVFAIL', async () => {
    const p = port(main);
    for (const n of ['web.service.dc1.dc.consul', 'web.service.default.ns.dc1.dc.consul', 'web.service.default.ns.default.ap.dc1.dc.consul', 'web.service.default.dc1.consul']) {
      assert.equal((await dig(p, n, 'A')).answer.length, 2, n);
    }
    for (const n of ['web.service.dc2.consul', 'web.service.dc2.dc.consul', 'web.service.p1.peer.consul', 'web.service.other.ns.dc1.dc.consul', 'web.service.a.b.c.consul']) {
      const r = await dig(p, n, 'A');
      assert.equal(r.status, 'NXDOMAIN', n);
      assert.equal(r.authority[0]?.[3], 'SOA', n);
    }
    assert.equal((await dig(p, 'web.service.g.sg.consul', 'A')).status, 'SERVFAIL', 'Consul\'s "Sameness Group not found"');
  });

  test('<node>.node A, TXT (RFC 1464), SRV, and for a missing type the meta or NODATA with SOA', async () => {
    const p = port(main);
    assert.deepEqual(await resolverFor(p).resolve4('n1.node.consul'), ['10.0.0.1']);
    assert.deepEqual((await resolverFor(p).resolveTxt('n1.node.dc1.consul')).flat().sort(), ['rack=r1', 'raw']);
    assert.deepEqual(await resolverFor(p).resolve6('n3.node.consul'), ['fd00::3']);
    const srv = await dig(p, 'n1.node.consul', 'SRV');
    assert.deepEqual(srv.answer.map((x) => x.slice(3).join(' ')), ['SRV 1 0 0 n1.node.dc1.consul.']);
    assert.deepEqual(srv.additional.map((x) => `${x[0]} ${x[3]}`), ['n1.node.dc1.consul. A', 'n1.node.consul. TXT', 'n1.node.consul. TXT']);
    // No AAAA: the node meta alone in additional, NOERROR without SOA; a node without meta is NODATA with SOA.
    const meta = await dig(p, 'n1.node.consul', 'AAAA');
    assert.equal(meta.status, 'NOERROR');
    assert.equal(meta.answer.length, 0);
    assert.deepEqual([meta.authority, meta.additional.map((x) => x[3])], [[], ['TXT', 'TXT']]);
    const nodata = await dig(p, 'm0.node.consul', 'AAAA');
    assert.equal(nodata.status, 'NOERROR');
    assert.equal(nodata.answer.length, 0);
    assert.equal(nodata.authority[0][3], 'SOA');
    assert.equal((await dig(p, 'nope.node.consul', 'A')).status, 'NXDOMAIN');
  });

  test('<hex>.addr gives A for 8 digits and AAAA for 32', async () => {
    const p = port(main);
    assert.deepEqual(await resolverFor(p).resolve4('0a000001.addr.dc1.consul'), ['10.0.0.1']);
    assert.deepEqual(await resolverFor(p).resolve6('fd000000000000000000000000000003.addr.consul'), ['fd00::3']);
    assert.equal((await dig(p, 'xyz.addr.consul', 'A')).status, 'NXDOMAIN');
    // Another type: the address is additional, NOERROR without SOA.
    const other = await dig(p, '0a000001.addr.consul', 'AAAA');
    assert.deepEqual([other.status, other.answer, other.authority, other.additional.map((x) => `${x[3]} ${x[4]}`)], ['NOERROR', [], [], ['A 10.0.0.1']]);
    // The address is the name: locality labels do not matter (Consul ignores them).
    for (const n of ['0a000001.addr.dc2.consul', '0a000001.addr.p1.peer.consul']) assert.deepEqual(await resolverFor(p).resolve4(n), ['10.0.0.1'], n);
  });

  test('PTR for node and service addresses; reverse with the primary domain', async () => {
    const res = resolverFor(port(main));
    assert.deepEqual(await res.reverse('10.0.0.1'), ['n1.node.dc1.consul']);
    assert.deepEqual(await res.reverse('10.1.0.2'), ['web.service.dc1.consul']);
    assert.deepEqual(await res.reverse('fd00::3'), ['n3.node.dc1.consul'], 'ip6.arpa');
    const alt = await dig(port(main), '-x', '10.0.0.1');
    assert.ok(alt.flags.includes('aa'));
    // Addresses nobody has: NXDOMAIN with SOA without recursors (with them the question is recursed).
    const none = await dig(port(strict), '-x', '192.0.2.99');
    assert.equal(none.status, 'NXDOMAIN');
    assert.deepEqual(none.authority.map((x) => [x[0], x[3]]), [['consul.', 'SOA']]);
    assert.equal((await dig(port(strict), '-x', 'fd00::99')).status, 'NXDOMAIN');
  });

  test('hostname service address answers CNAME; connect finds mesh-native services; ingress/query are NXDOMAIN; virtual answers the mesh VIP', async () => {
    const p = port(main);
    const cname = await dig(port(limited), 'ext.service.consul', 'A');
    assert.deepEqual(cname.answer.map((x) => [x[3], x[4]]), [['CNAME', 'api.example.test.']]);
    assert.deepEqual(await resolverFor(p).resolve4('mesh.connect.consul'), ['10.0.0.4']);
    for (const n of ['dbx.ingress.consul', 'q1.query.consul']) assert.equal((await dig(p, n, 'A')).status, 'NXDOMAIN', n);
    // web is outside the mesh: no virtual IP, Consul's answer for a service without one.
    const none = await dig(p, 'web.virtual.consul', 'A');
    assert.deepEqual([none.status, none.answer, none.authority], ['NOERROR', [], []]);
    // The mesh-native service got the first VIP, answered with node_ttl (3s here).
    const vip = await dig(p, 'mesh.virtual.consul', 'A');
    assert.deepEqual([vip.status, vip.answer.map((x) => [x[0], x[1], x[3], x[4]]), vip.authority], ['NOERROR', [['mesh.virtual.consul.', '3', 'A', '240.0.0.1']], []]);
  });

  test('<service>.ingress answers the healthy ingress gateways whose entries link the service (explicitly or by *)', async () => {
    const gateway = (a: DevAgent, node: string, ip: string, name: string, status = 'passing') => register(a, {
      Node: node, Address: ip, Service: { ID: name, Service: name, Kind: 'ingress-gateway', Port: 8443 },
      Check: { CheckID: `${name}-c`, Name: 'c', ServiceID: name, Status: status },
    });
    const entry = async (a: DevAgent, name: string, services: string[]) => {
      const res = await fetch(`http://${a.httpAddr}/v1/config`, { method: 'PUT', body: JSON.stringify({ Kind: 'ingress-gateway', Name: name, Listeners: [{ Port: 8080, Protocol: services.includes('*') ? 'http' : 'tcp', Services: services.map((Name) => ({ Name })) }] }) });
      assert.equal(res.status, 200, await res.text());
    };
    const p = port(main);
    await gateway(main, 'g1', '10.3.0.1', 'igw');
    await entry(main, 'igw', ['web']);
    assert.deepEqual(await resolverFor(p).resolve4('web.ingress.consul'), ['10.3.0.1']);
    const srv = await dig(p, 'web.ingress.dc1.consul', 'SRV');
    assert.deepEqual(srv.answer.map((x) => x.slice(4).join(' ')), ['1 1 8443 g1.node.dc1.consul.']);
    assert.equal(srv.answer[0][1], '5', 'the TTL is service_ttl of the service looked up');
    assert.equal((await dig(p, 'many.ingress.consul', 'A')).status, 'NXDOMAIN', 'no gateway links many');
    await gateway(main, 'g1', '10.3.0.1', 'igw', 'critical');
    assert.equal((await dig(p, 'web.ingress.consul', 'A')).status, 'NXDOMAIN', 'a critical gateway is left out');
    await gateway(main, 'g1', '10.3.0.1', 'igw');
    // A wildcard entry links every typical service.
    await gateway(strict, 'g2', '10.3.0.2', 'igw2');
    await entry(strict, 'igw2', ['*']);
    assert.deepEqual(await resolverFor(port(strict)).resolve4('many.ingress.consul'), ['10.3.0.2']);
    assert.equal((await dig(port(strict), 'nothere.ingress.consul', 'A')).status, 'NXDOMAIN');
  });

  test('a hostname address is resolved through the recursors (CNAME then its records, TTL of the answer; SRV: in additional)', async () => {
    const p = port(main);
    const a = await dig(p, 'ext.service.consul', 'A');
    assert.deepEqual(a.answer.map((x) => [x[0], x[1], x[3], x[4]]), [
      ['ext.service.consul.', '5', 'CNAME', 'api.example.test.'], ['api.example.test.', '5', 'CNAME', 'lb.example.test.'], ['lb.example.test.', '5', 'A', '192.0.2.8'],
    ]);
    assert.deepEqual(await resolverFor(p).resolve4('ext.service.consul'), ['192.0.2.8']);
    const srv = await dig(p, 'ext.service.consul', 'SRV');
    assert.deepEqual(srv.answer.map((x) => x.slice(4).join(' ')), ['1 1 443 api.example.test.']);
    assert.deepEqual(srv.additional.map((x) => [x[0], x[3], x[4]]), [['api.example.test.', 'CNAME', 'lb.example.test.'], ['lb.example.test.', 'A', '192.0.2.8']]);
    // Cut to udp_answer_limit without EDNS0, the kept SRV answers keep the whole chain of their target.
    for (let i = 0; i < 4; i++) await register(main, { Node: `h${i}`, Address: `10.5.0.${i}`, Service: { ID: `exth${i}`, Service: 'exth', Port: 500 + i, Address: 'api.example.test' } });
    const cut = await dig(p, 'exth.service.consul', 'SRV', '+noedns', '+ignore');
    assert.equal(cut.answer.length, 3);
    assert.deepEqual(cut.additional.map((x) => [x[0], x[3], x[4]]), [['api.example.test.', 'CNAME', 'lb.example.test.'], ['lb.example.test.', 'A', '192.0.2.8']]);
    // A name under our domain is answered here.
    const alias = await dig(p, 'alias.service.consul', 'A');
    assert.deepEqual(alias.answer.map((x) => [x[0], x[3], x[4]]), [['alias.service.consul.', 'CNAME', 'primary.web.service.consul.'], ['primary.web.service.consul.', 'A', '10.0.0.1']]);
  });

  test('a CNAME answers only when no instance has an IP address', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await dig(port(main), 'mixed.service.consul', 'A', '+tcp');
      assert.deepEqual(r.answer.map((x) => [x[3], x[4]]), [['A', '10.0.0.5']]);
    }
  });

  test('alt_domain answers with the domain the question used', async () => {
    const r = await dig(port(main), 'web.service.alt.test', 'A');
    assert.equal(r.answer.length, 2);
    assert.equal(r.answer[0][0], 'web.service.alt.test.');
    assert.equal((await dig(port(main), 'web.service.alt.test', 'SRV')).additional.some((x) => x[0] === 'n1.node.dc1.alt.test.'), true);
  });

  test('SOA and NS for the domain; NXDOMAIN carries the SOA; ANY returns every address type', async () => {
    const p = port(main);
    const soa = await resolverFor(p).resolveSoa('consul');
    assert.deepEqual([soa.nsname, soa.hostmaster, soa.refresh, soa.retry, soa.expire, soa.minttl], ['ns.consul', 'hostmaster.consul', 3600, 600, 86400, 0]);
    assert.deepEqual(await resolverFor(p).resolveNs('consul'), ['test-node.node.dc1.consul']);
    // Any name under the domain (or a reverse name) asks about the domain.
    for (const name of ['web.service.consul', 'no.such.thing.consul', '1.0.0.10.in-addr.arpa']) {
      const r = await dig(p, name, 'SOA');
      assert.equal(r.status, 'NOERROR', name);
      assert.deepEqual(r.answer.map((x) => [x[0], x[3], x[4]]), [['consul.', 'SOA', 'ns.consul.']], name);
      assert.deepEqual((await dig(p, name, 'NS')).answer.map((x) => [x[0], x[3], x[4]]), [['consul.', 'NS', 'test-node.node.dc1.consul.']], name);
    }
    const nx = await dig(p, 'missing.service.consul', 'A');
    assert.equal(nx.status, 'NXDOMAIN');
    assert.deepEqual(nx.authority.map((x) => x[3]), ['SOA']);
    const any = await dig(p, 'n3.node.consul', 'ANY');
    assert.ok(any.answer.some((x) => x[3] === 'AAAA'));
  });

  test('service TXT has the addresses in additional (no SOA) and service ANY has no node-meta TXT (node meta only in SRV additionals)', async () => {
    const p = port(main);
    const txt = await dig(p, 'web.service.consul', 'TXT');
    assert.equal(txt.status, 'NOERROR');
    assert.deepEqual(txt.answer, []);
    assert.deepEqual(txt.authority, []);
    assert.deepEqual(txt.additional.map((x) => [x[0], x[3], x[4]]).sort(), [['web.service.consul.', 'A', '10.0.0.1'], ['web.service.consul.', 'A', '10.1.0.2']]);
    const any = await dig(p, 'v1.web.service.consul', 'ANY');
    assert.deepEqual(any.answer.map((x) => [x[3], x[4]]), [['A', '10.0.0.1']]);
  });

  test('service AAAA of IPv4-only instances is NODATA with SOA', async () => {
    const r = await dig(port(main), 'web.service.consul', 'AAAA');
    assert.equal(r.status, 'NOERROR');
    assert.deepEqual(r.answer, []);
    assert.deepEqual(r.authority.map((x) => x[3]), ['SOA']);
  });

  test('TTLs: node_ttl and service_ttl (exact > longest prefix > *)', async () => {
    const p = port(main);
    assert.equal((await dig(p, 'n1.node.consul', 'A')).answer[0][1], '3');
    assert.equal((await dig(p, 'web.service.consul', 'A')).answer[0][1], '5');
    assert.equal((await dig(p, 'dbx.service.consul', 'AAAA')).answer[0][1], '9');
    // NS records are the consul service's: its service_ttl ("*" here), not node_ttl.
    assert.deepEqual((await dig(p, 'consul', 'NS')).answer.map((x) => x[1]), ['5']);
    // Without a matching service_ttl key a service has node_ttl.
    const nodeOnly = await startDevAgent({ config: { dnsAddrs: DNS, raw: { dns_config: { node_ttl: '4s', service_ttl: { web: '6s' } } } } });
    try {
      await register(nodeOnly, { Node: 'x1', Address: '10.9.0.1', Service: { ID: 'api', Service: 'api', Port: 1 } });
      assert.equal((await dig(port(nodeOnly), 'api.service.consul', 'A')).answer[0][1], '4');
    } finally {
      await nodeOnly.stop();
    }
  });
});

describe('DNS health filtering', () => {
  test('an instance whose check goes critical disappears on the next query; warning only with only_passing', async () => {
    const check = (a: DevAgent, status: string) => register(a, { Node: 'm0', Address: '10.2.0.1', Check: { CheckID: 'c', Name: 'c', ServiceID: 'many0', Status: status } });
    const has = async (a: DevAgent) => (await dig(port(a), 'many.service.consul', 'A', '+tcp')).answer.some((x) => x[4] === '10.2.0.1');
    await check(main, 'critical');
    assert.equal(await has(main), false);
    await check(main, 'warning');
    assert.equal(await has(main), true);
    await check(strict, 'warning');
    assert.equal(await has(strict), false);
    await check(strict, 'passing');
    assert.equal(await has(strict), true);
    await check(main, 'passing');
  });

  test('a critical node-level check hides every instance on the node', async () => {
    const nodeCheck = (status: string) => register(main, { Node: 'm1', Address: '10.2.0.2', Check: { CheckID: 'node-c', Name: 'node-c', Status: status } });
    const has = async () => (await dig(port(main), 'many.service.consul', 'A', '+tcp')).answer.some((x) => x[4] === '10.2.0.2');
    await nodeCheck('critical');
    assert.equal(await has(), false);
    await nodeCheck('passing');
    assert.equal(await has(), true);
  });

  test('<service>.connect answers sidecar proxies (their address and port) and mesh-native instances', async () => {
    await register(main, { Node: 'p1', Address: '10.6.0.1', Service: { ID: 'db-proxy', Service: 'dbx-sidecar-proxy', Kind: 'connect-proxy', Port: 21000, Proxy: { DestinationServiceName: 'dbx' } } });
    const srv = await dig(port(main), 'dbx.connect.consul', 'SRV');
    assert.deepEqual(srv.answer.map((x) => x.slice(4).join(' ')), ['1 1 21000 p1.node.dc1.consul.']);
    assert.deepEqual(await resolverFor(port(main)).resolve4('dbx.connect.consul'), ['10.6.0.1']);
  });

  test('<service>.connect answers the terminating gateways linking the service after its proxies (a service only the gateway reaches too)', async () => {
    await register(main, { Node: 'g1', Address: '10.6.0.9', Service: { ID: 'tgw-1', Service: 'tgw', Kind: 'terminating-gateway', Port: 8443 } });
    assert.equal((await dig(port(main), 'extdb.connect.consul', 'SRV')).status, 'NXDOMAIN');
    const put = await fetch(`http://${main.httpAddr}/v1/config`, { method: 'PUT', body: JSON.stringify({ Kind: 'terminating-gateway', Name: 'tgw', Services: [{ Name: 'extdb' }, { Name: 'dbx' }] }) });
    assert.equal(put.status, 200);
    const ext = await dig(port(main), 'extdb.connect.consul', 'SRV');
    assert.deepEqual(ext.answer.map((x) => x.slice(4).join(' ')), ['1 1 8443 g1.node.dc1.consul.']);
    const both = await dig(port(main), 'dbx.connect.consul', 'SRV');
    assert.deepEqual(both.answer.map((x) => x.slice(4).join(' ')).sort(), ['1 1 21000 p1.node.dc1.consul.', '1 1 8443 g1.node.dc1.consul.']);
    await fetch(`http://${main.httpAddr}/v1/config/terminating-gateway/tgw`, { method: 'DELETE' });
    assert.equal((await dig(port(main), 'extdb.connect.consul', 'SRV')).status, 'NXDOMAIN');
    assert.deepEqual((await dig(port(main), 'dbx.connect.consul', 'SRV')).answer.map((x) => x.slice(4).join(' ')), ['1 1 21000 p1.node.dc1.consul.']);
  });

  test('SRV weight is Weights.Warning while a check warns', async () => {
    await register(main, { Node: 'n1', Address: '10.0.0.1', Check: { CheckID: 'w', Name: 'w', ServiceID: 'web1', Status: 'warning' } });
    const r = await dig(port(main), 'v1.web.service.consul', 'SRV');
    assert.equal(r.answer[0][5], '2');
    await register(main, { Node: 'n1', Address: '10.0.0.1', Check: { CheckID: 'w', Name: 'w', ServiceID: 'web1', Status: 'passing' } });
  });

  test('answers are shuffled per query', async () => {
    const orders = new Set<string>();
    for (let i = 0; i < 20; i++) orders.add((await dig(port(main), 'many.service.consul', 'A', '+tcp')).answer.map((x) => x[4]).join());
    assert.ok(orders.size > 1);
  });
});

describe('DNS truncation and transports', () => {
  test('UDP without EDNS0: udp_answer_limit (3) answers, no TC unless enable_truncate', async () => {
    const plain = await dig(port(main), 'many.service.consul', 'A', '+noedns', '+ignore');
    assert.equal(plain.answer.length, 3);
    assert.ok(!plain.flags.includes('tc'));
    const flagged = await dig(port(strict), 'many.service.consul', 'A', '+noedns', '+ignore');
    assert.equal(flagged.answer.length, 3);
    assert.ok(flagged.flags.includes('tc'));
  });

  test('a cut SRV reply keeps one additional per target, its address: the node meta TXT goes (Consul\'s syncExtra)', async () => {
    for (let i = 0; i < 5; i++) {
      await register(main, { Node: `cut${i}`, Address: `10.3.0.${i + 1}`, NodeMeta: { k: `v${i}` }, Service: { ID: `cut${i}`, Service: 'cutsrv', Port: 7000 + i } });
    }
    const cut = await dig(port(main), 'cutsrv.service.consul', 'SRV', '+noedns', '+ignore');
    assert.equal(cut.answer.length, 3);
    assert.deepEqual(cut.additional.map((x) => `${x[0]} ${x[3]}`), cut.answer.map((x) => `${x[7]} A`));
    const whole = await dig(port(main), 'cutsrv.service.consul', 'SRV', '+tcp');
    assert.equal(whole.additional.filter((x) => x[3] === 'TXT').length, 5, whole.raw);
  });

  test('UDP with EDNS0 returns all that fits the advertised size; TCP returns everything', async () => {
    assert.equal((await dig(port(main), 'many.service.consul', 'A', '+bufsize=4096')).answer.length, 10);
    assert.equal((await dig(port(main), 'many.service.consul', 'SRV', '+bufsize=4096')).answer.length, 10);
    assert.equal((await dig(port(main), 'many.service.consul', 'SRV', '+tcp')).answer.length, 10);
    // Cut to the advertised size (no answer-count cut above 512): TC only with enable_truncate.
    const cut = await dig(port(strict), 'many.service.consul', 'SRV', '+bufsize=520', '+ignore');
    assert.ok(cut.answer.length > 3 && cut.answer.length < 10 && cut.flags.includes('tc'), `${cut.answer.length} ${cut.flags}`);
    const quiet = await dig(port(main), 'many.service.consul', 'SRV', '+bufsize=520', '+ignore');
    assert.ok(quiet.answer.length > 3 && quiet.answer.length < 10 && !quiet.flags.includes('tc'), `${quiet.answer.length} ${quiet.flags}`);
    const small = await dig(port(strict), 'many.service.consul', 'SRV', '+noedns', '+ignore');
    assert.ok(small.answer.length <= 3 && small.flags.includes('tc'));
    // The kept SRV answers keep their targets' A records in the additional section.
    const glue = small.additional.filter((r) => r[3] === 'A').map((r) => r[0]).sort();
    assert.deepEqual(glue, small.answer.map((r) => r[7]).sort());
  });

  test('answers are name-compressed unless disable_compression, and truncation counts the compressed size', async () => {
    const size = (r: { raw: string }): number => Number(/MSG SIZE\s+rcvd: (\d+)/.exec(r.raw)?.[1]);
    const packed = await dig(port(main), 'many.service.consul', 'SRV', '+tcp');
    const plain = await dig(port(limited), 'many.service.consul', 'SRV', '+tcp');
    const records = (r: { answer: string[][]; additional: string[][] }): string[] => [...r.answer, ...r.additional].map((x) => [x[0], ...x.slice(2)].join(' ')).sort();
    // The same records (main's service_ttl aside).
    assert.deepEqual(records(packed), records(plain));
    // Each SRV owner becomes a 2-byte pointer to the question and each glue owner one to its SRV target.
    assert.equal(size(plain) - size(packed), 10 * (21 - 2) + 10 * (20 - 2));
    // 600 bytes hold all ten SRV answers and their glue compressed, five uncompressed.
    assert.equal((await dig(port(main), 'many.service.consul', 'SRV', '+bufsize=600')).answer.length, 10);
    assert.equal((await dig(port(limited), 'many.service.consul', 'SRV', '+bufsize=600')).answer.length, 5);
  });

  test('a_record_limit caps A answers on every transport but not SRV', async () => {
    assert.equal((await dig(port(limited), 'many.service.consul', 'A', '+tcp')).answer.length, 2);
    assert.equal((await dig(port(limited), 'many.service.consul', 'SRV', '+tcp')).answer.length, 10);
  });

  test('several queries on one TCP connection', async () => {
    const r = await dig(port(main), '+tcp', '+keepopen', 'web.service.consul', 'A', 'n1.node.consul', 'A');
    assert.equal((r.raw.match(/status: NOERROR/g) ?? []).length, 2);
  });
});

describe('DNS recursion and errors', () => {
  test('names outside the domain go to the recursors (their answer, NXDOMAIN included); RA set when recursors exist', async () => {
    assert.deepEqual(await resolverFor(port(main)).resolve4('example.test'), ['192.0.2.7']);
    assert.equal((await dig(port(main), 'nothing.test', 'A')).status, 'NXDOMAIN');
    assert.ok(up.queries >= 2);
    assert.ok((await dig(port(main), 'web.service.consul', 'A')).flags.includes('ra'));
    assert.ok(!(await dig(port(strict), 'web.service.consul', 'A')).flags.includes('ra'));
  });

  test('SERVFAIL when every recursor fails; REFUSED without recursors', async () => {
    assert.equal((await dig(port(limited), 'example.test', 'A')).status, 'SERVFAIL');
    assert.equal((await dig(port(strict), 'example.test', 'A')).status, 'REFUSED');
  });

  test('malformed packets get FORMERR with the request id; the server keeps answering', async () => {
    const sock = dgram.createSocket('udp4');
    const reply = new Promise<Buffer>((r) => sock.once('message', r));
    const garbage = Buffer.from([0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0x3f, 0x61]);
    sock.send(garbage, port(main), '127.0.0.1');
    const got = dnsPacket.decode(await reply);
    sock.close();
    assert.equal(got.id, 0x1234);
    assert.equal((got as unknown as { rcode: string }).rcode, 'FORMERR');
    assert.deepEqual(await resolverFor(port(main)).resolve4('n1.node.consul'), ['10.0.0.1']);
  });
});
