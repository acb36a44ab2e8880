// The mesh config entry's HTTP settings on the built-in proxy's public listener (Consul sets them
// on Envoy's inbound HTTP connection manager): request normalization (normalize_path,
// merge_slashes, path_with_escaped_slashes_action, headers_with_underscores_action) and
// SanitizeXForwardedClientCert, each changing what a caller sees, picked up without a restart;
// and an L7 deny on /admin judged on exactly the path the application gets, under every setting.
// Requests go straight to api's public listener over mTLS with web's leaf, so the raw request
// target and header names reach it as written.
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, test } from 'node:test';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import { freePort } from './support/ports.ts';
import { until } from './support/wait.ts';
import { ProxyRig } from './support/connect-proxy.ts';

let dev: DevAgent;
let rig: ProxyRig;
let app: http.Server;
let rpcApp: http2.Http2Server;
let apiPublic = 0;
let rpcPublic = 0;
let creds: { cert: string; key: string; ca: string[] };

async function agent(method: string, path: string, body?: unknown): Promise<unknown> {
  const r = await fetch(`http://${dev.httpAddr}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  assert.equal(r.status, 200, text);
  return text ? JSON.parse(text) : undefined;
}

interface Answer { status: number; headers: Record<string, string>; body: string; closed: boolean }

/** One raw HTTP/1.1 request to api's public listener as web (target and header names sent as written). */
function send(target: string, extra: string[] = []): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port: apiPublic, cert: creds.cert, key: creds.key, ca: creds.ca, checkServerIdentity: () => undefined }, () => {
      s.write([`GET ${target} HTTP/1.1`, 'Host: api', ...extra, '', ''].join('\r\n'));
    });
    let raw = '';
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      const end = raw.indexOf('\r\n\r\n');
      if (end < 0) return closed ? reject(new Error(`no answer: ${JSON.stringify(raw)}`)) : undefined;
      const [line, ...lines] = raw.slice(0, end).split('\r\n');
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      const body = raw.slice(end + 4);
      // An answer saying connection: close is taken once the proxy has closed (checking it does).
      if (!closed && (body.length < Number(headers['content-length'] ?? Infinity) || headers.connection === 'close')) return;
      done = true;
      resolve({ status: Number(line.split(' ')[1]), headers, body, closed });
      s.end();
    };
    s.setEncoding('utf8');
    s.on('data', (d: string) => { raw += d; finish(false); });
    s.on('close', () => finish(true));
    s.on('error', () => undefined);
  });
}

/** What the application saw of a request that reached it, or the proxy's own answer. */
async function outcome(target: string): Promise<string> {
  const a = await send(target);
  if (a.status === 200) return `app ${(JSON.parse(a.body) as { url: string }).url}`;
  if (a.status === 307) return `307 ${a.headers.location}`;
  return String(a.status);
}

/** An h2 stream to rpc's public listener as web: status and grpc-status (or the stream's reset code). */
function h2(path: string, headers: Record<string, string> = {}): Promise<{ status: number; grpc?: string; body: string; reset?: number }> {
  return new Promise((resolve, reject) => {
    const s = http2.connect(`https://127.0.0.1:${rpcPublic}`, { cert: creds.cert, key: creds.key, ca: creds.ca, checkServerIdentity: () => undefined });
    s.on('error', reject);
    const st = s.request({ ':path': path, ...headers });
    let status = 0;
    let grpc: string | undefined;
    let body = '';
    st.on('response', (h) => { status = Number(h[':status']); grpc = h['grpc-status'] as string | undefined; });
    st.on('data', (d) => { body += d; });
    st.on('close', () => { s.close(); resolve({ status, grpc, body, ...(status === 0 ? { reset: st.rstCode } : {}) }); });
    st.on('error', () => undefined);
    st.end();
  });
}

async function meshEntry(http_: Record<string, unknown> | undefined): Promise<void> {
  if (http_ === undefined) await fetch(`http://${dev.httpAddr}/v1/config/mesh/mesh`, { method: 'DELETE' });
  else await agent('PUT', '/v1/config', { Kind: 'mesh', HTTP: http_ });
}

function normalization(rn: Record<string, unknown>): Promise<void> {
  return meshEntry({ Incoming: { RequestNormalization: rn } });
}

before(async () => {
  dev = await startDevAgent();
  rig = new ProxyRig(dev.httpAddr);
  await agent('PUT', '/v1/config', { Kind: 'service-defaults', Name: 'api', Protocol: 'http' });
  app = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end(JSON.stringify({ url: req.url, xfcc: req.headers['x-forwarded-client-cert'] ?? null, underscored: req.headers.x_check ?? null })));
  });
  // An upgrade answers 101 with what it got, then closes.
  app.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) => {
    socket.end(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\nx-url: ${req.url}\r\nx-xfcc: ${req.headers['x-forwarded-client-cert'] ?? 'none'}\r\nx-underscored: ${req.headers.x_check ?? 'none'}\r\n\r\n`);
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  const appPort = (app.address() as net.AddressInfo).port;
  apiPublic = await freePort();
  await agent('PUT', '/v1/agent/service/register', { Name: 'api', ID: 'api', Port: appPort });
  await agent('PUT', '/v1/agent/service/register', {
    Kind: 'connect-proxy', ID: 'api-sidecar-proxy', Name: 'api-sidecar-proxy', Address: '127.0.0.1', Port: apiPublic,
    Proxy: { DestinationServiceName: 'api', DestinationServiceID: 'api', LocalServiceAddress: '127.0.0.1', LocalServicePort: appPort },
  });
  await rig.proxy(['-sidecar-for', 'api']);
  await agent('PUT', '/v1/config', { Kind: 'service-defaults', Name: 'rpc', Protocol: 'http2' });
  rpcApp = http2.createServer((req, res) => { req.resume(); req.on('end', () => res.end(`h2 ${req.url}`)); });
  await new Promise<void>((r) => rpcApp.listen(0, '127.0.0.1', r));
  rpcPublic = await freePort();
  await rig.proxy(['-service', 'rpc', '-service-addr', `127.0.0.1:${(rpcApp.address() as net.AddressInfo).port}`, '-listen', `127.0.0.1:${rpcPublic}`]);
  const leaf = await agent('GET', '/v1/agent/connect/ca/leaf/web') as { CertPEM: string; PrivateKeyPEM: string };
  const roots = await agent('GET', '/v1/agent/connect/ca/roots') as { Roots: { RootCert: string }[] };
  creds = { cert: leaf.CertPEM, key: leaf.PrivateKeyPEM, ca: roots.Roots.map((r) => r.RootCert) };
  await agent('PUT', '/v1/config', { Kind: 'service-intentions', Name: 'api', Sources: [{ Name: 'web', Permissions: [
    { Action: 'deny', HTTP: { PathPrefix: '/admin' } },
    { Action: 'allow', HTTP: { PathPrefix: '/' } },
  ] }] });
  await agent('PUT', '/v1/config', { Kind: 'service-intentions', Name: 'rpc', Sources: [{ Name: 'web', Permissions: [
    { Action: 'deny', HTTP: { PathPrefix: '/admin' } },
    { Action: 'allow', HTTP: { PathPrefix: '/' } },
  ] }] });
  await until('api denies /admin', 10_000, async () => (await send('/admin').catch(() => undefined))?.status === 403);
  await until('rpc denies /admin', 10_000, async () => (await h2('/admin').catch(() => undefined))?.status === 403);
});

after(async () => {
  await rig?.close();
  app?.close();
  rpcApp?.close();
  await dev?.stop();
});

const SNEAKY = ['/admin', '//admin', '///admin', '/%2Fadmin', '/%2fadmin', '/x/../admin', '/x/%2e%2e/admin', '/%61dmin', '/x%2F..%2Fadmin', '/x\\..\\admin', '/%5Cadmin', '/admin/../admin'];

/**
 * Each path's outcome under the current settings, checked against `want` (paths not named: 403).
 * Whatever reaches the application is what the intentions judged, so it never starts with /admin.
 */
async function matrix(want: Record<string, string>): Promise<void> {
  const got: Record<string, string> = {};
  for (const p of SNEAKY) got[p] = await outcome(p);
  for (const [p, o] of Object.entries(got)) assert.ok(!o.startsWith('app /admin'), `${p} reached the application as ${o}`);
  assert.deepEqual(got, Object.fromEntries(SNEAKY.map((p) => [p, want[p] ?? '403'])));
}

test("without a mesh entry (Consul's defaults): paths normalized, slashes not merged, escaped slashes kept", async () => {
  await matrix({
    '//admin': 'app //admin', '///admin': 'app ///admin', '/%2Fadmin': 'app /%2Fadmin', '/%2fadmin': 'app /%2Fadmin',
    '/x%2F..%2Fadmin': 'app /x%2F..%2Fadmin', '/%5Cadmin': 'app /%5Cadmin',
  });
});

test('MergeSlashes: repeated slashes merged before the intentions see the path', async () => {
  await normalization({ MergeSlashes: true });
  await until('slashes are merged', 10_000, async () => (await outcome('//admin')) === '403');
  await matrix({ '/%2Fadmin': 'app /%2Fadmin', '/%2fadmin': 'app /%2Fadmin', '/x%2F..%2Fadmin': 'app /x%2F..%2Fadmin', '/%5Cadmin': 'app /%5Cadmin' });
  assert.equal(await outcome('//public//x'), 'app /public/x');
});

test('PathWithEscapedSlashesAction REJECT_REQUEST: a path with %2F or %5C gets 400 with no body', async () => {
  await normalization({ PathWithEscapedSlashesAction: 'REJECT_REQUEST' });
  await until('escaped slashes are refused', 10_000, async () => (await outcome('/%2Fadmin')) === '400');
  await matrix({ '//admin': 'app //admin', '///admin': 'app ///admin', '/%2Fadmin': '400', '/%2fadmin': '400', '/x%2F..%2Fadmin': '400', '/%5Cadmin': '400' });
  const a = await send('/a%2Fb');
  assert.deepEqual([a.status, a.body, a.headers['content-length']], [400, '', '0']);
  assert.equal(await outcome('/a/b'), 'app /a/b');
  const upgrade = ['Connection: Upgrade', 'Upgrade: x'];
  assert.deepEqual([(await send('/a%2Fb', upgrade)).status, (await send('/a/b', upgrade)).headers['x-url']], [400, '/a/b']);
});

test('UNESCAPE_AND_REDIRECT: 307 to the unescaped, normalized path (query kept); following it meets the deny', async () => {
  await normalization({ PathWithEscapedSlashesAction: 'UNESCAPE_AND_REDIRECT', MergeSlashes: true });
  await until('escaped slashes are redirected', 10_000, async () => (await outcome('/%2Fadmin')).startsWith('307'));
  await matrix({ '/%2Fadmin': '307 /admin', '/%2fadmin': '307 /admin', '/x%2F..%2Fadmin': '307 /admin', '/%5Cadmin': '307 /admin' });
  assert.equal(await outcome('/a%2Fb?q=%2F'), '307 /a/b?q=%2F');
  assert.equal(await outcome('/admin'), '403');
});

test("UNESCAPE_AND_FORWARD with MergeSlashes (Consul's recommended settings): every variant meets the deny", async () => {
  await normalization({ PathWithEscapedSlashesAction: 'UNESCAPE_AND_FORWARD', MergeSlashes: true, HeadersWithUnderscoresAction: 'REJECT_REQUEST' });
  await until('escaped slashes are unescaped', 10_000, async () => (await outcome('/%2Fadmin')) === '403');
  await matrix({});
  assert.equal(await outcome('/value%2Ffoo'), 'app /value/foo');
});

test('UNESCAPE_AND_FORWARD alone: the unescaped slashes are not merged', async () => {
  await normalization({ PathWithEscapedSlashesAction: 'UNESCAPE_AND_FORWARD' });
  await until('slashes are no longer merged', 10_000, async () => (await outcome('/%2Fadmin')) === 'app //admin');
  // %5C becomes `\`, which normalize_path then reads as `/`.
  await matrix({ '//admin': 'app //admin', '///admin': 'app ///admin', '/%2Fadmin': 'app //admin', '/%2fadmin': 'app //admin', '/%5Cadmin': 'app //admin' });
});

test('InsecureDisablePathNormalization: the path goes on as written (the intentions judge it so)', async () => {
  await normalization({ InsecureDisablePathNormalization: true });
  await until('paths are no longer normalized', 10_000, async () => (await outcome('/x/../admin')) === 'app /x/../admin');
  await matrix({
    '//admin': 'app //admin', '///admin': 'app ///admin', '/%2Fadmin': 'app /%2Fadmin', '/%2fadmin': 'app /%2fadmin',
    '/x/../admin': 'app /x/../admin', '/x/%2e%2e/admin': 'app /x/%2e%2e/admin', '/%61dmin': 'app /%61dmin',
    '/x%2F..%2Fadmin': 'app /x%2F..%2Fadmin', '/x\\..\\admin': 'app /x\\..\\admin', '/%5Cadmin': 'app /%5Cadmin',
  });
});

test('HeadersWithUnderscoresAction: allowed by default, REJECT_REQUEST is 400 and closes, DROP_HEADER drops it', async () => {
  await meshEntry(undefined);
  await until('the entry is gone', 10_000, async () => (await outcome('/x/../admin')) === '403');
  const allowed = await send('/h', ['x_check: 1']);
  assert.equal((JSON.parse(allowed.body) as { underscored: string }).underscored, '1');
  await normalization({ HeadersWithUnderscoresAction: 'REJECT_REQUEST' });
  await until('underscores are refused', 10_000, async () => (await send('/h', ['x_check: 1'])).status === 400);
  const refused = await send('/h', ['x_check: 1']);
  assert.deepEqual([refused.status, refused.body, refused.headers.connection, refused.closed], [400, 'Bad Request', 'close', true]);
  assert.equal((await send('/h', ['x-check: 1'])).status, 200);
  await normalization({ HeadersWithUnderscoresAction: 'DROP_HEADER' });
  await until('underscored headers are dropped', 10_000, async () => (await send('/h', ['x_check: 1'])).status === 200);
  assert.equal((JSON.parse((await send('/h', ['x_check: 1'])).body) as { underscored: string | null }).underscored, null);
  assert.equal((await send('/ws', ['Connection: Upgrade', 'Upgrade: x', 'x_check: 1'])).headers['x-underscored'], 'none');
});

test('SanitizeXForwardedClientCert: the caller\'s header is stripped and none is added', async () => {
  await meshEntry(undefined);
  const xfcc = async () => (JSON.parse((await send('/xfcc', ['X-Forwarded-Client-Cert: By=spoofed'])).body) as { xfcc: string | null }).xfcc;
  await until('APPEND_FORWARD', 10_000, async () => (await xfcc())?.startsWith('By=spoofed,By=spiffe://') === true);
  assert.match(String(await xfcc()), /^By=spoofed,By=spiffe:\/\/[^;]+\/svc\/api;Hash=[0-9a-f]{64};.*;URI=spiffe:\/\/[^;]+\/svc\/web/);
  await meshEntry({ SanitizeXForwardedClientCert: true });
  await until('SANITIZE', 10_000, async () => (await xfcc()) === null);
  const upgraded = await send('/ws', ['Connection: Upgrade', 'Upgrade: x', 'X-Forwarded-Client-Cert: By=spoofed']);
  assert.deepEqual([upgraded.status, upgraded.headers['x-xfcc']], [101, 'none']);
  await meshEntry({ SanitizeXForwardedClientCert: false });
  await until('APPEND_FORWARD again', 10_000, async () => (await xfcc()) !== null);
});

test('an h2 stream: escaped slashes refused (400), a gRPC one not redirected but INTERNAL (13), underscores reset the stream', async () => {
  await normalization({ PathWithEscapedSlashesAction: 'REJECT_REQUEST', MergeSlashes: true });
  await until('h2 refuses escaped slashes', 10_000, async () => (await h2('/%2Fadmin')).status === 400);
  assert.equal((await h2('//admin')).status, 403);
  assert.deepEqual(await h2('/ok'), { status: 200, grpc: undefined, body: 'h2 /ok' });
  await normalization({ PathWithEscapedSlashesAction: 'UNESCAPE_AND_REDIRECT', HeadersWithUnderscoresAction: 'REJECT_REQUEST' });
  await until('h2 redirects', 10_000, async () => (await h2('/%2Fadmin')).status === 307);
  const g = await h2('/%2Fadmin', { 'content-type': 'application/grpc' });
  assert.deepEqual([g.status, g.grpc], [200, '13']);
  const u = await h2('/ok', { x_check: '1' });
  assert.deepEqual([u.status, u.reset], [0, http2.constants.NGHTTP2_INTERNAL_ERROR]);
  await meshEntry(undefined);
});

test("a fragment is refused (400) and a target that is not a path not found (404) under any setting, as Envoy's connection manager does", async () => {
  await normalization({ InsecureDisablePathNormalization: true });
  await until('paths are no longer normalized', 10_000, async () => (await outcome('/x/../y')) === 'app /x/../y');
  // Judged with `#x` on, the path would meet no exact /admin rule, and the application drop the fragment.
  for (const p of ['/admin#x', '/x#/../admin', '/ok?q#/admin']) assert.equal(await outcome(p), '400', p);
  assert.deepEqual([(await send('*')).status, (await send('*')).body], [404, '']);
  assert.equal((await send('/ok#x', ['Connection: Upgrade', 'Upgrade: x'])).status, 400);
  await meshEntry(undefined);
  await until('the entry is gone', 10_000, async () => (await outcome('/x/../y')) === 'app /y');
  for (const p of ['/admin#x', '/ok#x']) assert.equal(await outcome(p), '400', p);
  assert.equal((await send('*')).status, 404);
  assert.equal(await outcome('http://api?q=1'), 'app /?q=1');
  assert.deepEqual(await h2('*', { ':method': 'OPTIONS' }), { status: 404, grpc: undefined, body: '' });
  assert.deepEqual(await h2('/ok#x'), { status: 400, grpc: undefined, body: '' });
  assert.deepEqual((({ status, grpc }) => ({ status, grpc }))(await h2('/ok#x', { 'content-type': 'application/grpc' })), { status: 200, grpc: '13' });
});

test('an intention on x-forwarded-client-cert sees the header as the application gets it, not one the caller forged', async () => {
  const guarded = (permissions: unknown[]) => agent('PUT', '/v1/config', { Kind: 'service-intentions', Name: 'api', Sources: [{ Name: 'web', Permissions: permissions }] });
  const base = [{ Action: 'deny', HTTP: { PathPrefix: '/admin' } }, { Action: 'allow', HTTP: { PathPrefix: '/' } }];
  await guarded([
    { Action: 'allow', HTTP: { PathExact: '/tool', Header: [{ Name: 'x-forwarded-client-cert', Regex: '^URI=spiffe://[^,]*/svc/admin-tool$' }] } },
    { Action: 'deny', HTTP: { PathExact: '/tool' } },
    ...base,
  ]);
  const forged = ['X-Forwarded-Client-Cert: URI=spiffe://x/ns/default/dc/dc1/svc/admin-tool'];
  try {
    await until('/tool is guarded', 10_000, async () => (await send('/tool')).status === 403);
    await meshEntry(undefined);
    assert.equal((await send('/tool', forged)).status, 403, 'APPEND_FORWARD: the caller is web, whatever it wrote before');
    await meshEntry({ SanitizeXForwardedClientCert: true });
    await until('SANITIZE', 10_000, async () => (JSON.parse((await send('/xfcc')).body) as { xfcc: string | null }).xfcc === null);
    assert.equal((await send('/tool', forged)).status, 403, 'SANITIZE: the application gets no header, so neither do the intentions');
    assert.equal((await send('/tool', [...forged, 'Connection: Upgrade', 'Upgrade: x'])).status, 403);
  } finally {
    await meshEntry(undefined);
    await guarded(base);
  }
});
