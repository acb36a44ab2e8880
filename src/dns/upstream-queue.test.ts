import assert from 'node:assert/strict';
import { test } from 'node:test';
import dnsPacket from 'dns-packet';
import { ManualClock } from '../clock.ts';
import { QuestionExpired, QuestionShed, UpstreamQueue, questionBytes, shedReply, type CallSignal } from './upstream-queue.ts';

/** Calls the test settles by hand, in the order they started. */
function upstream() {
  const started: { key: string; resolve: (v: string) => void; reject: (e: Error) => void; signal: CallSignal }[] = [];
  const call = (key: string) => (signal: CallSignal) => new Promise<string>((resolve, reject) => started.push({ key, resolve, reject, signal }));
  return { started, call };
}

const tick = () => new Promise((r) => setImmediate(r));

/** Each promise's outcome so far: the value, the error's name, or 'pending'. */
function outcomes(ps: Promise<string>[]): string[] {
  const out = ps.map(() => 'pending');
  ps.forEach((p, i) => p.then((v) => { out[i] = v; }, (e: Error) => { out[i] = e.name; }));
  return out;
}

test('at most maxInFlight calls run; a freed slot goes to the newest queued call', async () => {
  const clock = new ManualClock();
  const q = new UpstreamQueue({ maxInFlight: 2, maxQuestions: 100, maxWaitMs: 2000, clock });
  const up = upstream();
  const ps = ['a', 'b', 'c', 'd', 'e'].map((k) => q.run(k, up.call(k)));
  const got = outcomes(ps);
  assert.deepEqual(up.started.map((s) => s.key), ['a', 'b'], 'two running, three queued');
  assert.equal(q.running, 2);
  up.started[0].resolve('A');
  await tick();
  assert.deepEqual(up.started.map((s) => s.key), ['a', 'b', 'e'], 'the newest queued question goes first');
  up.started[1].resolve('B');
  await tick();
  assert.deepEqual(up.started.map((s) => s.key), ['a', 'b', 'e', 'd']);
  assert.deepEqual(got, ['A', 'B', 'pending', 'pending', 'pending']);
});

test('identical questions asked at once share one call; a later one starts a new call', async () => {
  const q = new UpstreamQueue({ maxInFlight: 4, clock: new ManualClock() });
  const up = upstream();
  const ps = [q.run('web', up.call('web')), q.run('web', up.call('web')), q.run('db', up.call('db')), q.run('web', up.call('web'))];
  assert.deepEqual(up.started.map((s) => s.key), ['web', 'db'], 'one call per key');
  up.started[0].resolve('W');
  assert.deepEqual(await Promise.all([ps[0], ps[1], ps[3]]), ['W', 'W', 'W']);
  await q.run('web', async () => 'W2').then((v) => assert.equal(v, 'W2', 'asked after the answer: a call of its own'));
  // Undefined keys are never shared.
  const u = [q.run(undefined, up.call('u')), q.run(undefined, up.call('u'))];
  assert.equal(up.started.filter((s) => s.key === 'u').length, 2);
  up.started.filter((s) => s.key === 'u').forEach((s) => s.resolve('U'));
  assert.deepEqual(await Promise.all(u), ['U', 'U']);
});

test('past maxQuestions the oldest waiting question is shed, and its call dropped when nobody else waits', async () => {
  const q = new UpstreamQueue({ maxInFlight: 1, maxQuestions: 3, clock: new ManualClock() });
  const up = upstream();
  const ps = ['a', 'b', 'c', 'd', 'e'].map((k) => q.run(k, up.call(k)));
  const got = outcomes(ps);
  await tick();
  assert.deepEqual(got, ['QuestionShed', 'QuestionShed', 'pending', 'pending', 'pending']);
  assert.equal(q.waiting, 3);
  assert.ok(up.started[0].signal.aborted, 'the running call nobody waits for is aborted');
  assert.deepEqual(up.started.map((s) => s.key), ['a', 'd'], 'its slot went to the newest call then');
  assert.equal(q.running, 1);
});

test('a question that waited maxWaitMs is dropped; a running call lives while any question waits', async () => {
  const clock = new ManualClock();
  const q = new UpstreamQueue({ maxInFlight: 1, maxWaitMs: 2000, clock });
  const up = upstream();
  const first = q.run('web', up.call('web'));
  const queued = q.run('db', up.call('db'));
  clock.advance(1500);
  const joiner = q.run('web', up.call('web'));
  const got = outcomes([first, queued, joiner]);
  clock.advance(500);
  await tick();
  assert.deepEqual(got, ['QuestionExpired', 'QuestionExpired', 'pending']);
  assert.equal(up.started[0].signal.aborted, false, 'the joiner still waits on the call');
  clock.advance(1500);
  await tick();
  assert.deepEqual(got, ['QuestionExpired', 'QuestionExpired', 'QuestionExpired']);
  assert.ok(up.started[0].signal.aborted, 'nobody waits: aborted');
  assert.equal(q.running, 0);
  assert.equal(q.waiting, 0);
  // An answer arriving after the abort changes nothing.
  up.started[0].resolve('late');
  await tick();
  assert.deepEqual(got, ['QuestionExpired', 'QuestionExpired', 'QuestionExpired']);
});

test('a failing call fails every question waiting on it and frees its slot', async () => {
  const q = new UpstreamQueue({ maxInFlight: 1, clock: new ManualClock() });
  const up = upstream();
  const a = q.run('web', up.call('web'));
  const b = q.run('web', up.call('web'));
  const c = q.run('db', up.call('db'));
  up.started[0].reject(new Error('No known Consul servers'));
  await assert.rejects(a, /No known Consul servers/);
  await assert.rejects(b, /No known Consul servers/);
  assert.deepEqual(up.started.map((s) => s.key), ['web', 'db']);
  up.started[1].resolve('D');
  assert.equal(await c, 'D');
  assert.equal(q.running, 0);
  await assert.rejects(q.run('x', () => { throw new Error('sync'); }), /sync/, 'a synchronous throw is a rejection');
  assert.equal(q.running, 0);
});

test('shedReply is a SERVFAIL with the question, RD echoed and RA as asked; questionBytes ignores the ID', () => {
  const msg = dnsPacket.encode({ type: 'query', id: 77, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name: 'web.service.consul', type: 'A' }] });
  const raw = shedReply(msg, true)!;
  const r = dnsPacket.decode(raw);
  assert.equal(r.id, 77);
  assert.equal(raw.readUInt16BE(2) & 0xf, 2, 'SERVFAIL');
  assert.equal(r.flags! & dnsPacket.RECURSION_DESIRED, dnsPacket.RECURSION_DESIRED);
  assert.equal(r.flags! & dnsPacket.RECURSION_AVAILABLE, dnsPacket.RECURSION_AVAILABLE);
  assert.equal(r.questions?.[0].name, 'web.service.consul');
  assert.ok(r.flags! & dnsPacket.AUTHORITATIVE_ANSWER, 'AA: the question is under our domain');
  assert.equal(r.additionals?.length ?? 0, 0, 'no OPT without one asked');
  assert.equal(shedReply(Buffer.from([1, 2, 3]), false), null);
  // Consul's setEDNS: the asked OPT comes back with its payload size, the client subnet valid everywhere.
  const edns = dnsPacket.encode({
    type: 'query', id: 78, questions: [{ name: 'web.service.consul', type: 'A' }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, options: [{ code: 'CLIENT_SUBNET', ip: '10.1.2.0', sourcePrefixLength: 24 }] } as never],
  });
  const opt = dnsPacket.decode(shedReply(edns, false)!).additionals?.find((a) => a.type === 'OPT');
  assert.ok(opt && opt.type === 'OPT', 'the OPT is echoed');
  assert.equal(opt.udpPayloadSize, 1232);
  assert.equal((opt.options?.[0] as unknown as { scopePrefixLength: number }).scopePrefixLength, 0);
  const other = Buffer.from(msg);
  other.writeUInt16BE(78, 0);
  assert.equal(questionBytes(other), questionBytes(msg));
  assert.ok(new QuestionShed() instanceof Error && new QuestionExpired() instanceof Error);
});
