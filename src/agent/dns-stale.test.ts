import assert from 'node:assert/strict';
import { test } from 'node:test';
import dnsPacket from 'dns-packet';
import { silentLogger } from '../log.ts';
import { ManualClock } from '../clock.ts';
import { UpstreamQueue } from '../dns/index.ts';
import { staleBounded, type StaleDeps } from './dns-stale.ts';

const reply = Buffer.from('prepared');

function setup(cfg: { allowStale: boolean; maxStaleMs: number }, over: Partial<StaleDeps> = {}) {
  const calls: string[] = [];
  const state = { now: 10_000, lastContact: 9_000, leader: false, known: true };
  const h = staleBounded({
    answerNow: (msg) => (msg.length < 12 ? null : reply),
    handle: async () => (calls.push('handle'), reply),
  }, cfg, {
    isLeader: () => state.leader, knownLeader: () => state.known, lastContact: () => state.lastContact, now: () => state.now,
    consistentRead: async () => void calls.push('consistent'), logger: silentLogger(), ...over,
  });
  return { h, calls, state };
}

test('within max_stale the replica answers at once; past it a consistent read comes first', async () => {
  const { h, calls, state } = setup({ allowStale: true, maxStaleMs: 5000 });
  const msg = Buffer.alloc(20);
  assert.equal(h.answerNow(msg, 'udp'), reply);
  await h.handle(msg, 'udp');
  assert.deepEqual(calls, ['handle']);
  state.now = 20_000;
  assert.equal(h.answerNow(msg, 'udp'), undefined, 'no prepared answer while too stale');
  assert.equal(h.answerNow(Buffer.alloc(4), 'udp'), null, 'header rejections stand');
  await h.handle(msg, 'udp');
  assert.deepEqual(calls, ['handle', 'consistent', 'handle']);
  state.leader = true;
  assert.equal(h.answerNow(msg, 'udp'), reply, 'the leader is never stale');
});

test('a failed consistent read still answers when stale reads are allowed', async () => {
  const failing = setup({ allowStale: true, maxStaleMs: 0 }, { consistentRead: async () => { throw new Error('store down'); } });
  assert.equal(await failing.h.handle(Buffer.alloc(20), 'udp'), reply);
});

/** A query message for `web.service.consul` A with RD set. */
function query(): Buffer {
  return dnsPacket.encode({ type: 'query', id: 42, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name: 'web.service.consul' }] });
}

test('allow_stale false: every answer waits for a consistent read, even on the leader', async () => {
  const strict = setup({ allowStale: false, maxStaleMs: 87600 * 3600_000 });
  strict.state.leader = true;
  strict.state.lastContact = strict.state.now;
  assert.equal(strict.h.answerNow(query(), 'udp'), undefined, 'no prepared answer before the read');
  assert.equal(strict.h.answerNow(Buffer.alloc(4), 'udp'), null, 'runts are still dropped at once');
  assert.equal(await strict.h.handle(query(), 'udp'), reply);
  assert.deepEqual(strict.calls, ['consistent', 'handle']);
});

test('allow_stale false: no known leader or a failed consistent read is SERVFAIL, never a stale answer', async () => {
  const leaderless = setup({ allowStale: false, maxStaleMs: 0 });
  leaderless.state.known = false;
  const out = dnsPacket.decode((await leaderless.h.handle(query(), 'udp'))!);
  assert.equal((out.flags ?? 0) & 0xf, 2, 'SERVFAIL');
  assert.equal(out.id, 42);
  assert.deepEqual(leaderless.calls, [], 'neither read nor answer');
  const failing = setup({ allowStale: false, maxStaleMs: 0 }, { consistentRead: async () => { throw new Error('store down'); } });
  assert.equal((dnsPacket.decode((await failing.h.handle(query(), 'udp'))!).flags ?? 0) & 0xf, 2, 'SERVFAIL');
  assert.deepEqual(failing.calls, []);
  // Consul's handleQuery SERVFAIL echoes the question's EDNS0 (setEDNS), and sets RA when there are recursors.
  const withOpt = dnsPacket.encode({
    type: 'query', id: 43, questions: [{ type: 'A', name: 'web.service.consul' }], additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232 } as never],
  });
  const recursing = setup({ allowStale: false, maxStaleMs: 0, recursors: [{ host: '127.0.0.1', port: 53 }] } as never);
  recursing.state.known = false;
  const echoed = dnsPacket.decode((await recursing.h.handle(withOpt, 'udp'))!);
  const opt = echoed.additionals?.find((a) => a.type === 'OPT');
  assert.ok(opt && opt.type === 'OPT' && opt.udpPayloadSize === 1232, 'the OPT is echoed');
  assert.ok((echoed.flags ?? 0) & dnsPacket.RECURSION_AVAILABLE, 'RA with recursors');
});

test('allow_stale false: questions arriving together share consistent reads (one running, one queued), not one store read each', async () => {
  let reads = 0;
  const releases: (() => void)[] = [];
  const consistentRead = (): Promise<void> => (reads++, new Promise<void>((r) => releases.push(r)));
  const strict = setup({ allowStale: false, maxStaleMs: 0 }, { consistentRead });
  const first = strict.h.handle(query(), 'udp');
  await new Promise((r) => setImmediate(r));
  assert.equal(reads, 1);
  // Arriving while that read runs: they need a read that starts after them, the next one, shared.
  const later = Array.from({ length: 100 }, () => strict.h.handle(query(), 'udp'));
  await new Promise((r) => setImmediate(r));
  assert.equal(reads, 1, 'the others wait for the running read to settle');
  releases[0]();
  assert.equal(await first, reply);
  await new Promise((r) => setImmediate(r));
  assert.equal(reads, 2, 'one more read for all who arrived during the first');
  releases[1]();
  for (const out of await Promise.all(later)) assert.equal(out, reply);
  assert.equal(strict.calls.filter((c) => c === 'handle').length, 101);
});

test('questions waiting for a stuck consistent read are bounded: the oldest past the bound SERVFAIL, all dropped after 2 s', async () => {
  const clock = new ManualClock();
  const reads: (() => void)[] = [];
  const { h } = setup({ allowStale: false, maxStaleMs: 0 }, {
    consistentRead: () => new Promise<void>((r) => reads.push(r)),
    queue: new UpstreamQueue({ maxInFlight: 100, maxQuestions: 100, maxWaitMs: 2000, clock }),
  });
  const out: (Buffer | null | 'pending')[] = [];
  for (let i = 0; i < 300; i++) {
    out.push('pending');
    void h.handle(query(), 'udp').then((r) => { out[i] = r; });
  }
  await new Promise((r) => setImmediate(r));
  assert.equal(reads.length, 1, 'one store read however many wait (the rest join the next one)');
  assert.equal(out.filter((r) => r === 'pending').length, 100, 'at most 100 wait');
  assert.ok(out.slice(0, 200).every((r) => r !== 'pending' && (r!.readUInt16BE(2) & 0xf) === 2), 'the oldest 200 were SERVFAIL');
  clock.advance(2000);
  await new Promise((r) => setImmediate(r));
  assert.ok(out.slice(200).every((r) => r === null), 'after 2 s the rest are dropped, not answered late');
});

test('too stale with a stuck consistent read: a shed question is answered from the replica', { timeout: 10_000 }, async () => {
  const { h, calls } = setup({ allowStale: true, maxStaleMs: 0 }, {
    consistentRead: () => new Promise<void>(() => {}),
    queue: new UpstreamQueue({ maxInFlight: 1, maxQuestions: 1, clock: new ManualClock() }),
  });
  const first = h.handle(query(), 'udp');
  const second = h.handle(query(), 'udp');
  assert.equal(await first, reply, 'shed: the replica answers');
  assert.deepEqual(calls, ['handle']);
  void second;
});

test("answers from a replica over 5 s behind count as Consul's dns.stale_queries; the leader's and re-read ones do not", async () => {
  let stale = 0;
  const { h, state } = setup({ allowStale: true, maxStaleMs: 60_000 }, { staleQuery: () => void stale++ });
  const msg = Buffer.alloc(20);
  state.lastContact = state.now - 4_000;
  h.answerNow(msg, 'udp');
  await h.handle(msg, 'udp');
  assert.equal(stale, 0);
  state.lastContact = state.now - 6_000;
  h.answerNow(msg, 'udp');
  await h.handle(msg, 'udp');
  assert.equal(stale, 2);
  state.lastContact = state.now - 61_000;
  await h.handle(msg, 'udp');
  assert.equal(stale, 2, 'past max_stale the consistent read answers');
  state.leader = true;
  h.answerNow(msg, 'udp');
  assert.equal(stale, 2);
});
