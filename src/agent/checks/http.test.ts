// HTTP checks against real node:http/https servers on 127.0.0.1: status mapping, output line,
// request shape, redirects, timeout, connection errors and TLS options.
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { harness, selfSignedCert, type TestCert } from './test-support.ts';

interface Seen { method?: string; url?: string; headers: http.IncomingHttpHeaders; body: string }
let server: http.Server;
let base: string;
const seen: Seen[] = [];
let cert: TestCert;

function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  let body = '';
  req.on('data', (c: Buffer) => { body += c.toString(); });
  req.on('end', () => {
    seen.push({ method: req.method, url: req.url, headers: req.headers, body });
    const u = new URL(req.url ?? '/', 'http://x');
    if (u.pathname === '/hang') return;
    if (u.pathname === '/redirect') { res.writeHead(302, { Location: '/status/200' }).end(); return; }
    if (u.pathname === '/loop') { res.writeHead(302, { Location: '/loop' }).end(); return; }
    const code = Number(u.pathname.split('/')[2] ?? 200);
    res.writeHead(code, { 'Content-Type': 'text/plain' }).end(u.searchParams.get('body') ?? `body ${code}`);
  });
}

before(async () => {
  cert = await selfSignedCert();
  server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => { server.closeAllConnections(); server.close(); });

test('2xx passing, 429 warning, others critical, with Consul\'s output line', async () => {
  for (const [code, status, text] of [[200, 'passing', 'OK'], [204, 'passing', 'No Content'], [429, 'warning', 'Too Many Requests'], [503, 'critical', 'Service Unavailable']] as const) {
    const url = `${base}/status/${code}`;
    const h = await harness({ HTTP: url, Interval: 1000 });
    const body = code === 204 ? '' : `body ${code}`;
    assert.deepEqual(await h.runOnce(), [status, `HTTP GET ${url}: ${code} ${text} Output: ${body}`]);
    h.runner.stop();
  }
});

test('the request carries Consul\'s headers, custom headers, method and body, without keep-alive', async () => {
  seen.length = 0;
  const h = await harness({
    HTTP: `${base}/status/200`, Interval: 1000, Method: 'POST', Body: '{"a":1}',
    Header: { 'X-Custom': ['a', 'b'], Host: ['virtual.example'] },
  });
  assert.equal((await h.runOnce())[0], 'passing');
  const req = seen[0];
  assert.equal(req.method, 'POST');
  assert.equal(req.body, '{"a":1}');
  assert.equal(req.headers['user-agent'], 'Consul Health Check');
  assert.equal(req.headers.accept, 'text/plain, text/*, */*');
  assert.equal(req.headers['x-custom'], 'a, b');
  assert.equal(req.headers.host, 'virtual.example');
  assert.equal(req.headers.connection, 'close');
  h.runner.stop();
  const ua = await harness({ HTTP: `${base}/status/200`, Interval: 1000, Header: { 'User-Agent': ['mine'] } });
  await ua.runOnce();
  assert.equal(seen[1].headers['user-agent'], 'mine');
  ua.runner.stop();
});

test('the body in the output keeps only the last OutputMaxSize bytes', async () => {
  const url = `${base}/status/200?body=0123456789`;
  const h = await harness({ HTTP: url, Interval: 1000, OutputMaxSize: 4 });
  assert.deepEqual(await h.runOnce(), ['passing', `HTTP GET ${url}: 200 OK Output: 6789`]);
  h.runner.stop();
});

test('redirects are followed unless disable_redirects; ten hops at most', async () => {
  const url = `${base}/redirect`;
  const f = await harness({ HTTP: url, Interval: 1000 });
  assert.deepEqual(await f.runOnce(), ['passing', `HTTP GET ${url}: 200 OK Output: body 200`]);
  f.runner.stop();
  const d = await harness({ HTTP: url, Interval: 1000, DisableRedirects: true });
  assert.deepEqual(await d.runOnce(), ['critical', `HTTP GET ${url}: 302 Found Output: `]);
  d.runner.stop();
  const l = await harness({ HTTP: `${base}/loop`, Interval: 1000 });
  assert.deepEqual(await l.runOnce(), ['critical', `Get "${base}/loop": stopped after 10 redirects`]);
  l.runner.stop();
});

test('a server that never answers times out on the clock (default 10s)', async () => {
  const url = `${base}/hang`;
  const h = await harness({ HTTP: url, Interval: 1000 });
  h.manual!.advance(0);
  while (!seen.some((s) => s.url === '/hang')) await new Promise((r) => setTimeout(r, 5));
  h.manual!.advance(9_999);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(h.reports.length, 1, 'not yet timed out');
  h.manual!.advance(1);
  assert.deepEqual(await h.next(), ['critical', `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`]);
  h.runner.stop();
});

test('connection errors are critical with Go\'s text', async () => {
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const url = `http://127.0.0.1:${port}/health`;
  const h = await harness({ HTTP: url, Interval: 1000, Method: 'PUT' });
  assert.deepEqual(await h.runOnce(), ['critical', `Put "${url}": dial tcp 127.0.0.1:${port}: connect: connection refused`]);
  h.runner.stop();
  const s = await harness({ HTTP: 'localhost:8080/health', Interval: 1000 });
  assert.deepEqual(await s.runOnce(), ['critical', 'Get "localhost:8080/health": unsupported protocol scheme "localhost"']);
  s.runner.stop();
});

test('HTTPS: unknown authority is critical; tls_skip_verify or a trusted CA with tls_server_name passes', async () => {
  const tlsServer = https.createServer({ cert: cert.cert, key: cert.key }, handler);
  await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', r));
  const url = `https://127.0.0.1:${(tlsServer.address() as AddressInfo).port}/status/200`;
  try {
    const bad = await harness({ HTTP: url, Interval: 1000 });
    assert.deepEqual(await bad.runOnce(), ['critical', `Get "${url}": tls: failed to verify certificate: x509: certificate signed by unknown authority`]);
    bad.runner.stop();
    const skip = await harness({ HTTP: url, Interval: 1000, TLSSkipVerify: true });
    assert.equal((await skip.runOnce())[0], 'passing');
    skip.runner.stop();
    const named = await harness({ HTTP: url, Interval: 1000, TLSServerName: 'check.test' }, { tlsCA: cert.cert });
    assert.equal((await named.runOnce())[0], 'passing');
    named.runner.stop();
    const wrong = await harness({ HTTP: url, Interval: 1000, TLSServerName: 'other.test' }, { tlsCA: cert.cert });
    const [status, output] = await wrong.runOnce();
    assert.equal(status, 'critical');
    assert.match(output, /x509: certificate is valid for localhost, check\.test, 127\.0\.0\.1, not other\.test$/);
    wrong.runner.stop();
  } finally {
    tlsServer.closeAllConnections();
    tlsServer.close();
  }
});

test('failures_before_critical through a running HTTP check: two failures in a row flip it', async () => {
  let code = 200;
  const flaky = http.createServer((_q, r) => r.writeHead(code).end());
  await new Promise<void>((r) => flaky.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(flaky.address() as AddressInfo).port}/`;
  const h = await harness({ HTTP: url, Interval: 1000, FailuresBeforeCritical: 2 });
  try {
    assert.equal((await h.runOnce())[0], 'passing');
    code = 500;
    h.manual!.advance(1000);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(h.reports.length, 2, 'the first failure is held back');
    assert.deepEqual(await h.runOnce(1000), ['critical', `HTTP GET ${url}: 500 Internal Server Error Output: `]);
  } finally {
    h.runner.stop();
    flaky.close();
  }
});
