// The statsd, statsite and dogstatsd sinks of a real agent, pointed at UDP and TCP listeners on
// loopback (and Circonus' HTTP trap): what arrives, in which format, and how disable_hostname, prefix_filter and a reload
// of prefix_filter change it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { once } from 'node:events';
import { createClientAgent } from '../src/index.ts';
import { silentLogger } from '../src/log.ts';
import { devConfig, startDevAgent } from './support/agent.ts';

/** Lines received by a collector, in arrival order, and the packets they came in. */
interface Collector {
  addr: string;
  lines: string[];
  packets: Buffer[];
  close(): void;
}

async function udpCollector(): Promise<Collector> {
  const socket = dgram.createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const c: Collector = { addr: `127.0.0.1:${socket.address().port}`, lines: [], packets: [], close: () => socket.close() };
  socket.on('message', (m) => {
    c.packets.push(m);
    c.lines.push(...m.toString().split('\n').filter(Boolean));
  });
  return c;
}

async function tcpCollector(): Promise<Collector & { connections: () => number }> {
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const c = { addr: '', lines: [] as string[], packets: [] as Buffer[], close: () => {}, connections: () => connections };
  const server = net.createServer((sock) => {
    connections++;
    sockets.add(sock);
    let rest = '';
    sock.on('data', (d) => {
      c.packets.push(d);
      const parts = (rest + d.toString()).split('\n');
      rest = parts.pop() ?? '';
      c.lines.push(...parts);
    });
    sock.on('close', () => sockets.delete(sock));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  c.addr = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  c.close = () => {
    for (const s of sockets) s.destroy();
    server.close();
  };
  return c;
}

async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), `timed out waiting for ${what}`);
}

const has = (c: Collector, re: RegExp) => () => c.lines.some((l) => re.test(l));
const host = os.hostname().replace(/[: ]/g, '_').replaceAll('.', '\\.');

test('statsd, statsite and dogstatsd receive runtime gauges, HTTP and KV timers in their formats', async () => {
  const statsd = await udpCollector();
  const dog = await udpCollector();
  const site = await tcpCollector();
  const dev = await startDevAgent({
    config: { raw: { telemetry: { statsd_address: statsd.addr, statsite_address: site.addr, dogstatsd_addr: dog.addr, dogstatsd_tags: ['env:test', 'team:core'] } } },
  });
  try {
    assert.equal((await fetch(`http://${dev.httpAddr}/v1/kv/metric-key`, { method: 'PUT', body: 'v' })).status, 200);
    await (await fetch(`http://${dev.httpAddr}/v1/agent/self`)).text();
    for (const c of [statsd, site]) {
      // Gauges carry the hostname after the prefix; label values extend the name; Go's %f values.
      await until('the alloc_bytes gauge', has(c, new RegExp(`^consul\\.${host}\\.runtime\\.alloc_bytes:\\d+\\.\\d{6}\\|g$`)));
      await until('the HTTP PUT timer', has(c, /^consul\.api\.http\.PUT\.v1_kv_:\d+\.\d{6}\|ms$/));
      await until('the HTTP GET timer', has(c, /^consul\.api\.http\.GET\.v1_agent_self:\d+\.\d{6}\|ms$/));
      await until('the KV apply timer', has(c, /^consul\.kvs\.apply:\d+\.\d{6}\|ms$/));
    }
    // Dogstatsd: the hostname leaves the name, labels become tags after dogstatsd_tags.
    await until('the dogstatsd gauge', has(dog, /^consul\.runtime\.alloc_bytes:\d+(\.\d+)?\|g\|#env:test,team:core$/));
    await until('the dogstatsd HTTP timer', has(dog, /^consul\.api\.http:\d+\.\d{6}\|ms\|#env:test,team:core,method:PUT,path:v1_kv_$/));
    await until('the dogstatsd KV timer', has(dog, /^consul\.kvs\.apply:\d+\.\d{6}\|ms\|#env:test,team:core$/));
    assert.ok(statsd.packets.every((p) => p.length <= 1400));
    assert.ok(dog.packets.every((p) => p.length <= 1432));
    // The JSON summary has the KV timer as well.
    // The JSON summary has the KV timer too, and (a sink being configured) the hostname in gauge names.
    const json = (await (await fetch(`http://${dev.httpAddr}/v1/agent/metrics`)).json()) as { Gauges: { Name: string }[]; Samples: { Name: string; Count: number }[] };
    assert.ok(json.Samples.some((s) => s.Name === 'consul.kvs.apply' && s.Count >= 1));
    assert.ok(json.Gauges.some((g) => g.Name === `consul.${os.hostname()}.runtime.alloc_bytes`));
  } finally {
    await dev.stop();
    statsd.close();
    dog.close();
    site.close();
  }
});

test('disable_hostname drops the hostname, prefix_filter with filter_default=false keeps only what it allows, a reload changes the rules', async () => {
  const statsd = await udpCollector();
  const telemetry = { statsd_address: statsd.addr, disable_hostname: true, filter_default: false, prefix_filter: ['+consul.runtime', '+consul.kvs', '-consul.runtime.num_goroutines'] };
  const dev = await startDevAgent({ config: { raw: { telemetry } } });
  try {
    assert.equal((await fetch(`http://${dev.httpAddr}/v1/kv/a`, { method: 'PUT', body: 'v' })).status, 200);
    await until('the KV timer', has(statsd, /^consul\.kvs\.apply:/));
    // The HTTP timer of that PUT was queued right after the KV timer: two gauge rounds later it would have arrived.
    const mark = statsd.lines.length;
    const rounds = () => statsd.lines.slice(mark).filter((l) => l.startsWith('consul.runtime.alloc_bytes:')).length;
    await until('two gauge rounds', () => rounds() >= 2);
    assert.ok(statsd.lines.some((l) => /^consul\.runtime\.alloc_bytes:\d+\.\d{6}\|g$/.test(l)), 'no hostname in the gauge name');
    assert.ok(!statsd.lines.some((l) => l.startsWith('consul.api.http')), 'consul.api.http is not allowed');
    assert.ok(!statsd.lines.some((l) => l.startsWith('consul.runtime.num_goroutines')), 'the longer blocked prefix wins');
    // The filter and disable_hostname hold for the JSON summary as well.
    type Summary = { Gauges: { Name: string }[]; Samples: { Name: string }[] };
    const summary = async () => (await (await fetch(`http://${dev.httpAddr}/v1/agent/metrics`)).json()) as Summary;
    let json = await summary();
    assert.ok(json.Gauges.some((g) => g.Name === 'consul.runtime.alloc_bytes'));
    assert.ok(!json.Gauges.some((g) => g.Name === 'consul.runtime.num_goroutines'));
    assert.ok(!json.Samples.some((x) => x.Name === 'consul.api.http'));
    // Reload: only prefix_filter changes (filter_default stays false).
    const next = devConfig({ raw: { telemetry: { ...telemetry, prefix_filter: ['+consul.api.http'] } } });
    await dev.agent.reload(next);
    assert.equal((await fetch(`http://${dev.httpAddr}/v1/kv/b`, { method: 'PUT', body: 'v' })).status, 200);
    await until('the HTTP timer after the reload', has(statsd, /^consul\.api\.http\.PUT\.v1_kv_:\d+\.\d{6}\|ms$/));
    const after = statsd.lines.length;
    // Watch for longer than a gauge round (1 s) while requests keep coming.
    const start = performance.now();
    for (let i = 0; performance.now() - start < 1_200; i++) {
      await fetch(`http://${dev.httpAddr}/v1/kv/c${i}`, { method: 'PUT', body: 'v' });
      await new Promise((r) => setTimeout(r, 100));
    }
    await until('the HTTP timers', () => statsd.lines.length - after >= 5);
    assert.ok(statsd.lines.slice(after).every((l) => l.startsWith('consul.api.http')), 'runtime and kvs are no longer allowed');
    json = await summary();
    assert.ok(json.Samples.some((x) => x.Name === 'consul.api.http'));
    assert.deepEqual(json.Gauges, []);
  } finally {
    await dev.stop();
    statsd.close();
  }
});

test('the agent serves normally while its statsite collector is down', async () => {
  // A port that was free a moment ago: nothing listens yet.
  const probe = net.createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise((r) => probe.close(r));
  const dev = await startDevAgent({ config: { raw: { telemetry: { statsite_address: `127.0.0.1:${port}`, disable_hostname: true } } } });
  try {
    for (let i = 0; i < 20; i++) assert.equal((await fetch(`http://${dev.httpAddr}/v1/kv/k${i}`, { method: 'PUT', body: 'v' })).status, 200);
  } finally {
    await dev.stop();
  }
});

test('a dogstatsd address without a port fails agent start with Consul\'s error', async () => {
  await assert.rejects(startDevAgent({ config: { raw: { telemetry: { dogstatsd_addr: 'nohost' } } } }),
    /failed to initialize telemetry: address nohost: missing port in address/);
});

test('a dogstatsd host that does not resolve fails agent start, as datadog-go resolves it at creation', async () => {
  // .invalid never resolves (RFC 6761); the resolver's reason depends on the machine's DNS.
  await assert.rejects(startDevAgent({ config: { raw: { telemetry: { dogstatsd_addr: 'nonexistent.invalid:8125' } } } }),
    /^Error: failed to initialize telemetry: lookup nonexistent\.invalid on \S+:\d+: (no such host|i\/o timeout|server misbehaving)$/);
});

test('circonus: the agent PUTs JSON to the check submission URL each interval', async () => {
  const bodies: Record<string, { _type: string; _value: unknown }>[] = [];
  const seen: { method?: string; url?: string; type?: string }[] = [];
  const trap = http.createServer((req, res) => {
    let data = '';
    req.on('data', (d) => { data += d; });
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, type: req.headers['content-type'] });
      bodies.push(JSON.parse(data));
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"stats":1}');
    });
  });
  trap.listen(0, '127.0.0.1');
  await once(trap, 'listening');
  const url = `http://127.0.0.1:${(trap.address() as net.AddressInfo).port}/module/httptrap/check-uuid/secret`;
  const dev = await startDevAgent({ config: { raw: { telemetry: { circonus_submission_url: url, circonus_submission_interval: '1s' } } } });
  try {
    assert.equal((await fetch(`http://${dev.httpAddr}/v1/kv/circ`, { method: 'PUT', body: 'v' })).status, 200);
    const all = () => Object.assign({}, ...bodies) as Record<string, { _type: string; _value: unknown }>;
    await until('the HTTP histogram', () => 'consul`api`http`PUT`v1_kv_' in all());
    await until('a gauge', () => `consul\`${os.hostname()}\`runtime\`alloc_bytes` in all());
    assert.deepEqual(seen[0], { method: 'PUT', url: '/module/httptrap/check-uuid/secret', type: 'application/json' });
    const m = all();
    assert.equal(m['consul`api`http`PUT`v1_kv_']._type, 'n');
    assert.match((m['consul`api`http`PUT`v1_kv_']._value as string[])[0], /^H\[\d\.\de[+-]\d\d\]=\d+$/);
    assert.equal(m['consul`kvs`apply']._type, 'n');
    assert.equal(m[`consul\`${os.hostname()}\`runtime\`alloc_bytes`]._type, 'l');
    assert.ok(Number.isInteger(m[`consul\`${os.hostname()}\`runtime\`alloc_bytes`]._value));
  } finally {
    await dev.stop();
    trap.close();
  }
});

test('a client agent sends to its statsd too', async () => {
  const statsd = await udpCollector();
  const agent = createClientAgent(devConfig({ server: false, bootstrap: false, nodeName: 'lonely', raw: { telemetry: { statsd_address: statsd.addr } } }), { logger: silentLogger() });
  await agent.start();
  try {
    assert.equal((await fetch(`http://${agent.httpAddresses()[0]}/v1/agent/self`)).status, 200);
    await until('the HTTP timer', has(statsd, /^consul\.api\.http\.GET\.v1_agent_self:\d+\.\d{6}\|ms$/));
    await until('the alloc_bytes gauge', has(statsd, new RegExp(`^consul\\.${host}\\.runtime\\.alloc_bytes:\\d+\\.\\d{6}\\|g$`)));
  } finally {
    await agent.stop();
    statsd.close();
  }
});
