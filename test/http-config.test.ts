// http_config over real sockets: max_header_bytes (Consul's default takes headers far past node's
// 16 KiB; a set limit refuses with 431), use_cache = false (?cached is ignored, so it no longer
// conflicts with ?consistent) and response_headers as Go writes them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import http from 'node:http';
import https from 'node:https';
import http2 from 'node:http2';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/agent/config/index.ts';
import { startDevAgent, devConfig, type DevAgent } from './support/agent.ts';
import { freePort } from './support/ports.ts';
import { testCA } from './support/tls-cert.ts';

/**
 * A GET with one extra header of `size` bytes, through node's client (which sets no header limit
 * of its own): the status, or 'reset' when the server closed on a request it had not read to the
 * end (it answers 431 and closes, and the client may see the reset before the answer).
 */
function getWithHeader(dev: DevAgent, path: string, size: number): Promise<number | 'reset'> {
  const [host, port] = dev.httpAddr.split(':');
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port: Number(port), path, headers: { 'X-Padding': 'p'.repeat(size), Connection: 'close' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' || err.code === 'EPIPE' ? resolve('reset') : reject(err)));
    req.end();
  });
}

test('max_header_bytes unset: headers up to Go\'s 1 MiB default are served, past it refused with 431', async () => {
  const dev = await startDevAgent();
  try {
    assert.equal(await getWithHeader(dev, '/v1/status/leader', 100 * 1024), 200);
    assert.equal(await getWithHeader(dev, '/v1/status/leader', 1000 * 1024), 200);
    assert.ok(['reset', 431].includes(await getWithHeader(dev, '/v1/status/leader', 1040 * 1024)), 'refused past 1 MiB + 4 KiB');
  } finally {
    await dev.stop();
  }
});

test('max_header_bytes set: a request whose headers pass it gets 431 Request Header Fields Too Large', async () => {
  const dev = await startDevAgent({ config: { http: { ...devConfig().http, maxHeaderBytes: 2048 } } });
  try {
    assert.equal(await getWithHeader(dev, '/v1/status/leader', 1024), 200);
    // Small enough to be read whole before the refusal: the 431 always arrives.
    assert.equal(await getWithHeader(dev, '/v1/status/leader', 16 * 1024), 431);
  } finally {
    await dev.stop();
  }
});

test('max_header_bytes on the HTTPS listener: HTTP/1.1 takes headers past node\'s 16 KiB default and refuses past the limit', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-hdr-'));
  const ca = await testCA();
  const server = await ca.issue('server.dc1.consul', 'server');
  for (const [name, pem] of [['ca.pem', ca.cert], ['cert.pem', server.cert], ['key.pem', server.key]]) fs.writeFileSync(path.join(dir, name), pem);
  const tlsHcl = `tls { defaults { ca_file = "${dir}/ca.pem" cert_file = "${dir}/cert.pem" key_file = "${dir}/key.pem" } }`;
  const port = await freePort();
  const dev = await startDevAgent({
    config: {
      http: { ...devConfig().http, maxHeaderBytes: 256 * 1024 },
      ports: { http: 0, https: port, dns: -1, grpc: -1, grpcTls: -1, serfLan: 8301, serfWan: 8302, server: 8300 },
      httpsAddrs: [{ kind: 'tcp', host: '127.0.0.1', port }], tls: (await loadConfig({ args: ['-dev', '-hcl', tlsHcl] })).config.tls,
    },
  });
  const h1 = (size: number) => new Promise<number | 'reset'>((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path: '/v1/status/leader', ca: ca.cert, agent: false, headers: { 'X-Padding': 'p'.repeat(size) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' || err.code === 'EPIPE' ? resolve('reset') : reject(err)));
    req.end();
  });
  try {
    assert.equal(await h1(100 * 1024), 200);
    assert.ok(['reset', 431].includes(await h1(300 * 1024)));
  } finally {
    await dev.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('max_header_bytes over HTTP/2: a header list past the limit gets Go\'s 431, as Consul\'s HTTPS listener answers', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-hdr2-'));
  const ca = await testCA();
  const server = await ca.issue('server.dc1.consul', 'server');
  for (const [name, pem] of [['ca.pem', ca.cert], ['cert.pem', server.cert], ['key.pem', server.key]]) fs.writeFileSync(path.join(dir, name), pem);
  const tlsHcl = `tls { defaults { ca_file = "${dir}/ca.pem" cert_file = "${dir}/cert.pem" key_file = "${dir}/key.pem" } }`;
  const port = await freePort();
  const dev = await startDevAgent({
    config: {
      http: { ...devConfig().http, maxHeaderBytes: 2048 },
      ports: { http: 0, https: port, dns: -1, grpc: -1, grpcTls: -1, serfLan: 8301, serfWan: 8302, server: 8300 },
      httpsAddrs: [{ kind: 'tcp', host: '127.0.0.1', port }], tls: (await loadConfig({ args: ['-dev', '-hcl', tlsHcl] })).config.tls,
    },
  });
  const session = http2.connect(`https://127.0.0.1:${port}`, { ca: ca.cert });
  const h2 = (size: number) => new Promise<[number, string]>((resolve, reject) => {
    const req = session.request({ ':path': '/v1/status/leader', 'x-padding': 'p'.repeat(size) });
    let status = 0;
    let body = '';
    req.on('response', (h) => { status = Number(h[':status']); });
    req.on('data', (c: Buffer) => { body += c.toString(); });
    req.on('end', () => resolve([status, body]));
    req.on('error', reject);
    req.end();
  });
  try {
    assert.equal((await h2(1024))[0], 200);
    assert.deepEqual(await h2(8 * 1024), [431, '<h1>HTTP Error 431</h1><p>Request Header Field(s) Too Large</p>']);
    assert.equal((await h2(16))[0], 200, 'the connection serves on');
  } finally {
    session.close();
    await dev.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('use_cache = false: ?cached is ignored, so ?cached&consistent is a consistent read, not a conflict', async () => {
  const on = await startDevAgent();
  try {
    const r = await fetch(`http://${on.httpAddr}/v1/catalog/services?cached&consistent`);
    assert.equal(r.status, 400);
    assert.equal(await r.text(), 'Cannot specify ?cached with ?consistent, conflicting semantics.');
  } finally {
    await on.stop();
  }
  const off = await startDevAgent({ config: { http: { ...devConfig().http, useCache: false } } });
  try {
    const r = await fetch(`http://${off.httpAddr}/v1/catalog/services?cached&consistent`);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { consul: [] });
    assert.equal(r.headers.get('x-consul-effective-consistency'), 'consistent');
    const debug = ((await (await fetch(`http://${off.httpAddr}/v1/agent/self`)).json()) as { DebugConfig: Record<string, unknown> }).DebugConfig;
    assert.deepEqual(
      [debug.HTTPUseCache, debug.HTTPMaxHeaderBytes, debug.HTTPBlockEndpoints, debug.AllowWriteHTTPFrom, debug.HTTPResponseHeaders],
      [false, 0, [], [], {}],
    );
    // Consul's defaults of the limits and keys Proconsul acts on, under their runtime names.
    assert.deepEqual(
      [debug.DisableHTTPUnprintableCharFilter, debug.RPCHandshakeTimeout, debug.RPCClientTimeout, debug.ServerRejoinAgeMax, debug.AdvertiseReconnectTimeout],
      [false, '5s', '1m0s', '168h0m0s', '0s'],
    );
  } finally {
    await off.stop();
  }
});

test('response_headers go out with canonical names on every answer; a name that is not a token is left out, not fatal', async () => {
  const hcl = 'http_config { response_headers { access-control-allow-origin = "*", "bad name" = "x" } }';
  const dev = await startDevAgent({ config: { http: (await loadConfig({ args: ['-dev', '-hcl', hcl] })).config.http } });
  const [host, port] = dev.httpAddr.split(':');
  const head = (p: string) => new Promise<string[]>((resolve, reject) => {
    const s = net.connect(Number(port), host, () => s.write(`GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    let out = '';
    s.on('data', (c) => { out += c; });
    s.on('close', () => resolve(out.split('\r\n\r\n')[0].split('\r\n')));
    s.on('error', reject);
  });
  try {
    for (const p of ['/v1/status/leader', '/v1/no-such-endpoint']) {
      const lines = await head(p);
      assert.match(lines[0] ?? '', /^HTTP\/1\.1 (200|404) /, p);
      assert.ok(lines.includes('Access-Control-Allow-Origin: *'), `${p}: ${lines.join(' | ')}`);
      assert.ok(!lines.some((l) => l.toLowerCase().startsWith('bad name')), p);
    }
  } finally {
    await dev.stop();
  }
});
