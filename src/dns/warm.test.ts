// The warm-up of prepared answers: every service's A and SRV question answered once, in slices that
// yield to the event loop, paused while real questions pour in, names a question cannot carry left
// alone, stoppable at any point; after it a real question is answered from the entry it built, the
// view not asked to build again.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import dnsPacket from 'dns-packet';
import { DnsHandler } from './handler.ts';
import { dnsConfigFrom } from './config.ts';
import { BUSY, BUSY_PAUSE_MS, MAX_WARMED, MAX_WARMED_INSTANCES, MIN_WARMED, SLICE_MS, START_DELAY_MS, warmPrepared, warmedServices, type WarmTimers } from './warm.ts';
import type { DnsInstance, DnsReader } from '../endpoint/dns-view.ts';
import { devConfig } from '../../test/support/agent.ts';
import { silentLogger } from '../log.ts';

/** Timers run by hand: `run()` runs the next scheduled slice; the clock moves 1 ms per reading; `delays` the delays asked for. */
function manualTimers(): WarmTimers & { pending: (() => void)[]; delays: number[]; run(): void } {
  let ms = 0;
  const pending: (() => void)[] = [];
  const delays: number[] = [];
  return {
    pending,
    delays,
    later(fn, delay) {
      pending.push(fn);
      delays.push(delay);
      return () => pending.splice(pending.indexOf(fn) >>> 0, 1);
    },
    now: () => ms++,
    run() {
      pending.shift()!();
    },
  };
}

function recorder(): { asked: string[]; questions: number; answerNow(msg: Buffer): undefined } {
  const asked: string[] = [];
  return {
    asked,
    questions: 0,
    answerNow(msg) {
      this.questions++;
      const q = dnsPacket.decode(msg);
      assert.equal((q.additionals?.[0] as { udpPayloadSize?: number } | undefined)?.udpPayloadSize, 4096);
      asked.push(`${q.questions![0].name} ${q.questions![0].type}`);
      return undefined;
    },
  };
}

test('each service\'s A and SRV question is asked once, a few per slice, names no question carries skipped', async () => {
  const timers = manualTimers();
  const target = recorder();
  const w = warmPrepared(target, ['web', 'db-1', 'under_score', 'connect:web', 'x'.repeat(64), 'api'], 'consul.', timers);
  assert.deepEqual(target.asked, [], 'nothing before the first timer turn');
  assert.deepEqual(timers.delays, [START_DELAY_MS]);
  let slices = 0;
  while (timers.pending.length > 0) timers.run(), slices++;
  assert.equal(await w.done, 6);
  assert.deepEqual(target.asked, [
    'web.service.consul A', 'web.service.consul SRV', 'db-1.service.consul A', 'db-1.service.consul SRV',
    'api.service.consul A', 'api.service.consul SRV',
  ]);
  // The clock moves 1 ms per reading, so a slice of SLICE_MS answers at most SLICE_MS questions.
  assert.ok(slices >= 6 / SLICE_MS, `${slices} slices`);
});

test('stop() ends it between slices: nothing more is asked or scheduled', async () => {
  const timers = manualTimers();
  const target = recorder();
  const w = warmPrepared(target, ['a', 'b', 'c', 'd'], 'consul', timers);
  timers.run();
  const asked = target.asked.length;
  assert.ok(asked > 0 && asked < 8);
  w.stop();
  assert.equal(timers.pending.length, 0, 'the next slice is cancelled');
  assert.equal(await w.done, asked);
});

test('after the warm-up a question is answered from the entry it built, not built again', async () => {
  const builds: string[] = [];
  const instance = (i: number): DnsInstance => ({
    node: { Node: `n${i}`, Address: `10.0.0.${i}` } as DnsInstance['node'],
    service: { ID: `web-${i}`, Service: 'web', Port: 80, Tags: [] } as unknown as DnsInstance['service'],
    status: 'passing', allPassing: true,
  });
  const view = {
    instances: (name: string) => (builds.push(name), name === 'web' ? [instance(1), instance(2)] : []),
    hasService: (name: string) => name === 'web',
    serviceKey: (name: string) => (name === 'web' ? 'web' : undefined),
    version: (key: string) => (key === 'web' ? 7 : 0),
    node: () => undefined, nodeByAddress: () => undefined, serviceByAddress: () => undefined,
    stamp: () => 1,
  } as DnsReader;
  const handler = new DnsHandler({ cfg: dnsConfigFrom(devConfig()), view, logger: silentLogger() });
  const timers = manualTimers();
  const w = warmPrepared(handler, ['web'], 'consul.', timers);
  while (timers.pending.length > 0) timers.run();
  assert.equal(await w.done, 2);
  assert.equal(builds.length, 2, 'one build per question type');
  for (const type of ['A', 'SRV'] as const) {
    const reply = handler.answerNow(dnsPacket.encode({ type: 'query', id: 9, questions: [{ type, name: 'web.service.consul' }] }), 'udp');
    assert.equal(dnsPacket.decode(reply!).answers!.length, 2, type);
  }
  assert.equal(builds.length, 2, 'the questions were answered from the warmed entries');
});

test('while real questions pour in the warm-up pauses, and goes on once they stop', async () => {
  const timers = manualTimers();
  const target = recorder();
  const w = warmPrepared(target, ['a', 'b', 'c', 'd', 'e', 'f'], 'consul', timers);
  timers.run();
  const first = target.asked.length;
  assert.ok(first > 0);
  // Traffic: more than BUSY questions between two slices.
  target.questions += BUSY + 1;
  timers.run();
  assert.equal(target.asked.length, first, 'nothing asked while busy');
  assert.equal(timers.delays.at(-1), BUSY_PAUSE_MS);
  target.questions += BUSY + 1;
  timers.run();
  assert.equal(target.asked.length, first, 'still busy');
  // A few questions (BUSY or fewer) do not pause it.
  target.questions += BUSY;
  while (timers.pending.length > 0) timers.run();
  assert.equal(await w.done, 12);
  assert.equal(target.asked.length, 12);
});

test('warmedServices: services in catalog order until MAX_WARMED_INSTANCES instances; a small catalog none', () => {
  const catalog = (sizes: number[]) => new Map(sizes.map((n, i) => [`s${i}`, { size: n }] as const));
  assert.deepEqual(warmedServices(catalog(Array<number>(MIN_WARMED - 1).fill(1))), [], 'fewer than MIN_WARMED services');
  const even = warmedServices(catalog(Array<number>(MAX_WARMED + 5).fill(10)));
  assert.equal(even.length, MAX_WARMED, '10 instances each: the MAX_WARMED first');
  assert.deepEqual(even.slice(0, 2), ['s0', 's1']);
  // 200 instances each: 2,000 such services took 7.6–11 s of CPU to warm.
  const big = warmedServices(catalog(Array<number>(MAX_WARMED).fill(200)));
  assert.equal(big.length, MAX_WARMED_INSTANCES / 200);
  // One service past the budget is passed over; smaller ones after it still fit.
  const mixed = warmedServices(catalog([MAX_WARMED_INSTANCES + 1, ...Array<number>(MIN_WARMED).fill(1)]));
  assert.deepEqual([mixed.length, mixed[0]], [MIN_WARMED, 's1']);
});

test('questions during the start delay mean no slice at all until they stop', async () => {
  const timers = manualTimers();
  const target = recorder();
  const w = warmPrepared(target, ['a', 'b'], 'consul', timers);
  target.questions += BUSY + 1;
  timers.run();
  assert.deepEqual(target.asked, []);
  assert.equal(timers.delays.at(-1), BUSY_PAUSE_MS);
  while (timers.pending.length > 0) timers.run();
  assert.equal(await w.done, 4);
});
