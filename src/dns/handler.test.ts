// The handler's message checks and its bound on recursion, without sockets: responses and runts
// get no reply, opcodes other than QUERY and NOTIFY NOTIMP, odd section counts FORMERR (all with the
// request id, as miekg rejects them), a NOTIFY answered as a query, and
// past maxRecursions a recursed question is SERVFAIL at once instead of waiting in line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import dnsPacket from 'dns-packet';
import { DnsHandler } from './handler.ts';
import { dnsConfigFrom } from './config.ts';
import { RCODE } from './errors.ts';
import { EMPTY_DNS_READER } from '../endpoint/dns-view.ts';
import { devConfig } from '../../test/support/agent.ts';
import { silentLogger } from '../log.ts';
import type { Exchange } from './recursor.ts';
import { ManualClock } from '../clock.ts';
import { UpstreamQueue } from './upstream-queue.ts';

const cfg = dnsConfigFrom(devConfig({ raw: { recursors: ['127.0.0.1:5353'] } }));
const query = (id: number, name = 'example.test'): Buffer => dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }] });
const rcode = (b: Buffer | null): number => b!.readUInt16BE(2) & 0xf;

test('runts and responses get no reply; opcodes but QUERY and NOTIFY NOTIMP; odd section counts FORMERR, with the request id', async () => {
  const h = new DnsHandler({ cfg, view: EMPTY_DNS_READER, logger: silentLogger() });
  assert.equal(await h.handle(Buffer.alloc(11), 'udp'), null);
  const response = query(1);
  response.writeUInt16BE(response.readUInt16BE(2) | 0x8000, 2);
  assert.equal(await h.handle(response, 'udp'), null);
  for (const opcode of [1, 2, 5, 6]) {
    const update = query(2);
    // RD, AD and CD set, as dig sends them: miekg's rejection keeps the request's bits but AA.
    update.writeUInt16BE((opcode << 11) | 0x0400 | 0x0100 | 0x0020 | 0x0010, 2);
    const ni = await h.handle(update, 'udp');
    assert.equal(ni!.readUInt16BE(0), 2);
    assert.equal(ni!.readUInt16BE(2), 0x8000 | (opcode << 11) | 0x0100 | 0x0020 | 0x0010 | RCODE.NOTIMP, `opcode ${opcode}`);
    assert.equal(ni!.length, 12, 'header only');
  }
  const two = query(3);
  two.writeUInt16BE(2, 4);
  two.writeUInt16BE((4 << 11) | 0x0100, 2);
  const fe = await h.handle(two, 'tcp');
  assert.equal(fe!.readUInt16BE(0), 3);
  assert.equal(fe!.readUInt16BE(2), 0x8000 | 0x0100 | RCODE.FORMERR, 'a FORMERR is a QUERY whatever the opcode');
  const none = query(4);
  none.writeUInt16BE(0, 4);
  assert.equal(rcode(await h.handle(none, 'udp')), RCODE.FORMERR);
});

test('a NOTIFY is answered as a query, its opcode echoed and RD and CD not (miekg\'s SetReply copies them for QUERY only)', async () => {
  const h = new DnsHandler({ cfg: dnsConfigFrom(devConfig()), view: EMPTY_DNS_READER, logger: silentLogger() });
  const notify = query(5, 'nope.node.consul');
  notify.writeUInt16BE((4 << 11) | 0x0100 | 0x0010, 2);
  const r = dnsPacket.decode((await h.handle(notify, 'udp'))!);
  assert.equal((r as { opcode?: string }).opcode, 'NOTIFY');
  assert.equal((r as { rcode?: string }).rcode, 'NXDOMAIN');
  assert.equal((r.flags ?? 0) & (dnsPacket.RECURSION_DESIRED | dnsPacket.CHECKING_DISABLED), 0);
  assert.ok((r.flags ?? 0) & dnsPacket.AUTHORITATIVE_ANSWER);
  assert.deepEqual(r.authorities!.map((a) => a.type), ['SOA']);
});

test('past maxRecursions waiting on the recursors, a recursed question is SERVFAIL at once', async () => {
  const waiting: (() => void)[] = [];
  const exchange: Exchange = (q) => new Promise((resolve) => waiting.push(() => {
    const req = dnsPacket.decode(q);
    resolve(dnsPacket.encode({ type: 'response', id: req.id, flags: 0, questions: req.questions, answers: [{ type: 'A', name: 'example.test', data: '192.0.2.1' }] }));
  }));
  const h = new DnsHandler({ cfg, view: EMPTY_DNS_READER, logger: silentLogger(), exchange, maxRecursions: 2 });
  const first = h.handle(query(10), 'udp');
  const second = h.handle(query(11), 'udp');
  const pending = h.handle(query(12), 'udp');
  await new Promise((r) => setImmediate(r));
  assert.equal(waiting.length, 2, 'the third question never reaches a recursor');
  for (const release of waiting) release();
  const third = await pending;
  assert.equal(third!.readUInt16BE(0), 12);
  assert.equal(rcode(third), RCODE.SERVFAIL);
  assert.equal(rcode(await first), RCODE.NOERROR);
  assert.equal(rcode(await second), RCODE.NOERROR);
  // With the slots free again, recursion works.
  const fourth = h.handle(query(13), 'udp');
  waiting[2]();
  assert.deepEqual(dnsPacket.decode((await fourth)!).answers!.map((a) => (a as { data?: unknown }).data), ['192.0.2.1']);
});

test('prepared-query executions wait through a bounded queue: a shed question is SERVFAIL, one that waited 2 s gets no reply', async () => {
  const clock = new ManualClock();
  const queue = new UpstreamQueue({ maxInFlight: 1, maxQuestions: 1, maxWaitMs: 2000, clock });
  const stuck = new Promise<never>(() => {});
  const h = new DnsHandler({ cfg, view: EMPTY_DNS_READER, logger: silentLogger(), queries: (name) => queue.run(name, () => stuck) });
  const first = h.handle(query(20, 'a.query.consul'), 'udp');
  const second = h.handle(query(21, 'b.query.consul'), 'udp');
  const shed = await first;
  assert.equal(shed!.readUInt16BE(0), 20);
  assert.equal(rcode(shed), RCODE.SERVFAIL, 'the oldest was shed');
  clock.advance(2000);
  assert.equal(await second, null, 'not answered late');
});
