// Fuzzing the DNS handler in-process (no sockets, so it is fast): 120,000 random and mutated
// packets against an agent with data; no call may throw, and every reply must decode, carry
// the request id and be a response. Null (no reply) is allowed only for runts and responses.
// Mutated packets also go through the prepared-answer fast path and the general path: same bytes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import dnsPacket, { type Packet, type RecordType } from 'dns-packet';
import { seededRandom as prng } from '../src/gossip/random.ts';
import { startDevAgent, type DevAgent } from './support/agent.ts';

let dev: DevAgent;

before(async () => {
  dev = await startDevAgent({ config: { raw: { dns_config: { enable_truncate: true } } } });
  const reg = (body: unknown) => dev.agent.endpoints.catalog.register(body as never);
  for (let i = 0; i < 20; i++) {
    await reg({ Node: `n${i}`, Address: `10.0.0.${i + 1}`, NodeMeta: { k: `v${i}` }, Service: { ID: `web${i}`, Service: 'web', Port: 80 + i, Tags: ['t'], Address: i % 2 ? `10.9.0.${i}` : '' } });
  }
});
after(async () => {
  await dev.stop();
});

const NAMES = ['web.service.consul', '_web._tcp.service.consul', 't.web.service.dc1.consul', 'n1.node.consul', '0a000001.addr.consul',
  'consul', '1.0.0.10.in-addr.arpa', 'web.connect.consul', 'web.service.a.ns.b.ap.dc1.dc.consul', 'x.example.com', 'q.query.consul'];
const TYPES = ['A', 'AAAA', 'SRV', 'TXT', 'ANY', 'SOA', 'NS', 'PTR', 'CNAME', 'AXFR', 'MX'] as const;

function seedQueries(): Buffer[] {
  const out: Buffer[] = [];
  for (const name of NAMES) {
    for (const type of TYPES) {
      const pkt: Packet = { type: 'query', id: out.length, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: type as RecordType, name }] };
      out.push(dnsPacket.encode(pkt));
      pkt.additionals = [{ type: 'OPT', name: '.', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] } as never];
      out.push(dnsPacket.encode(pkt));
      (pkt.additionals[0] as { options: unknown[] }).options = [{ code: 10, data: Buffer.from('0123456789abcdef', 'hex') }];
      out.push(dnsPacket.encode(pkt));
    }
  }
  return out;
}

function mutate(base: Buffer, rnd: () => number): Buffer {
  const b = Buffer.from(base);
  const op = Math.floor(rnd() * 4);
  if (op === 0) return b.subarray(0, Math.floor(rnd() * b.length));
  if (op === 1) {
    for (let i = 0, n = 1 + Math.floor(rnd() * 4); i < n; i++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
    return b;
  }
  if (op === 2) {
    const at = Math.floor(rnd() * b.length);
    const junk = Buffer.from(Array.from({ length: 1 + Math.floor(rnd() * 16) }, () => Math.floor(rnd() * 256)));
    return Buffer.concat([b.subarray(0, at), junk, b.subarray(at)]);
  }
  // Keep a valid header (one question) over a random body.
  const body = Buffer.from(Array.from({ length: Math.floor(rnd() * 80) }, () => Math.floor(rnd() * 256)));
  return Buffer.concat([b.subarray(0, 12), body]);
}

function randomPacket(rnd: () => number): Buffer {
  return Buffer.from(Array.from({ length: Math.floor(rnd() * 300) }, () => Math.floor(rnd() * 256)));
}

test('120,000 random and mutated packets: no throw, every reply decodes as a response with the request id', async () => {
  const rnd = prng(20240601);
  const seeds = seedQueries();
  const handler = await dev.agent.dnsHandler();
  let replies = 0;
  for (let i = 0; i < 120_000; i++) {
    const msg = i % 3 === 0 ? randomPacket(rnd) : mutate(seeds[Math.floor(rnd() * seeds.length)], rnd);
    const transport = i % 2 ? 'udp' : 'tcp';
    const out = await handler.handle(msg, transport);
    if (out === null) {
      assert.ok(msg.length < 12 || (msg[2] & 0x80) !== 0, `no reply to a ${msg.length}-byte query: ${msg.toString('hex')}`);
      continue;
    }
    replies++;
    let decoded;
    try {
      decoded = dnsPacket.decode(out);
    } catch (err) {
      assert.fail(`undecodable reply to ${msg.toString('hex')}: ${String(err)}`);
    }
    assert.equal(decoded.id, msg.readUInt16BE(0));
    assert.equal(decoded.type, 'response');
    if (transport === 'udp') assert.ok(out.length <= 65535);
  }
  assert.ok(replies > 50_000, `only ${replies} replies`);
});

test('60,000 mutated packets: the prepared-answer fast path replies exactly as the general path', async () => {
  const rnd = prng(20261125);
  const seeds = seedQueries();
  const fast = (await dev.agent.dnsHandler()).derive({ random: prng(5), now: () => 1_700_000_000_000, fastPath: true });
  const slow = (await dev.agent.dnsHandler()).derive({ random: prng(5), now: () => 1_700_000_000_000, fastPath: false });
  let hits = 0;
  for (let i = 0; i < 60_000; i++) {
    const msg = i % 4 === 0 ? seeds[Math.floor(rnd() * seeds.length)] : mutate(seeds[Math.floor(rnd() * seeds.length)], rnd);
    const transport = i % 2 ? 'udp' : 'tcp';
    const now = fast.answerNow(msg, transport);
    if (now) hits++;
    const got = now !== undefined ? now : await fast.handle(msg, transport);
    assert.deepEqual(got?.toString('hex'), (await slow.handle(msg, transport))?.toString('hex'), msg.toString('hex'));
  }
  assert.ok(hits > 5_000, `only ${hits} fast replies`);
});
