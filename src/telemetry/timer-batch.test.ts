// Batched timers (dns.domain_query): samples are held without touching the summary, reach it
// before every read in the window slot of the time each was taken, and go to the push sinks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { ManualClock } from '../clock.ts';
import { Telemetry } from './metrics.ts';
import { TIMER_BATCH_SIZE, TimerBatch } from './timer-batch.ts';

const sample = async (t: Telemetry, name: string) => ((await t.consulJSON()).Samples as { Name: string; Count: number; Sum: number; Max: number; Labels: unknown }[])
  .find((s) => s.Name === name);

test('a batch is handed to its sink when full and when flushed, never empty', () => {
  const got: number[][] = [];
  const b = new TimerBatch((ms, at, n) => got.push([...ms.subarray(0, n)], [...at.subarray(0, n)]));
  b.flush();
  assert.equal(got.length, 0);
  for (let i = 0; i < TIMER_BATCH_SIZE; i++) b.add(i, 1000 + i);
  assert.equal(got.length, 2);
  assert.equal(got[0].length, TIMER_BATCH_SIZE);
  assert.equal(got[1][5], 1005);
  b.add(7, 9);
  b.flush();
  assert.deepEqual(got.slice(2), [[7], [9]]);
});

test('batched timer: JSON and Prometheus see every sample recorded before the read, with its label', async () => {
  const t = new Telemetry(new ManualClock());
  const timer = t.batchedTimer('dns.domain_query', 'h', 'node', 'n1');
  const now = performance.now();
  timer.add(2, now);
  timer.add(4, now);
  const s = await sample(t, 'consul.dns.domain_query');
  assert.deepEqual({ Count: s?.Count, Sum: s?.Sum, Max: s?.Max, Labels: s?.Labels }, { Count: 2, Sum: 6, Max: 4, Labels: { node: 'n1' } });
  timer.add(6, performance.now());
  assert.match(await t.prometheus(), /consul_dns_domain_query_count\{node="n1"\} 3/);
});

test('batched timer: a sample taken longer ago than the window counts in Count and Sum but not in the quantiles', async () => {
  const t = new Telemetry(new ManualClock(1_000_000_000));
  const timer = t.batchedTimer('dns.domain_query', 'h', 'node', 'n1');
  timer.add(500, performance.now() - 120_000);
  timer.add(1, performance.now());
  const s = await sample(t, 'consul.dns.domain_query');
  assert.deepEqual({ Count: s?.Count, Sum: s?.Sum, Max: s?.Max }, { Count: 2, Sum: 501, Max: 1 });
});

test('batched timer: samples go to the push sinks, labelled, at the latest on the next gauge tick', () => {
  const clock = new ManualClock();
  const t = new Telemetry(clock);
  const timer = t.batchedTimer('dns.ptr_query', 'h', 'node', 'n1');
  const pushed: unknown[] = [];
  t.attachPush({ addSample: (key: string[], v: number, labels?: unknown) => pushed.push([key.join('.'), v, labels]), setGauge() {}, incrCounter() {}, close() {}, updateFilter() {} } as never);
  timer.add(3, performance.now());
  assert.deepEqual(pushed, []);
  clock.advance(1_000);
  assert.deepEqual(pushed, [['dns.ptr_query', 3, [{ name: 'node', value: 'n1' }]]]);
  t.closePush();
});
