import { test } from 'node:test';
import assert from 'node:assert/strict';
import dnsPacket, { type Answer, type Packet } from 'dns-packet';
import { MessageWriter, packQuestion, packRecord, type PackedRecord } from './pack.ts';
import { fitReply, type FitLimits } from './truncate.ts';
import { encodeName } from './compress.ts';

const QR_AA = 0x8400;

/** An SRV reply as answers.ts builds it: `n` instances on their own nodes, A and node-meta TXT glue. */
function srvReply(n: number, owner = 'web.service.consul'): { answers: Answer[]; extras: Answer[] } {
  const answers: Answer[] = [];
  const extras: Answer[] = [];
  for (let i = 0; i < n; i++) {
    const target = `node-${i}.node.dc1.consul`;
    answers.push({ type: 'SRV', name: owner, ttl: 0, data: { priority: 1, weight: 1, port: 8000 + i, target } });
    extras.push({ type: 'A', name: target, ttl: 0, data: `10.0.${i >> 8}.${i & 255}` }, { type: 'TXT', name: target, ttl: 0, data: 'rack=r1' });
  }
  return { answers, extras };
}

function write(answers: Answer[], extras: Answer[], compress: boolean, owner = 'web.service.consul', type = 'SRV'): Buffer {
  const w = new MessageWriter();
  const packed = answers.map((a) => packRecord(a));
  const len = w.write({ id: 7, flags: QR_AA }, packQuestion(owner, type, 'IN'), packed, packed.length, [], extras.map((a) => packRecord(a)), extras.length, compress);
  return w.take(len);
}

/**
 * Walks a message as a strict decoder would and returns the offset of every pointer's target;
 * fails unless each pointer goes backwards, below 16 KiB, to the start of a label written earlier.
 */
function pointers(msg: Buffer): { at: number; to: number }[] {
  const labels = new Set<number>();
  const found: { at: number; to: number }[] = [];
  const name = (at: number): number => {
    for (;;) {
      const len = msg[at];
      if (len >= 0xc0) {
        const to = msg.readUInt16BE(at) & 0x3fff;
        assert.ok(to < at && to < 0x4000 && labels.has(to), `pointer at ${at} to ${to}`);
        found.push({ at, to });
        return at + 2;
      }
      assert.ok(len < 64, `label length ${len} at ${at}`);
      if (len === 0) return at + 1;
      labels.add(at);
      at += len + 1;
    }
  };
  let at = name(12) + 4;
  const records = msg.readUInt16BE(6) + msg.readUInt16BE(8) + msg.readUInt16BE(10);
  for (let i = 0; i < records; i++) {
    at = name(at);
    const type = msg.readUInt16BE(at);
    const rdlen = msg.readUInt16BE(at + 8);
    const start = at + 10;
    if (type === 5 || type === 2 || type === 12) assert.equal(name(start), start + rdlen);
    if (type === 6) assert.equal(name(name(start)) + 20, start + rdlen);
    if (type === 33) {
      const before = found.length;
      assert.equal(name(start + 6), start + rdlen);
      assert.equal(found.length, before, 'an SRV target is never compressed');
    }
    at = start + rdlen;
  }
  assert.equal(at, msg.length);
  return found;
}

test('compressed SRV replies decode to the same records, with valid pointers, and are much smaller', () => {
  const { answers, extras } = srvReply(10);
  const plain = write(answers, extras, false);
  const packed = write(answers, extras, true);
  const a = dnsPacket.decode(plain);
  const b = dnsPacket.decode(packed);
  assert.deepEqual(b.answers, a.answers);
  assert.deepEqual(b.additionals, a.additionals);
  assert.equal(pointers(plain).length, 0);
  const ptrs = pointers(packed);
  // Every owner name is a pointer: the SRV owners to the question, the glue owners to their SRV target.
  assert.equal(ptrs.length, 10 + 20);
  // Each SRV owner saves the question name (20 bytes) less a 2-byte pointer; each glue owner its target
  // (24 bytes) less 2; each target's `consul` suffix (8 bytes) is not compressed (SRV).
  assert.equal(plain.length - packed.length, 10 * 18 + 20 * 22);
  assert.ok(packed.length < plain.length * 0.6, `${packed.length} vs ${plain.length}`);
});

test('without compression the writer produces exactly what dns-packet encodes', () => {
  const { answers, extras } = srvReply(5);
  const cname: Answer = { type: 'CNAME', name: 'api.service.consul', ttl: 5, data: 'api.example.com' };
  const soa: Answer = { type: 'SOA', name: 'consul', ttl: 0, data: { mname: 'ns.consul', rname: 'hostmaster.consul', serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum: 0 } };
  const opt = { type: 'OPT', name: '.', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] } as unknown as Answer;
  const pkt: Packet = { type: 'response', id: 7, flags: QR_AA & 0x7fff, questions: [{ type: 'SRV', name: 'web.service.consul', class: 'IN' }], answers: [...answers, cname], authorities: [soa], additionals: [...extras, opt] };
  const w = new MessageWriter();
  const packed = [...answers, cname].map((a) => packRecord(a));
  const len = w.write({ id: 7, flags: QR_AA }, packQuestion('web.service.consul', 'SRV', 'IN'), packed, packed.length, [packRecord(soa)], [...extras, opt].map((a) => packRecord(a)), extras.length + 1, false);
  assert.equal(w.take(len).toString('hex'), dnsPacket.encode(pkt).toString('hex'));
});

test('CNAME, NS, PTR and SOA names compress against earlier names; case differs means no match', () => {
  const answers: Answer[] = [
    { type: 'CNAME', name: 'a.service.consul', ttl: 0, data: 'web.example.com' },
    { type: 'CNAME', name: 'a.service.consul', ttl: 0, data: 'api.example.com' },
    { type: 'NS', name: 'consul', ttl: 0, data: 'srv1.node.dc1.consul' },
    { type: 'PTR', name: 'a.service.consul', ttl: 0, data: 'srv1.node.dc1.consul' },
    { type: 'SOA', name: 'consul', ttl: 0, data: { mname: 'ns.consul', rname: 'hostmaster.consul', serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 0 } },
    { type: 'A', name: 'A.Service.Consul', ttl: 0, data: '10.0.0.1' },
  ];
  const packed = write(answers, [], true, 'a.service.consul', 'ANY');
  assert.deepEqual(dnsPacket.decode(packed).answers, dnsPacket.decode(write(answers, [], false, 'a.service.consul', 'ANY')).answers);
  const ptrs = pointers(packed);
  // api.example.com → example.com of the first CNAME; the PTR target is entirely the NS target.
  assert.ok(ptrs.length >= 9, `${ptrs.length} pointers`);
  const last = dnsPacket.decode(packed).answers!.at(-1)!;
  assert.equal(last.name, 'A.Service.Consul');
});

test('names written past 16 KiB are not pointer targets; the message still decodes', () => {
  const answers: Answer[] = [];
  for (let i = 0; i < 1200; i++) answers.push({ type: 'CNAME', name: 'big.service.consul', ttl: 0, data: `h${i}.zone${i}.example` });
  const packed = write(answers, [], true, 'big.service.consul', 'CNAME');
  assert.ok(packed.length > 0x4000 * 1.5);
  for (const p of pointers(packed)) assert.ok(p.to < 0x4000);
  assert.equal(dnsPacket.decode(packed).answers!.length, 1200);
});

/** A measure over fixed per-answer sizes, recording the compression mode of each call. */
function sized(each: number, base: number, modes: boolean[]): (kept: number, synced: boolean, authority: boolean, compress: boolean) => number {
  return (kept, _s, _a, compress) => (modes.push(compress), base + kept * (compress ? each : each * 2));
}

test('fitReply: UDP without EDNS0 measures uncompressed past udp_answer_limit; budgets are Consul\'s', () => {
  const udp: FitLimits = { transport: 'udp', ednsSize: null, udpAnswerLimit: 3, srv: false, compress: true };
  const modes: boolean[] = [];
  assert.deepEqual(fitReply(10, udp, sized(16, 40, modes)), { kept: 3, synced: true, authority: true, truncated: true });
  assert.deepEqual(modes, [false]);
  // EDNS 1000: budget 992; 40 + 59 × 16 = 984 fits, 60 does not.
  assert.equal(fitReply(100, { ...udp, ednsSize: 1000 }, sized(16, 40, [])).kept, 59);
  // Without compression the same answers take twice the room.
  assert.equal(fitReply(100, { ...udp, ednsSize: 1000, compress: false }, sized(16, 40, [])).kept, 29);
  // TCP: SRV capped at 1024 answers without a truncation flag, then 65523 bytes.
  const tcp: FitLimits = { transport: 'tcp', ednsSize: null, udpAnswerLimit: 3, srv: true, compress: true };
  assert.deepEqual(fitReply(3000, tcp, sized(16, 40, [])), { kept: 1024, synced: false, authority: true, truncated: false });
  assert.deepEqual(fitReply(5000, { ...tcp, srv: false }, sized(20, 40, [])), { kept: 3274, synced: true, authority: false, truncated: true });
});

test('records written without dns-packet (A, SRV) and names encoded in JavaScript are dns-packet\'s bytes', () => {
  const codec = dnsPacket as unknown as { name: { encode(n: string): Buffer }; answer: { encode(a: Answer): Buffer; encodingLength(a: Answer): number } };
  const names = ['web.service.consul', 'web.service.consul.', '.web.service.consul', 'a..b.consul', '0a000001.addr.dc1.consul.', 'x', '.', '', 'ünï.consul', `${'l'.repeat(63)}.consul`, 'sp ace.consul'];
  for (const n of names) assert.deepEqual(encodeName(n), codec.name.encode(n), JSON.stringify(n));
  const records: Answer[] = [
    ...srvReply(3).answers, ...srvReply(3).extras,
    { type: 'A', name: 'web.service.consul', ttl: 30, data: '192.0.2.255' },
    { type: 'A', name: 'web.service.consul', data: '10.1.2.3', class: 'IN' },
    { type: 'A', name: 'web.service.consul', ttl: 1.5, data: '10.1.2.3' },
    { type: 'A', name: 'web.service.consul', ttl: 5, data: '10.1.2.3', flush: true },
    { type: 'SRV', name: 'web.service.consul', ttl: 0xffffffff, data: { port: 65535, target: 'ünï.node.consul' } },
    { type: 'SRV', name: 'web.service.consul', ttl: 5, data: { priority: 0, weight: 0, port: 1, target: 'node.node.dc1.consul.' } },
    { type: 'AAAA', name: 'web.service.consul', ttl: 5, data: '2001:db8::1' },
  ];
  for (const r of records) {
    const p = packRecord(r, new Map());
    assert.deepEqual(Buffer.concat([p.owner.bytes, p.wire]), codec.answer.encode(r), JSON.stringify(r));
    assert.equal(p.size, codec.answer.encodingLength(r));
    assert.equal(p.type, p.wire.readUInt16BE(0));
  }
  assert.throws(() => packRecord({ type: 'SRV', name: 'web.service.consul', data: { port: 1, target: `${'l'.repeat(64)}.consul` } }), RangeError);
});
