import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { ManualClock } from '../clock.ts';
import { silentLogger } from '../log.ts';
import { goFixed6, goShortest, NameCache } from './sink.ts';
import { flattenKeyLabels, PacketBuffer, splitAddr, STATSD_MAX_PACKET, StatsdSink, statsdLine } from './statsd.ts';

test('statsd lines: dotted name, label values appended, Go %f of a float32, type suffix', () => {
  assert.equal(statsdLine('g', ['consul', 'host1', 'runtime', 'alloc_bytes'], 123456, []), 'consul.host1.runtime.alloc_bytes:123456.000000|g\n');
  assert.equal(statsdLine('c', ['consul', 'rpc', 'rate_limit', 'exceeded'], 1, [{ name: 'op', value: 'KVS.Apply' }]),
    'consul.rpc.rate_limit.exceeded.KVS.Apply:1.000000|c\n');
  assert.equal(statsdLine('ms', ['consul', 'api', 'http'], 1.5, [{ name: 'method', value: 'GET' }, { name: 'path', value: 'v1_kv_' }]),
    'consul.api.http.GET.v1_kv_:1.500000|ms\n');
  // ':' and ' ' would break the line format.
  assert.equal(statsdLine('c', ['a b', 'c:d'], 2, []), 'a_b.c_d:2.000000|c\n');
});

test('Go number formats: float32 rounding, no exponents', () => {
  assert.equal(goFixed6(0.1), '0.100000');
  assert.equal(goFixed6(16777217), '16777216.000000');
  assert.equal(goFixed6(1e30), `${BigInt(Math.fround(1e30))}.000000`);
  assert.equal(goShortest(Math.fround(0.1)), '0.10000000149011612');
  assert.equal(goShortest(1e21), '1000000000000000000000');
  assert.equal(goShortest(1.5e-7), '0.00000015');
  assert.equal(goShortest(42), '42');
});

test('packets: lines batched up to the limit, a line that would overflow sends the packet first', () => {
  const b = new PacketBuffer({ max: 20 });
  assert.equal(b.add('aaaaaaaaa\n'), undefined);
  assert.equal(b.add('bbbbbbbbb\n'), undefined);
  assert.equal(b.size, 20);
  assert.equal(b.add('c\n')?.toString(), 'aaaaaaaaa\nbbbbbbbbb\n');
  assert.equal(b.take().toString(), 'c\n');
  assert.equal(b.take().length, 0);
  // go-metrics sends an oversize line alone; datadog-go drops it.
  assert.equal(new PacketBuffer({ max: 4 }).add('toolong\n'), undefined);
  const dd = new PacketBuffer({ max: 4, dropOversize: true });
  assert.equal(dd.add('toolong\n'), undefined);
  assert.equal(dd.size, 0);
});

test('addresses: host:port, bracketed IPv6, a missing port refused', () => {
  assert.deepEqual(splitAddr('127.0.0.1:8125'), { host: '127.0.0.1', port: 8125 });
  assert.deepEqual(splitAddr('[::1]:8125'), { host: '::1', port: 8125 });
  assert.throws(() => splitAddr('127.0.0.1'), /missing port/);
});

/** Resolves once `cond` holds (UDP delivery is asynchronous even on loopback). */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(cond());
}

test('statsd sink: full packets of whole lines go out at once, the rest at the 100 ms flush', async () => {
  const server = dgram.createSocket('udp4');
  server.bind(0, '127.0.0.1');
  await once(server, 'listening');
  const got: Buffer[] = [];
  server.on('message', (m) => got.push(m));
  const clock = new ManualClock();
  const sink = new StatsdSink(`127.0.0.1:${server.address().port}`, clock, silentLogger());
  try {
    // 100 lines of 34 bytes: 41 fit in a 1400-byte packet, so two packets fill before any flush.
    for (let i = 0; i < 100; i++) sink.incrCounter(['consul', 'test', `counter${String(i).padStart(3, '0')}`], 1, []);
    await until(() => got.length === 2);
    assert.deepEqual(got.map((p) => p.length), [41 * 34, 41 * 34]);
    clock.advance(99);
    clock.advance(1);
    await until(() => got.length === 3);
    assert.equal(got[2].length, 18 * 34);
    const text = got.map((p) => p.toString()).join('');
    assert.equal(text.split('\n').filter(Boolean).length, 100);
    assert.ok(got.every((p) => p.length <= STATSD_MAX_PACKET && p.toString().endsWith('\n')));
    assert.match(text, /^consul\.test\.counter000:1\.000000\|c$/m);
    assert.match(text, /^consul\.test\.counter099:1\.000000\|c$/m);
  } finally {
    sink.close();
    server.close();
  }
});

test('statsd sink: a collector that is down costs nothing and throws nothing', () => {
  const clock = new ManualClock();
  // Port 9 (discard) on loopback: nothing listens, sends fail or vanish.
  const sink = new StatsdSink('127.0.0.1:9', clock, silentLogger());
  for (let i = 0; i < 10_000; i++) sink.addSample(['consul', 'x'], i, []);
  clock.advance(100);
  sink.close();
});

test('name cache: one name per key and label values, built once', () => {
  let built = 0;
  const names = new NameCache((key, labels) => { built += 1; return flattenKeyLabels(key, labels); });
  const key = ['consul', 'api', 'http'];
  const get = (m: string, p: string) => names.get(key, [{ name: 'method', value: m }, { name: 'path', value: p }]);
  assert.equal(get('GET', 'v1_kv_'), 'consul.api.http.GET.v1_kv_');
  assert.equal(get('PUT', 'v1_kv_'), 'consul.api.http.PUT.v1_kv_');
  assert.equal(get('GET', 'v1_kv_'), 'consul.api.http.GET.v1_kv_');
  assert.equal(names.get(key, []), 'consul.api.http');
  assert.equal(built, 3);
});

test('statsd sink: a hostname resolves once per connection, not per packet, and an IPv6 answer gets a udp6 socket', async () => {
  const server = dgram.createSocket('udp6');
  server.bind(0, '::1');
  await once(server, 'listening');
  const got: string[] = [];
  server.on('message', (m) => got.push(m.toString()));
  const clock = new ManualClock();
  const asked: string[] = [];
  // 'collector' resolves only through the sink's lookup, and only to ::1.
  const lookup = async (host: string) => { asked.push(host); return { address: '::1', family: 6 }; };
  const sink = new StatsdSink(`collector:${server.address().port}`, clock, silentLogger(), lookup);
  try {
    for (let round = 0; round < 3; round++) {
      sink.incrCounter(['consul', 'test', 'n'], round, []);
      clock.advance(100);
      await until(() => got.length === round + 1);
    }
    assert.deepEqual(got, ['consul.test.n:0.000000|c\n', 'consul.test.n:1.000000|c\n', 'consul.test.n:2.000000|c\n']);
    assert.deepEqual(asked, ['collector']);
  } finally {
    sink.close();
    server.close();
  }
});

test('statsd sink: a collector that goes away and comes back gets lines again after the 5 s wait, resolved afresh', async () => {
  const first = dgram.createSocket('udp4');
  first.bind(0, '127.0.0.1');
  await once(first, 'listening');
  const port = first.address().port;
  const got: string[] = [];
  first.on('message', (m) => got.push(m.toString()));
  const clock = new ManualClock();
  let lookups = 0;
  const lookup = async () => { lookups += 1; return { address: '127.0.0.1', family: 4 }; };
  const sink = new StatsdSink(`collector:${port}`, clock, silentLogger(), lookup);
  try {
    sink.incrCounter(['consul', 'a'], 1, []);
    clock.advance(100);
    await until(() => got.length === 1);
    first.close();
    // The connected socket hears the port unreachable and the sink stops for 5 s.
    for (let i = 0; i < 10; i++) {
      sink.incrCounter(['consul', 'lost'], 1, []);
      clock.advance(100);
      await new Promise((r) => setTimeout(r, 10));
    }
    const again = dgram.createSocket('udp4');
    again.bind(port, '127.0.0.1');
    await once(again, 'listening');
    again.on('message', (m) => got.push(m.toString()));
    clock.advance(5_000);
    for (let i = 0; i < 50 && !got.includes('consul.b:1.000000|c\n'); i++) {
      sink.incrCounter(['consul', 'b'], 1, []);
      clock.advance(100);
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(got.includes('consul.b:1.000000|c\n'));
    assert.equal(lookups, 2);
    again.close();
  } finally {
    sink.close();
  }
});
