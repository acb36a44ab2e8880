// The prepared-answer fast path against the general path: the same queries through two handlers
// over the same catalog with the same random sequence must give byte-identical replies, across
// types, EDNS0 sizes and options, transports, tags, shared nodes, duplicate addresses, hostnames, IPv6,
// a_record_limit / udp_answer_limit, and after the catalog changes (cache invalidation).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import dnsPacket, { type Packet, type RecordType } from 'dns-packet';
import type { Exchange } from '../src/dns/index.ts';
import { seededRandom as prng } from '../src/gossip/random.ts';
import { startDevAgent, type DevAgent } from './support/agent.ts';

let plain: DevAgent;
let limited: DevAgent;

const reg = (a: DevAgent, body: unknown): Promise<unknown> => a.agent.endpoints.catalog.register(body as never);

async function seed(a: DevAgent): Promise<void> {
  for (let i = 0; i < 30; i++) {
    const node = `N${i >> 1}`;
    const address = i % 7 === 3 ? 'web.example.test' : i % 11 === 5 ? 'fd00::5' : i % 5 === 0 ? '10.9.9.9' : i % 2 ? `10.8.0.${i}` : '';
    await reg(a, {
      Node: node, Address: `10.0.0.${i >> 1}`, NodeMeta: i % 3 ? { rack: `r${i % 3}` } : {},
      Service: { ID: `web${i}`, Service: 'Web', Port: 80 + i, Tags: i % 4 ? ['blue'] : ['green'], Address: address, Weights: { Passing: 1 + (i % 3), Warning: 1 } },
    });
  }
  for (let i = 0; i < 200; i++) await reg(a, { Node: `big${i}`, Address: `10.1.${i >> 8}.${i & 255}`, Service: { ID: `big${i}`, Service: 'big', Port: 9000 } });
  await reg(a, { Node: 'solo', Address: '10.2.0.1', Service: { ID: 'solo', Service: 'solo', Port: 1, Connect: { Native: true } } });
  // Names that defeat the simple compressed layout: a target that is a suffix of another target,
  // a hostname spelled like a node's name in another case, a large service past 16 KiB over TCP.
  for (const [node, address] of [['x.y', ''], ['y', ''], ['z', 'Y.node.dc1.consul'], ['w', 'y.node.dc1.consul']]) {
    await reg(a, { Node: node, Address: `10.3.0.${node.length}`, NodeMeta: { k: node }, Service: { ID: `odd-${node}`, Service: 'odd', Port: 7, Address: address } });
  }
  for (let i = 0; i < 400; i++) await reg(a, { Node: `huge-node-with-a-long-name-${i}`, Address: `10.4.${i >> 8}.${i & 255}`, Service: { ID: `huge${i}`, Service: 'huge', Port: 9000 } });
}

before(async () => {
  plain = await startDevAgent({ config: { raw: { dns_config: { enable_truncate: true, service_ttl: { '*': '5s' } } } } });
  limited = await startDevAgent({ config: { raw: { recursors: ['127.0.0.1:1'], dns_config: { a_record_limit: 3, udp_answer_limit: 10, only_passing: true, recursor_timeout: '20ms', disable_compression: true } } } });
  for (const a of [plain, limited]) await seed(a);
});
after(async () => {
  for (const a of [plain, limited]) await a?.stop();
});

const NAMES = ['web.service.consul', 'WEB.Service.Consul', 'blue.web.service.consul', 'green.web.service.dc1.consul', '_web._tcp.service.consul',
  '_web._blue.consul', 'big.service.consul', 'odd.service.consul', 'huge.service.consul', 'solo.service.consul', 'solo.connect.consul', 'nope.service.consul', 'web.service.other.consul',
  'n1.node.consul', '1.0.0.10.in-addr.arpa'];
const TYPES = ['A', 'AAAA', 'SRV', 'TXT', 'ANY'] as RecordType[];
const EDNS = [-1, 0, 100, 512, 600, 1232, 4096, 65535];

function queries(rnd: () => number): Buffer[] {
  const out: Buffer[] = [];
  for (const name of NAMES) {
    for (const type of TYPES) {
      for (const size of EDNS) {
        const pkt: Packet = { type: 'query', id: Math.floor(rnd() * 65536), flags: rnd() < 0.5 ? dnsPacket.RECURSION_DESIRED : 0, questions: [{ type, name }] };
        // Options as clients send them: none, a COOKIE (dig's default), padding, client subnet (echoed: general path).
        const options = [[], [{ code: 10, data: Buffer.from('0123456789abcdef', 'hex') }], [{ code: 12, data: Buffer.alloc(9) }],
          [{ code: 8, family: 1, sourcePrefixLength: 24, scopePrefixLength: 0, ip: '192.0.2.0' }]][Math.floor(rnd() * 4)];
        if (size >= 0) pkt.additionals = [{ type: 'OPT', name: '.', udpPayloadSize: size, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options } as never];
        const msg = dnsPacket.encode(pkt);
        // dns-packet writes 4096 for a zero payload size: put the zero on the wire.
        if (size === 0) msg.writeUInt16BE(0, msg.length - 8);
        out.push(msg);
      }
    }
  }
  return out;
}

/** A recursor's reply to an A question for a hostname address: one A record. */
const recursorAnswer: Exchange = async (query) => {
  const q = dnsPacket.decode(query);
  const answers = [{ type: 'A', name: q.questions![0].name, ttl: 30, data: '192.0.2.7' }] as Packet['answers'];
  return dnsPacket.encode({ type: 'response', id: q.id, flags: dnsPacket.RECURSION_AVAILABLE, questions: q.questions, answers });
};

/** Sends every query through both handlers (both transports, 3 rounds); returns how many the fast path answered. */
async function compare(a: DevAgent, seedValue: number): Promise<number> {
  // limited's recursor (127.0.0.1:1) is replaced by one that answers at once (waiting out its
  // recursor_timeout for each hostname resolved took most of the file's time).
  const deps = { now: () => 1_700_000_000_000, exchange: recursorAnswer };
  const fast = (await a.agent.dnsHandler()).derive({ ...deps, random: prng(seedValue), fastPath: true });
  const slow = (await a.agent.dnsHandler()).derive({ ...deps, random: prng(seedValue), fastPath: false });
  let hits = 0;
  for (let round = 0; round < 3; round++) {
    for (const msg of queries(prng(seedValue + round))) {
      for (const transport of ['udp', 'tcp'] as const) {
        const now = fast.answerNow(msg, transport);
        if (now) hits++;
        const got = now !== undefined ? now : await fast.handle(msg, transport);
        const want = await slow.handle(msg, transport);
        assert.deepEqual(got?.toString('hex'), want?.toString('hex'), `${transport} ${JSON.stringify(dnsPacket.decode(msg).questions)} ${JSON.stringify(dnsPacket.decode(msg).additionals)}`);
      }
    }
  }
  return hits;
}

test('prepared answers are byte-identical to the general path', async () => {
  // Of 3,600 queries each: SRV questions whose hostname targets are resolved (hostnames.ts) take the general path.
  for (const a of [plain, limited]) assert.ok(await compare(a, 7) > 600);
});

test('prepared answers follow catalog changes: registration, critical and warning checks, deregistration', async () => {
  for (const a of [plain, limited]) {
    const before = (await a.agent.dnsHandler()).derive({ random: prng(1) });
    const ask = dnsPacket.encode({ type: 'query', id: 1, questions: [{ type: 'A', name: 'solo.service.consul' }] });
    assert.equal(dnsPacket.decode(before.answerNow(ask, 'udp')!).answers!.length, 1);
    await reg(a, { Node: 'solo2', Address: '10.2.0.2', Service: { ID: 'solo2', Service: 'solo', Port: 1 } });
    assert.equal(dnsPacket.decode(before.answerNow(ask, 'udp')!).answers!.length, 2);
    await reg(a, { Node: 'N3', Address: '10.0.0.3', Check: { CheckID: 'c6', Name: 'c6', ServiceID: 'web6', Status: 'critical' } });
    await reg(a, { Node: 'N4', Address: '10.0.0.4', Check: { CheckID: 'c8', Name: 'c8', ServiceID: 'web8', Status: 'warning' } });
    await reg(a, { Node: 'N5', Address: '10.0.0.5', Check: { CheckID: 'node', Name: 'node', Status: 'critical' } });
    await compare(a, 11);
    await a.agent.endpoints.catalog.deregister({ Node: 'solo2' } as never);
    assert.equal(dnsPacket.decode(before.answerNow(ask, 'udp')!).answers!.length, 1);
    await compare(a, 13);
  }
});
