// Tests for the agent's metric set: metrics defined or counted before the first scrape (which
// builds the prom-client registry) and after it both appear, in both renderings.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Telemetry } from './metrics.ts';

const clock = { now: () => Date.UTC(2025, 0, 15, 12, 0, 0), setTimer: () => ({ cancel() {} }) } as never;

describe('Telemetry', () => {
  it('keeps counts and gauges defined before the first scrape', async () => {
    const t = new Telemetry(clock);
    const inc = t.counter('test.count', 'a counter');
    inc();
    inc(2);
    t.gauge('test.level', 'a gauge', () => 7);
    t.observe('GET', 'v1.kv', 0.002);
    const text = await t.prometheus();
    assert.match(text, /^consul_test_count 3$/m);
    assert.match(text, /^consul_test_level 7$/m);
    assert.match(text, /^consul_api_http_count\{method="GET",path="v1.kv"\} 1$/m);
    const json = await t.consulJSON() as { Gauges: { Name: string; Value: number }[]; Counters: { Name: string; Count: number }[] };
    assert.deepEqual(json.Counters.map((c) => [c.Name, c.Count]), [['consul.test.count', 3]]);
    assert.ok(json.Gauges.some((g) => g.Name === 'consul.test.level' && g.Value === 7));
  });

  it("reports Consul's runtime.num_goroutines as the event loop's active resources", async () => {
    const t = new Telemetry(clock);
    const timer = setInterval(() => {}, 60_000);
    try {
      const value = Number(/^consul_runtime_num_goroutines (\d+)$/m.exec(await t.prometheus())?.[1]);
      assert.ok(value >= 1, `counts at least the pending timer, got ${value}`);
    } finally {
      clearInterval(timer);
    }
  });

  it('registers metrics defined after the registry exists, and counts on after a scrape', async () => {
    const t = new Telemetry(clock);
    const inc = t.counter('test.count', 'a counter');
    await t.prometheus();
    t.gauge('test.late', 'defined after the first scrape', () => 5);
    inc(4);
    const text = await t.prometheus();
    assert.match(text, /^consul_test_late 5$/m);
    assert.match(text, /^consul_test_count 4$/m);
    assert.throws(() => inc(-1), /not possible to decrease/);
  });
});

describe('Telemetry naming and prefix_filter', () => {
  it('puts the hostname in gauge names only, sanitized for Prometheus', async () => {
    const t = new Telemetry(clock, { prefix: 'pc', gaugeHostname: 'web-1.example' });
    t.gauge('state.level', 'a gauge', () => 3);
    t.counter('test.count', 'a counter')();
    const json = await t.consulJSON() as { Gauges: { Name: string }[]; Counters: { Name: string }[] };
    assert.ok(json.Gauges.some((g) => g.Name === 'pc.web-1.example.state.level'));
    assert.deepEqual(json.Counters.map((c) => c.Name), ['pc.test.count']);
    assert.match(await t.prometheus(), /^pc_web_1_example_state_level 3$/m);
  });

  it('keeps only what the filter allows in both renderings, and a new rule set replaces the old', async () => {
    const t = new Telemetry(clock, { filter: { allowed: ['consul.kvs'], blocked: [], filterDefault: false } });
    t.timer('kvs.apply', 'KV writes')(2);
    t.observe('GET', 'v1_kv_', 0.001);
    let json = await t.consulJSON() as { Gauges: unknown[]; Samples: { Name: string; Count: number; Sum: number }[] };
    assert.deepEqual(json.Samples.map((s) => [s.Name, s.Count, s.Sum]), [['consul.kvs.apply', 1, 2]]);
    assert.deepEqual(json.Gauges, []);
    let text = await t.prometheus();
    assert.match(text, /^consul_kvs_apply_count 1$/m);
    assert.doesNotMatch(text, /consul_api_http|consul_runtime/);
    t.updateFilter(['consul.api'], []);
    json = await t.consulJSON() as typeof json;
    assert.deepEqual(json.Samples.map((s) => s.Name), ['consul.api.http']);
    text = await t.prometheus();
    assert.match(text, /^consul_api_http_count\{method="GET",path="v1_kv_"\} 1$/m);
    assert.doesNotMatch(text, /consul_kvs_apply/);
  });
});

describe('Telemetry push', () => {
  it('pushes every gauge each second, skipping one that throws, and stops when closed', async () => {
    const { ManualClock } = await import('../clock.ts');
    const { PushMetrics, sinkSettings } = await import('./sinks.ts');
    const manual = new ManualClock();
    const seen: string[] = [];
    const sink = {
      setGauge: (k: readonly string[], v: number) => seen.push(`${k.join('.')}=${v}`),
      incrCounter: (k: readonly string[], v: number) => seen.push(`${k.join('.')}+${v}`),
      addSample: (k: readonly string[], v: number) => seen.push(`${k.join('.')}~${v}`),
      close() {},
    };
    const t = new Telemetry(manual);
    t.gauge('test.bad', 'throws', () => { throw new Error('no'); });
    t.gauge('test.level', 'a gauge', () => 4);
    t.attachPush(new PushMetrics(sinkSettings({ disable_hostname: true }), [sink], 'h'));
    t.counter('test.count', 'a counter')(2);
    t.timer('kvs.apply', 'KV writes')(1.5);
    manual.advance(1_000);
    manual.advance(1_000);
    assert.deepEqual(seen.filter((x) => x.startsWith('consul.test') || x.startsWith('consul.kvs')),
      ['consul.test.count+2', 'consul.kvs.apply~1.5', 'consul.test.level=4', 'consul.test.level=4']);
    t.closePush();
    manual.advance(5_000);
    assert.equal(seen.filter((x) => x === 'consul.test.level=4').length, 2);
  });
});

describe('Telemetry timers', () => {
  it("carry milliseconds in Prometheus too, as go-metrics' sinks get them, with Consul's help texts", async () => {
    const t = new Telemetry(clock);
    t.observe('PUT', 'v1_kv_', 0.002);
    t.timer('kvs.apply', 'Measures the time it takes to complete an update to the KV store.')(3);
    const text = await t.prometheus();
    assert.match(text, /^# HELP consul_api_http Samples how long it takes to service the given HTTP request for the given verb and path\.$/m);
    assert.match(text, /^consul_api_http_sum\{method="PUT",path="v1_kv_"\} 2$/m);
    assert.match(text, /^consul_api_http\{quantile="0\.5",method="PUT",path="v1_kv_"\} 2$/m);
    assert.match(text, /^consul_kvs_apply_sum 3$/m);
    const json = await t.consulJSON() as { Samples: { Name: string; Sum: number; Max: number; Rate: number }[] };
    assert.deepEqual(json.Samples.map((s) => [s.Name, s.Sum, s.Max, s.Rate]), [['consul.api.http', 2, 2, 0.2], ['consul.kvs.apply', 3, 3, 0.3]]);
  });
});
