import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { ManualClock } from '../clock.ts';
import { createLogger, silentLogger } from '../log.ts';
import { StatsiteSink } from './statsite.ts';

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(cond());
}

/** A TCP collector on a fixed or ephemeral loopback port. */
async function collector(port = 0): Promise<{ port: number; text: () => string; conns: net.Socket[]; close: () => Promise<void> }> {
  const conns: net.Socket[] = [];
  let text = '';
  const server = net.createServer((s) => {
    conns.push(s);
    s.on('data', (d) => { text += d.toString(); });
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port, text: () => text, conns,
    close: () => {
      for (const s of conns) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

test('statsite: statsd lines over TCP, written at the 100 ms flush', async () => {
  const c = await collector();
  const clock = new ManualClock();
  const sink = new StatsiteSink(`127.0.0.1:${c.port}`, clock, silentLogger());
  try {
    await until(() => c.conns.length === 1);
    sink.setGauge(['consul', 'h', 'runtime', 'alloc_bytes'], 10, []);
    sink.addSample(['consul', 'api', 'http'], 2.5, [{ name: 'method', value: 'GET' }, { name: 'path', value: 'v1_kv_' }]);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(c.text(), '', 'buffered until the flush');
    clock.advance(100);
    await until(() => c.text().length > 0);
    assert.equal(c.text(), 'consul.h.runtime.alloc_bytes:10.000000|g\nconsul.api.http.GET.v1_kv_:2.500000|ms\n');
  } finally {
    sink.close();
    await c.close();
  }
});

test('statsite: a lost connection is retried after 5 s, discarding metrics meanwhile', async () => {
  const first = await collector();
  const port = first.port;
  const clock = new ManualClock();
  const logged: string[] = [];
  const sink = new StatsiteSink(`127.0.0.1:${port}`, clock, createLogger({ level: 'error', json: true, write: (l: string) => logged.push(l) }));
  try {
    await until(() => first.conns.length === 1);
    // The collector goes away: the sink sees the close and must not throw on later metrics.
    await first.close();
    await until(() => logged.some((l) => l.includes('Error connecting to statsite')));
    sink.incrCounter(['consul', 'lost'], 1, []);
    clock.advance(100);
    clock.advance(4_000);
    const second = await collector(port);
    try {
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(second.conns.length, 0, 'no reconnect before 5 s');
      clock.advance(1_000);
      await until(() => second.conns.length === 1);
      sink.incrCounter(['consul', 'back'], 1, []);
      clock.advance(100);
      await until(() => second.text().length > 0);
      assert.equal(second.text(), 'consul.back:1.000000|c\n');
    } finally {
      sink.close();
      await second.close();
    }
  } finally {
    sink.close();
  }
});
