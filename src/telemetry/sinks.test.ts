import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Label, MetricSink } from './sink.ts';
import { ManualClock } from '../clock.ts';
import { createLogger } from '../log.ts';
import { createPushMetrics, parsePrefixFilter, PrefixFilter, PushMetrics, sinkSettings } from './sinks.ts';

/** A sink that records what reaches it. */
function recorder(): MetricSink & { seen: string[] } {
  const seen: string[] = [];
  const rec = (kind: string) => (key: readonly string[], v: number, labels: readonly Label[]) => {
    seen.push(`${kind} ${key.join('.')} ${v}${labels.length ? ` ${labels.map((l) => `${l.name}=${l.value}`).join(',')}` : ''}`);
  };
  return { seen, setGauge: rec('g'), incrCounter: rec('c'), addSample: rec('ms'), close() {} };
}

test('prefix_filter: + allows, - blocks, anything else warned about and skipped', () => {
  assert.deepEqual(parsePrefixFilter(['+consul.raft', '-consul.http', '', 'consul.x']), {
    allowed: ['consul.raft'], blocked: ['consul.http'],
    warnings: ['Cannot have empty filter rule in prefix_filter', `Filter rule must begin with either '+' or '-': "consul.x"`],
  });
});

test('filter: the longest matching prefix decides, byte-wise; unmatched names take filter_default', () => {
  const f = new PrefixFilter(['consul.http.GET'], ['consul.http'], false);
  assert.equal(f.allows('consul.http.GET.v1_kv'), true);
  assert.equal(f.allows('consul.http.PUT.v1_kv'), false);
  assert.equal(f.allows('consul.runtime.alloc_bytes'), false);
  assert.equal(new PrefixFilter([], ['consul.http'], true).allows('consul.https'), false);
  assert.equal(new PrefixFilter([], [], true).allows('anything'), true);
});

test('push: prefix before every key, hostname only on gauges, disable_hostname drops it', () => {
  const sink = recorder();
  const push = new PushMetrics(sinkSettings({}), [sink], 'host1');
  push.setGauge(['runtime', 'alloc_bytes'], 5);
  push.incrCounter(['rpc', 'rate_limit', 'exceeded'], 1, [{ name: 'op', value: 'KVS.Apply' }]);
  push.addSample(['kvs', 'apply'], 2);
  assert.deepEqual(sink.seen, ['g consul.host1.runtime.alloc_bytes 5', 'c consul.rpc.rate_limit.exceeded 1 op=KVS.Apply', 'ms consul.kvs.apply 2']);
  const plain = recorder();
  new PushMetrics(sinkSettings({ disable_hostname: true, metrics_prefix: 'pc' }), [plain], 'host1').setGauge(['runtime', 'alloc_bytes'], 5);
  assert.deepEqual(plain.seen, ['g pc.runtime.alloc_bytes 5']);
});

test('push: the filter sees the full name (hostname included) and a reload replaces its rules but not filter_default', () => {
  const sink = recorder();
  const push = new PushMetrics(sinkSettings({ prefix_filter: ['+consul.kvs'], filter_default: false }), [sink], 'h');
  push.addSample(['kvs', 'apply'], 1);
  push.addSample(['api', 'http'], 1);
  push.setGauge(['kvs', 'x'], 1);
  assert.deepEqual(sink.seen, ['ms consul.kvs.apply 1']);
  push.updateFilter(['consul.api'], []);
  push.addSample(['kvs', 'apply'], 1);
  push.addSample(['api', 'http'], 3);
  assert.deepEqual(sink.seen, ['ms consul.kvs.apply 1', 'ms consul.api.http 3']);
});

test('settings: Consul defaults, deprecated consul.consul names blocked', () => {
  const s = sinkSettings({ statsd_address: '127.0.0.1:8125', dogstatsd_tags: ['a:b'] });
  assert.equal(s.prefix, 'consul');
  assert.equal(s.filterDefault, true);
  assert.equal(s.disableHostname, false);
  assert.deepEqual(s.blocked, ['consul.consul']);
  assert.equal(s.statsdAddress, '127.0.0.1:8125');
  assert.deepEqual(s.dogstatsdTags, ['a:b']);
});

test('addresses without a port: statsd and statsite start and send nothing, dogstatsd refuses (as go-metrics and datadog-go do)', () => {
  const clock = new ManualClock();
  const logged: string[] = [];
  const log = createLogger({ level: 'error', json: true, write: (l: string) => logged.push(l) });
  const push = createPushMetrics(sinkSettings({ statsd_address: 'nohost', statsite_address: 'nohost' }), clock, log, 'h');
  assert.ok(push);
  push.incrCounter(['x'], 1);
  clock.advance(100);
  push.close();
  assert.equal(logged.filter((l) => l.includes('missing port in address')).length, 2);
  assert.throws(() => createPushMetrics(sinkSettings({ dogstatsd_addr: 'nohost' }), clock, log, 'h'), /address nohost: missing port in address/);
});

test('push: names are cached per key, yet a reloaded prefix_filter applies to keys already sent', () => {
  const sink = recorder();
  const push = new PushMetrics(sinkSettings({}), [sink], 'host1');
  const key = ['api', 'http'];
  push.addSample(key, 1, [{ name: 'method', value: 'GET' }]);
  push.updateFilter([], ['consul.api']);
  push.addSample(key, 2, [{ name: 'method', value: 'GET' }]);
  push.updateFilter(['consul.api.http'], ['consul.api']);
  push.addSample(key, 3, [{ name: 'method', value: 'PUT' }]);
  assert.deepEqual(sink.seen, ['ms consul.api.http 1 method=GET', 'ms consul.api.http 3 method=PUT']);
});
