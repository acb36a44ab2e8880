// Whole replies for Consul-domain questions, without sockets, checked against what Consul's DNS
// server (1.19+, agent/dns) answers: TTLs, which section a record lands in, and when the SOA goes
// into the authority section.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import dnsPacket, { type Answer, type DecodedPacket } from 'dns-packet';
import { devConfig } from '../../test/support/agent.ts';
import { silentLogger } from '../log.ts';
import { EMPTY_DNS_READER, type DnsInstance, type DnsReader } from '../endpoint/dns-view.ts';
import { DnsHandler } from './handler.ts';
import { dnsConfigFrom } from './config.ts';
import type { Exchange } from './recursor.ts';

const node = (name: string, address: string, meta: Record<string, string> = {}) => ({ Node: name, Address: address, Meta: meta }) as DnsInstance['node'];
const inst = (n: DnsInstance['node'], service: string, address = '', port = 80): DnsInstance => ({
  node: n, service: { ID: `${service}-${n.Node}`, Service: service, Port: port, Address: address } as DnsInstance['service'], status: 'passing', allPassing: true,
});
const n1 = node('n1', '10.0.0.1', { rack: 'r1' });
const bareNode = (name: string, address: string) => node(name, address);
const bare = node('bare', '10.0.0.9');
const server = node('srv1', '127.0.0.1');
const byService: Record<string, DnsInstance[]> = {
  web: [inst(n1, 'web'), inst(node('n2', '10.0.0.2'), 'web', '10.1.0.2')],
  consul: [inst(server, 'consul', '', 8300)],
  ext: [inst(node('ext-node', '10.0.0.7', { 'external-node': 'true' }), 'ext', 'api.example.test', 443)],
  google: [inst(node('google', 'www.google.test', { 'external-node': 'true' }), 'google', '', 80)],
  many: [1, 2, 3, 4, 5].map((i) => inst(node(`m${i}`, `10.2.0.${i}`, { k: `v${i}` }), 'many', '', 9000 + i)),
  same: [inst(bareNode('s1', '10.3.0.1'), 'same', '10.3.0.1', 7001), inst(bareNode('s2', '10.3.0.2'), 'same', '', 7002)],
};
const nodes: Record<string, DnsInstance['node']> = { n1, bare, srv1: server };
const view: DnsReader = {
  ...EMPTY_DNS_READER,
  instances: (name) => byService[name] ?? [], hasService: (name) => name in byService,
  node: (name) => nodes[name],
  serviceKey: (name) => (name in byService ? name : undefined), version: () => 1,
};

function handler(dns: Record<string, unknown> = {}, fastPath = false): DnsHandler {
  return new DnsHandler({ cfg: dnsConfigFrom(devConfig({ raw: { dns_config: dns } })), view, logger: silentLogger(), fastPath });
}

async function ask(h: DnsHandler, name: string, type: string, transport: 'udp' | 'tcp' = 'tcp'): Promise<DecodedPacket> {
  const msg = dnsPacket.encode({ type: 'query', id: 7, questions: [{ type: type as 'A', name }] });
  return dnsPacket.decode((await h.handle(msg, transport))!);
}
const rcode = (r: DecodedPacket): string | undefined => (r as { rcode?: string }).rcode;
const brief = (rs: Answer[] | undefined) => (rs ?? []).map((a) => {
  const r = a as { name: string; ttl?: number; type: string; data?: unknown };
  const data = Array.isArray(r.data) ? r.data.map(String).join(' ') : r.data;
  return `${r.name} ${r.ttl} ${r.type} ${typeof data === 'object' ? JSON.stringify(data) : data}`;
});

test('service answers without a service_ttl key take node_ttl; NS records and their glue take the consul service\'s TTL', async () => {
  const h = handler({ node_ttl: '3s', service_ttl: { 'cons*': '8s' } });
  assert.deepEqual((await ask(h, 'web.service.consul', 'A')).answers!.map((a) => (a as { ttl?: number }).ttl), [3, 3]);
  const ns = await ask(h, 'consul', 'NS');
  assert.deepEqual(brief(ns.answers), ['consul 8 NS srv1.node.dc1.consul']);
  assert.deepEqual(brief(ns.additionals), ['srv1.node.dc1.consul 8 A 127.0.0.1']);
  const soa = await ask(handler({ node_ttl: '3s' }), 'consul', 'SOA');
  assert.deepEqual(brief(soa.authorities), ['consul 3 NS srv1.node.dc1.consul']);
});

test('.addr: the encoded address answers A (IPv4), AAAA (IPv6) or ANY; other types get it as an additional record, NOERROR without SOA', async () => {
  const h = handler({ node_ttl: '4s' });
  assert.deepEqual(brief((await ask(h, '0a000001.addr.consul', 'A')).answers), ['0a000001.addr.consul 4 A 10.0.0.1']);
  assert.deepEqual(brief((await ask(h, '0a000001.addr.dc1.consul', 'ANY')).answers), ['0a000001.addr.dc1.consul 4 A 10.0.0.1']);
  for (const type of ['AAAA', 'TXT', 'SRV']) {
    const r = await ask(h, '0a000001.addr.consul', type);
    assert.equal(rcode(r), 'NOERROR', type);
    assert.deepEqual(r.answers, [], type);
    assert.deepEqual(brief(r.additionals), ['0a000001.addr.consul 4 A 10.0.0.1'], type);
    assert.deepEqual(r.authorities, [], type);
  }
  const v6 = 'fd000000000000000000000000000003.addr.consul';
  assert.deepEqual(brief((await ask(h, v6, 'AAAA')).answers), [`${v6} 4 AAAA fd00::3`]);
  assert.deepEqual(brief((await ask(h, v6, 'A')).additionals), [`${v6} 4 AAAA fd00::3`]);
  assert.equal(rcode(await ask(h, 'zz.addr.consul', 'A')), 'NXDOMAIN');
});

test('service TXT: no answer, every instance\'s address as an additional record under the question name, NOERROR without SOA', async () => {
  const r = await ask(handler(), 'web.service.consul', 'TXT');
  assert.equal(rcode(r), 'NOERROR');
  assert.deepEqual(r.answers, []);
  assert.deepEqual(brief(r.additionals).sort(), ['web.service.consul 0 A 10.0.0.1', 'web.service.consul 0 A 10.1.0.2']);
  assert.deepEqual(r.authorities, []);
  const nodata = await ask(handler(), 'web.service.consul', 'MX');
  assert.deepEqual([nodata.answers, nodata.additionals, nodata.authorities!.map((a) => a.type)], [[], [], ['SOA']], 'other types stay NODATA with SOA');
});

test('node answers: TXT has the meta with the address in additional; SRV the node name (weight, port 0); other types the meta in additional', async () => {
  const h = handler({ node_ttl: '2s' });
  const txt = await ask(h, 'n1.node.consul', 'TXT');
  assert.deepEqual(brief(txt.answers), ['n1.node.consul 2 TXT rack=r1']);
  assert.deepEqual(brief(txt.additionals), ['n1.node.consul 2 A 10.0.0.1']);
  const srv = await ask(h, 'n1.node.consul', 'SRV');
  assert.deepEqual(brief(srv.answers), ['n1.node.consul 2 SRV {"priority":1,"weight":0,"port":0,"target":"n1.node.dc1.consul"}']);
  assert.deepEqual(brief(srv.additionals), ['n1.node.dc1.consul 2 A 10.0.0.1', 'n1.node.consul 2 TXT rack=r1']);
  // No AAAA: the meta alone, NOERROR without SOA; a node without meta is NODATA with SOA.
  const aaaa = await ask(h, 'n1.node.consul', 'AAAA');
  assert.deepEqual([rcode(aaaa), aaaa.answers, brief(aaaa.additionals), aaaa.authorities], ['NOERROR', [], ['n1.node.consul 2 TXT rack=r1'], []]);
  const bareAaaa = await ask(h, 'bare.node.consul', 'AAAA');
  assert.deepEqual([bareAaaa.answers, bareAaaa.additionals, bareAaaa.authorities!.map((a) => a.type)], [[], [], ['SOA']]);
  const off = await ask(handler({ enable_additional_node_meta_txt: false }), 'n1.node.consul', 'AAAA');
  assert.deepEqual(off.authorities!.map((a) => a.type), ['SOA']);
});

test('<service>.virtual without a virtual IP is NOERROR with no records and no SOA, as Consul answers a service it assigned none', async () => {
  for (const name of ['web.virtual.consul', 'nope.virtual.consul']) {
    const r = await ask(handler(), name, 'A');
    assert.deepEqual([rcode(r), r.answers, r.authorities, r.additionals], ['NOERROR', [], [], []], name);
  }
  assert.equal(rcode(await ask(handler(), 'web.virtual.x.y.z.consul', 'A')), 'NXDOMAIN', 'a locality that does not parse');
});

test('<service>.virtual with a virtual IP: one A record with the node TTL, in the additional section for other types; peer forms ask for the peer\'s', async () => {
  const vips: Record<string, string> = { web: '240.0.0.1', 'web@peer1@default/ns1': '240.0.0.7', 'web@peer1@default/default': '240.0.0.8' };
  const withVip = (dns: Record<string, unknown> = {}) => new DnsHandler({
    cfg: dnsConfigFrom(devConfig({ raw: { dns_config: dns } })), logger: silentLogger(),
    view: {
      ...view,
      virtualIP: (name, ent, peer) => (peer ? vips[`${name}@${peer}@${ent?.partition}/${ent?.namespace}`] : ent === undefined ? vips[name.toLowerCase()] : undefined),
    },
  });
  const a = await ask(withVip({ node_ttl: '7s', service_ttl: { '*': '30s' } }), 'WEB.virtual.consul', 'A');
  assert.deepEqual([rcode(a), brief(a.answers), a.authorities, a.additionals], ['NOERROR', ['web.virtual.consul 7 A 240.0.0.1'], [], []]);
  assert.deepEqual(brief((await ask(withVip(), 'web.virtual.consul', 'ANY')).answers), ['web.virtual.consul 0 A 240.0.0.1']);
  // Other types: NOERROR, no answer, the A record in the additional section, no SOA (Consul's serializer).
  for (const type of ['AAAA', 'TXT', 'SRV', 'MX', 'CNAME']) {
    const r = await ask(withVip({ node_ttl: '7s' }), 'web.virtual.consul', type);
    assert.deepEqual([rcode(r), r.answers, r.authorities, brief(r.additionals)], ['NOERROR', [], [], ['web.virtual.consul 7 A 240.0.0.1']], type);
  }
  assert.deepEqual((await ask(withVip(), 'db.virtual.consul', 'A')).answers, [], 'no VIP: empty');
  for (const [name, want] of [['web.virtual.peer1.consul', '240.0.0.8'], ['web.virtual.ns1.peer1.consul', '240.0.0.7'], ['web.virtual.ns1.ns.peer1.peer.consul', '240.0.0.7']]) {
    assert.deepEqual(brief((await ask(withVip(), name, 'A')).answers), [`${name} 0 A ${want}`], name);
  }
  const other = await ask(withVip(), 'web.virtual.peer2.consul', 'A');
  assert.deepEqual([rcode(other), other.answers], ['NOERROR', []], 'a peer without it');
});

test('SRV cut to udp_answer_limit keeps one additional per target, its address (the node meta TXT goes), on both paths', async () => {
  for (const fast of [false, true]) {
    const r = await ask(handler({}, fast), 'many.service.consul', 'SRV', 'udp');
    const targets = r.answers!.map((a) => (a as { data: { target: string } }).data.target);
    assert.equal(targets.length, 3, `fast ${fast}`);
    assert.deepEqual(r.additionals!.map((a) => `${a.name} ${a.type}`), targets.map((t) => `${t} A`), `fast ${fast}`);
    const whole = await ask(handler({}, fast), 'many.service.consul', 'SRV', 'tcp');
    assert.deepEqual([whole.answers!.length, whole.additionals!.filter((a) => a.type === 'TXT').length], [5, 5], 'uncut, the meta stays');
  }
});

test('node meta TXT quotes as Consul\'s RFC 1464 encoding: backquotes in values doubled, every leading and trailing key space quoted', async () => {
  nodes.quirky = node('quirky', '10.0.0.8', { '  a b ': 'x`y', 'k=1': 'v', 'rfc1035-raw': 'as `is`' });
  const txt = await ask(handler(), 'quirky.node.consul', 'TXT');
  assert.deepEqual(brief(txt.answers).map((r) => r.split(' TXT ')[1]).sort(), ['` ` a b` =x``y', 'as `is`', 'k`=1=v'].sort());
});

test('SRV with a hostname target: the node meta TXT is additional under the question\'s name, as Consul names it; on both paths', async () => {
  for (const fast of [false, true]) {
    const r = await ask(handler({}, fast), 'ext.service.consul', 'SRV');
    assert.deepEqual(brief(r.answers), ['ext.service.consul 0 SRV {"priority":1,"weight":1,"port":443,"target":"api.example.test"}'], `fast ${fast}`);
    assert.deepEqual(brief(r.additionals), ['ext.service.consul 0 TXT external-node=true'], `fast ${fast}`);
  }
  const off = await ask(handler({ enable_additional_node_meta_txt: false }), 'ext.service.consul', 'SRV');
  assert.deepEqual(off.additionals, []);
});

test('with recursors, an SRV hostname target carrying node meta is still resolved (the prepared path leaves it to the general one)', async () => {
  const exchange: Exchange = async (q) => {
    const req = dnsPacket.decode(q);
    return dnsPacket.encode({ type: 'response', id: req.id, flags: 0, questions: req.questions, answers: [{ type: 'A', name: 'api.example.test', ttl: 60, data: '192.0.2.8' }] });
  };
  const cfg = dnsConfigFrom(devConfig({ raw: { recursors: ['127.0.0.1:5353'] } }));
  const h = new DnsHandler({ cfg, view, logger: silentLogger(), exchange });
  const r = await ask(h, 'ext.service.consul', 'SRV');
  assert.deepEqual(brief(r.additionals).sort(), ['api.example.test 0 A 192.0.2.8', 'ext.service.consul 0 TXT external-node=true']);
});

test('a name under the domain with a last failover or no-failover label is NXDOMAIN with SOA, not refused: Consul strips that label to match its domain', async () => {
  for (const name of ['web.service.consul.failover', 'web.service.consul.no-failover', 'consul.failover']) {
    const r = await ask(handler(), name, 'A');
    assert.deepEqual([rcode(r), r.authorities!.map((a) => `${a.name} ${a.type}`)], ['NXDOMAIN', ['consul SOA']], name);
  }
  assert.deepEqual(brief((await ask(handler(), 'web.service.consul.failover', 'NS')).answers), ['consul 0 NS srv1.node.dc1.consul']);
  assert.equal(rcode(await ask(handler(), 'example.failover', 'A')), 'REFUSED', 'another domain');
});

test('RFC 2782 prepared query names: `_<name>._<proto>.query` where the name may hold dots', async () => {
  const asked: string[] = [];
  const cfg = dnsConfigFrom(devConfig());
  const h = new DnsHandler({
    cfg, view, logger: silentLogger(),
    queries: async (name) => (asked.push(name), { service: 'web', instances: byService.web, ttl: '', datacenter: 'dc1' }),
  });
  for (const name of ['_my.dotted.q._tcp.query.consul', '_q1._tcp.query.consul', 'my.dotted.q.query.consul']) await ask(h, name, 'SRV');
  assert.deepEqual(asked, ['my.dotted.q', 'q1', 'my.dotted.q']);
});

test('SRV for an instance whose node address is a hostname (no service address): the hostname is the target, the meta under the node\'s name', async () => {
  for (const fast of [false, true]) {
    const r = await ask(handler({}, fast), 'google.service.consul', 'SRV');
    assert.deepEqual(brief(r.answers), ['google.service.consul 0 SRV {"priority":1,"weight":1,"port":80,"target":"www.google.test"}'], `fast ${fast}`);
    assert.deepEqual(brief(r.additionals), ['google.node.dc1.consul 0 TXT external-node=true'], `fast ${fast}`);
  }
  assert.deepEqual(brief((await ask(handler(), 'google.service.consul', 'A')).answers), ['google.service.consul 0 CNAME www.google.test']);
});

test('the CD bit of a query is echoed in every reply, as miekg\'s SetReply copies it: prepared, general, NXDOMAIN, REFUSED', async () => {
  const cd = async (h: DnsHandler, name: string, type: string): Promise<boolean> => {
    const msg = dnsPacket.encode({ type: 'query', id: 9, flags: dnsPacket.RECURSION_DESIRED | dnsPacket.CHECKING_DISABLED, questions: [{ type: type as 'A', name }] });
    const flags = dnsPacket.decode((await h.handle(msg, 'udp'))!).flags ?? 0;
    return (flags & dnsPacket.CHECKING_DISABLED) !== 0 && (flags & dnsPacket.RECURSION_DESIRED) !== 0;
  };
  for (const fast of [false, true]) {
    for (const [name, type] of [['many.service.consul', 'A'], ['many.service.consul', 'SRV'], ['n1.node.consul', 'A'], ['nope.service.consul', 'A'], ['example.test', 'A']]) {
      assert.ok(await cd(handler({}, fast), name, type), `${name} ${type} fast ${fast}`);
    }
  }
});

test('SRV: a service address equal to its node\'s is targeted as <hex>.addr like any service IP, a missing one by the node name (Consul 1.19.1+, #21325); on both paths', async () => {
  for (const fast of [false, true]) {
    const r = await ask(handler({ enable_additional_node_meta_txt: false }, fast), 'same.service.consul', 'SRV');
    assert.deepEqual(brief(r.answers).sort(), [
      'same.service.consul 0 SRV {"priority":1,"weight":1,"port":7001,"target":"0a030001.addr.dc1.consul"}',
      'same.service.consul 0 SRV {"priority":1,"weight":1,"port":7002,"target":"s2.node.dc1.consul"}',
    ], `fast ${fast}`);
    assert.deepEqual(brief(r.additionals).sort(), ['0a030001.addr.dc1.consul 0 A 10.3.0.1', 's2.node.dc1.consul 0 A 10.3.0.2'], `fast ${fast}`);
  }
});
