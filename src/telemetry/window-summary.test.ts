import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry, type Metric } from 'prom-client';
import { ManualClock } from '../clock.ts';
import { WindowSummary } from './window-summary.ts';
import { Telemetry } from './metrics.ts';

function summary(clock: ManualClock, reservoir?: number) {
  return new WindowSummary({
    name: 'x_http', help: 'h', labelNames: ['method', 'path'], percentiles: [0.5, 0.9, 0.99],
    maxAgeSeconds: 60, ageBuckets: 6, clock, reservoir, random: () => 0.5,
  });
}

const quantiles = async (s: WindowSummary) => (await s.get()).values.filter((v) => v.metricName === undefined).map((v) => v.value);

test('window summary: quantiles, sum and count per label set, in prom-client order', async () => {
  const s = summary(new ManualClock());
  for (let i = 1; i <= 100; i++) s.observe('GET', 'v1_kv_', i);
  s.observe('PUT', 'v1_kv_', 7);
  const { values, type, name } = await s.get();
  assert.equal(type, 'summary');
  assert.equal(name, 'x_http');
  assert.deepEqual(values.slice(0, 5), [
    { labels: { quantile: 0.5, method: 'GET', path: 'v1_kv_' }, value: 50 },
    { labels: { quantile: 0.9, method: 'GET', path: 'v1_kv_' }, value: 90 },
    { labels: { quantile: 0.99, method: 'GET', path: 'v1_kv_' }, value: 99 },
    { metricName: 'x_http_sum', labels: { method: 'GET', path: 'v1_kv_' }, value: 5050 },
    { metricName: 'x_http_count', labels: { method: 'GET', path: 'v1_kv_' }, value: 100 },
  ]);
  assert.deepEqual(values.slice(5).map((v) => v.value), [7, 7, 7, 7, 1]);
});

test('window summary: quantiles forget observations older than the window; count and sum do not', async () => {
  const clock = new ManualClock();
  const s = summary(clock);
  for (let i = 0; i < 10; i++) s.observe('GET', 'p', 1000);
  clock.advance(30_000);
  for (let i = 0; i < 10; i++) s.observe('GET', 'p', 1);
  assert.deepEqual(await quantiles(s), [1, 1000, 1000]);
  clock.advance(45_000);
  assert.deepEqual(await quantiles(s), [1, 1, 1]);
  clock.advance(60_000);
  assert.deepEqual(await quantiles(s), [0, 0, 0]);
  const { values } = await s.get();
  assert.deepEqual(values.slice(3).map((v) => v.value), [10_010, 20]);
});

test('window summary: a full reservoir samples and weights its bucket by what it saw', async () => {
  const clock = new ManualClock();
  const s = summary(clock, 4);
  // Bucket 1: 4 kept of 400 seen (value 10); bucket 2: 4 kept of 40 seen (value 20): 20 is the top 9 %.
  for (let i = 0; i < 400; i++) s.observe('GET', 'p', 10);
  clock.advance(10_000);
  for (let i = 0; i < 40; i++) s.observe('GET', 'p', 20);
  assert.deepEqual(await quantiles(s), [10, 10, 20]);
});

test('telemetry: the HTTP summary in Prometheus text and Consul JSON', async () => {
  const t = new Telemetry(new ManualClock());
  t.observe('PUT', 'v1_kv_', 0.002);
  t.observe('PUT', 'v1_kv_', 0.004);
  const prom = await t.prometheus();
  assert.match(prom, /^# TYPE consul_api_http summary$/m);
  assert.match(prom, /^consul_api_http\{quantile="0\.5",method="PUT",path="v1_kv_"\} 2$/m);
  assert.match(prom, /^consul_api_http_sum\{method="PUT",path="v1_kv_"\} 6$/m);
  assert.match(prom, /^consul_api_http_count\{method="PUT",path="v1_kv_"\} 2$/m);
  const json = (await t.consulJSON()) as { Samples: Record<string, unknown>[] };
  assert.deepEqual(json.Samples, [{
    Name: 'consul.api.http', Count: 2, Sum: 6, Min: 2, Max: 4, Mean: 3, Rate: 0.6, Stddev: 0,
    Labels: { method: 'PUT', path: 'v1_kv_' },
  }]);
  assert.equal(new Registry().registerMetric(new WindowSummary({
    name: 'y', help: 'h', labelNames: ['a', 'b'], percentiles: [0.5], maxAgeSeconds: 60, ageBuckets: 6, clock: new ManualClock(),
  }) as unknown as Metric), undefined);
});
