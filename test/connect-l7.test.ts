// L7 traffic management through the built-in proxy on a dev agent: two versions of an HTTP
// service behind their sidecars, a resolver with version subsets, a 90/10 splitter and a router
// that sends `x-canary: 1` to v2; web's upstream routes each request by the chain, follows
// config entry changes without a restart (blue/green), and fails over when v1 has no healthy instance.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import { freePort } from './support/ports.ts';
import { until } from './support/wait.ts';
import { ProxyRig } from './support/connect-proxy.ts';

let dev: DevAgent;
let rig: ProxyRig;
let upstream = 0;
const servers: http.Server[] = [];
const closers: (() => void)[] = [];
/** Requests to /hang the apps have received, and how many of those the proxy has closed. */
const hangs = { started: 0, closed: 0 };

interface Answer { version: string; url: string; headers: Record<string, string>; calls: number; body: number }

async function put(path: string, body: unknown): Promise<void> {
  const r = await fetch(`http://${dev.httpAddr}${path}`, { method: 'PUT', body: body === undefined ? undefined : JSON.stringify(body) });
  assert.equal(r.status, 200, await r.text());
}

/** An HTTP server answering every request with its version, the path it got and the request headers. */
function app(version: string): Promise<number> {
  let calls = 0;
  const s = http.createServer(async (req, res) => {
    let body = 0;
    for await (const c of req) body += (c as Buffer).length;
    // /flaky fails every other call; /slow answers only after the test is over.
    if (req.url === '/flaky' && calls++ % 2 === 0) return void res.writeHead(503).end('try again');
    if (req.url === '/slow') return void setTimeout(() => res.end(), 60_000).unref();
    if (req.url === '/hang') {
      hangs.started++;
      return void res.on('close', () => hangs.closed++);
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ version, url: req.url, headers: req.headers, calls, body }));
  });
  // An upgrade to the `echo` protocol answers each chunk with `<version>:<chunk>`.
  s.on('upgrade', (_req, sock: import('node:net').Socket) => {
    sock.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: echo\r\nconnection: upgrade\r\n\r\n');
    sock.on('data', (d) => sock.write(`${version}:${d.toString()}`));
    sock.on('error', () => sock.destroy());
  });
  servers.push(s);
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as { port: number }).port)));
}

/** Registers api-<version> with its sidecar (Meta version=<version>) and runs the sidecar. */
async function instance(version: string): Promise<void> {
  const [appPort, pub] = [await app(version), await freePort()];
  await put('/v1/agent/service/register', { Name: 'api', ID: `api-${version}`, Port: appPort, Meta: { version } });
  await put('/v1/agent/service/register', {
    Kind: 'connect-proxy', ID: `api-${version}-sidecar-proxy`, Name: 'api-sidecar-proxy', Address: '127.0.0.1', Port: pub, Meta: { version },
    Proxy: { DestinationServiceName: 'api', DestinationServiceID: `api-${version}`, LocalServiceAddress: '127.0.0.1', LocalServicePort: appPort },
  });
  await rig.proxy(['-sidecar-for', `api-${version}`]);
}

function splitter(v1: number, v2: number) {
  return { Kind: 'service-splitter', Name: 'api', Splits: [{ Weight: v1, ServiceSubset: 'v1' }, { Weight: v2, ServiceSubset: 'v2', RequestHeaders: { Set: { 'x-split': 'v2' } } }] };
}

async function get(path: string, headers: Record<string, string> = {}): Promise<Answer> {
  const r = await fetch(`http://127.0.0.1:${upstream}${path}`, { headers });
  const text = await r.text();
  assert.equal(r.status, 200, text);
  return JSON.parse(text) as Answer;
}

/** A GET on a new connection; undefined when the answer is not an app's. */
function fresh(path: string, headers: Record<string, string>): Promise<Answer | undefined> {
  return new Promise((resolve) => {
    http.get({ host: '127.0.0.1', port: upstream, path, headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => { try { resolve(JSON.parse(body) as Answer); } catch { resolve(undefined); } });
    }).on('error', () => resolve(undefined));
  });
}

async function versions(n: number, headers: Record<string, string> = {}): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const v = (await get('/hello', headers)).version;
    counts[v] = (counts[v] ?? 0) + 1;
  }
  return counts;
}

before(async () => {
  dev = await startDevAgent();
  rig = new ProxyRig(dev.httpAddr);
  await put('/v1/config', { Kind: 'service-defaults', Name: 'api', Protocol: 'http' });
  await put('/v1/config', {
    Kind: 'service-resolver', Name: 'api', DefaultSubset: 'v1', ConnectTimeout: '1s',
    Subsets: {
      v1: { Filter: 'Service.Meta.version == v1' }, v2: { Filter: 'Service.Meta.version == v2' },
      v3: { Filter: 'Service.Meta.version == v3' }, v4: { Filter: 'Service.Meta.version == v4' },
    },
    Failover: { v1: { ServiceSubset: 'v2' } },
  });
  await put('/v1/config', splitter(90, 10));
  await put('/v1/config', {
    Kind: 'service-router', Name: 'api', Routes: [
      { Match: { HTTP: { Header: [{ Name: 'x-canary', Exact: '1' }] } }, Destination: { ServiceSubset: 'v2' } },
      { Match: { HTTP: { PathExact: '/impostor' } }, Destination: { ServiceSubset: 'v3' } },
      { Match: { HTTP: { PathExact: '/blackhole' } }, Destination: { ServiceSubset: 'v4' } },
      { Match: { HTTP: { PathExact: '/flaky' } }, Destination: { ServiceSubset: 'v1', NumRetries: 2, RetryOnStatusCodes: [503] } },
      { Match: { HTTP: { PathExact: '/slow' } }, Destination: { ServiceSubset: 'v1', RequestTimeout: '200ms' } },
      {
        Match: { HTTP: { PathPrefix: '/old/' } },
        Destination: {
          ServiceSubset: 'v1', PrefixRewrite: '/new/', RequestHeaders: { Set: { 'x-route': 'old' }, Remove: ['x-secret'] },
          ResponseHeaders: { Add: { 'x-served-by': 'old-route' }, Remove: ['content-type'] },
        },
      },
    ],
  });
  await instance('v1');
  await instance('v2');
  // v3 is registered as an api instance, but its proxy holds the leaf of another service.
  const [appPort, pub] = [await app('v3'), await freePort()];
  await rig.proxy(['-service', 'impostor', '-service-addr', `127.0.0.1:${appPort}`, '-listen', `127.0.0.1:${pub}`]);
  await put('/v1/agent/service/register', {
    Kind: 'connect-proxy', ID: 'api-v3-sidecar-proxy', Name: 'api-sidecar-proxy', Address: '127.0.0.1', Port: pub, Meta: { version: 'v3' },
    Proxy: { DestinationServiceName: 'api', LocalServiceAddress: '127.0.0.1', LocalServicePort: appPort },
  });
  // v4 accepts connections and never answers the TLS handshake.
  const silent = net.createServer((c) => c.on('error', () => undefined));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  closers.push(() => silent.close());
  await put('/v1/agent/service/register', {
    Kind: 'connect-proxy', ID: 'api-v4-sidecar-proxy', Name: 'api-sidecar-proxy', Address: '127.0.0.1', Port: (silent.address() as net.AddressInfo).port,
    Meta: { version: 'v4' }, Proxy: { DestinationServiceName: 'api', LocalServiceAddress: '127.0.0.1', LocalServicePort: 1 },
  });
  upstream = await freePort();
  await rig.proxy(['-service', 'web', '-upstream', `api:${upstream}`]);
});

after(async () => {
  await rig?.close();
  for (const s of servers) s.close();
  for (const c of closers) c();
  await dev?.stop();
});

test('a 90/10 split: of 400 requests both versions answer, v2 within six standard deviations of 40', async () => {
  const n = 400;
  const counts = await versions(n);
  // Binomial(400, 0.1): mean 40, sd 6; outside [4, 76] has probability below 1e-8.
  assert.equal((counts.v1 ?? 0) + (counts.v2 ?? 0), n, JSON.stringify(counts));
  assert.ok((counts.v2 ?? 0) >= 4 && (counts.v2 ?? 0) <= 76, `v2 answered ${counts.v2 ?? 0} of ${n}`);
});

test('x-canary: 1 always reaches v2; the split leg that chose v2 set its header', async () => {
  assert.deepEqual(await versions(50, { 'x-canary': '1' }), { v2: 50 });
  const canary = await get('/hello', { 'x-canary': '1' });
  assert.equal(canary.headers['x-split'], undefined, 'the router sent it to v2 directly, not through the splitter');
});

test('a route rewrites its prefix and changes request and response headers; the query string is kept', async () => {
  const r = await fetch(`http://127.0.0.1:${upstream}/old/thing?q=1`, { headers: { 'x-secret': 's', 'x-keep': 'k' } });
  assert.equal(r.headers.get('x-served-by'), 'old-route');
  assert.equal(r.headers.get('content-type'), null);
  const a = (await r.json()) as Answer;
  assert.equal(a.version, 'v1');
  assert.equal(a.url, '/new/thing?q=1');
  assert.equal(a.headers['x-route'], 'old');
  assert.equal(a.headers['x-secret'], undefined);
  assert.equal(a.headers['x-keep'], 'k');
  assert.equal(a.headers['content-length'], undefined, 'a GET without a body gains no body framing');
  assert.equal(a.headers['transfer-encoding'], undefined);
});

test("an instance whose certificate is not the target service's is refused (503), as on the L4 path", async () => {
  const r = await fetch(`http://127.0.0.1:${upstream}/impostor`);
  assert.equal(r.status, 503);
  assert.equal(await r.text(), 'upstream connect error or disconnect/reset before headers. reset reason: connection failure');
});

test("an instance that never completes the handshake fails at the resolver's ConnectTimeout (503), not the route timeout", async () => {
  const r = await fetch(`http://127.0.0.1:${upstream}/blackhole`);
  assert.equal(r.status, 503);
  assert.equal(await r.text(), 'upstream connect error or disconnect/reset before headers. reset reason: connection failure');
});

test('a route retries on the status codes it lists; its request timeout answers 504', async () => {
  const r = await fetch(`http://127.0.0.1:${upstream}/flaky`, { method: 'POST', body: 'x'.repeat(1000) });
  const flaky = await r.json() as Answer;
  assert.equal(flaky.version, 'v1');
  assert.equal(flaky.calls, 2, 'the first call answered 503 and was retried');
  assert.equal(flaky.body, 1000, 'the retry sent the body again');
  const slow = await fetch(`http://127.0.0.1:${upstream}/slow`);
  assert.equal(slow.status, 504);
  assert.equal(await slow.text(), 'upstream request timeout');
});

test('a client that goes away before its answer takes the upstream request with it', async () => {
  const ac = new AbortController();
  const r = fetch(`http://127.0.0.1:${upstream}/hang`, { signal: ac.signal }).catch(() => 'aborted');
  await until('the app has the request', 10_000, async () => hangs.started === 1);
  ac.abort();
  assert.equal(await r, 'aborted');
  // Without the abort, the app would hold it until the 15 s route timeout.
  await until('the upstream request is closed', 5_000, async () => hangs.closed === 1);
});

test('a request body larger than the retry buffer streams through whole, sent chunked or with its length', async () => {
  const big = Buffer.alloc(3 * 1024 * 1024, 7);
  const sized = await fetch(`http://127.0.0.1:${upstream}/upload`, { method: 'PUT', body: big, headers: { 'x-canary': '1' } });
  assert.deepEqual(((await sized.json()) as Answer).body, big.length);
  const chunks = (async function* () { for (let i = 0; i < 3; i++) yield big.subarray(i * 1024 * 1024, (i + 1) * 1024 * 1024); })();
  const chunked = await fetch(`http://127.0.0.1:${upstream}/upload`, { method: 'POST', body: chunks, duplex: 'half' } as RequestInit);
  const a = (await chunked.json()) as Answer;
  assert.equal(a.body, big.length);
  assert.equal(a.headers['transfer-encoding'], 'chunked');
});

/** Upgrades a request on a new connection to `echo`, sends `hi`; what came back (or the refusal's status). */
function upgrade(path: string, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = http.request({ host: '127.0.0.1', port: upstream, path, headers: { connection: 'upgrade', upgrade: 'echo', ...headers }, agent: false });
    r.on('upgrade', (res, sock) => {
      sock.once('data', (d) => { resolve(`${res.statusCode} ${d.toString()}`); sock.destroy(); });
      sock.write('hi');
    });
    r.on('response', (res) => { res.resume(); resolve(`refused ${res.statusCode}`); });
    r.on('error', reject);
    r.end();
  });
}

test('an upgrade request (WebSocket-style) is routed by the chain and then spliced to the chosen instance', async () => {
  assert.equal(await upgrade('/ws', { 'x-canary': '1' }), '101 v2:hi');
  assert.equal(await upgrade('/impostor', {}), 'refused 503', 'the identity check applies to upgrades too');
});

test('changing the splitter to 0/100 moves all traffic to v2 without restarting the proxy (blue/green), and back', async () => {
  await put('/v1/config', splitter(0, 100));
  await until('v2 takes all traffic', 10_000, async () => (await versions(20)).v2 === 20);
  assert.deepEqual(await versions(100), { v2: 100 });
  assert.equal((await get('/x')).headers['x-split'], 'v2');
  await put('/v1/config', splitter(100, 0));
  await until('v1 takes all traffic', 10_000, async () => (await versions(20)).v1 === 20);
  assert.deepEqual(await versions(100), { v1: 100 });
});

test('when v1 has no healthy instance, its traffic fails over to v2; it returns once v1 is healthy', async () => {
  await put('/v1/agent/service/maintenance/api-v1-sidecar-proxy?enable=true&reason=test', undefined);
  await until('v1 traffic fails over to v2', 10_000, async () => (await versions(20)).v2 === 20);
  assert.deepEqual(await versions(50), { v2: 50 });
  await put('/v1/agent/service/maintenance/api-v1-sidecar-proxy?enable=false', undefined);
  await until('v1 answers again', 10_000, async () => (await versions(20)).v1 === 20);
});

test("a resolver's redirect sends another service's upstream to api's default subset (v1)", async () => {
  await put('/v1/config', { Kind: 'service-defaults', Name: 'legacy', Protocol: 'http' });
  await put('/v1/config', { Kind: 'service-resolver', Name: 'legacy', Redirect: { Service: 'api' } });
  const port = await freePort();
  await rig.proxy(['-service', 'web3', '-upstream', `legacy:${port}`]);
  for (let i = 0; i < 20; i++) {
    const r = await fetch(`http://127.0.0.1:${port}/from-legacy`);
    assert.equal(r.status, 200);
    const a = (await r.json()) as Answer;
    assert.equal(a.version, 'v1');
    assert.equal(a.url, '/from-legacy', "api's router does not apply to a redirect");
  }
});

test("a resolver's ring_hash balancer keeps each x-user on one instance (sticky), users spread over both", async () => {
  await put('/v1/config', { Kind: 'service-defaults', Name: 'sticky', Protocol: 'http' });
  await put('/v1/config', { Kind: 'service-resolver', Name: 'sticky', LoadBalancer: { Policy: 'ring_hash', HashPolicies: [{ Field: 'header', FieldValue: 'x-user' }] } });
  for (const name of ['s1', 's2']) {
    const [appPort, pub] = [await app(name), await freePort()];
    await put('/v1/agent/service/register', { Name: 'sticky', ID: `sticky-${name}`, Port: appPort });
    await put('/v1/agent/service/register', {
      Kind: 'connect-proxy', ID: `sticky-${name}-sidecar-proxy`, Name: 'sticky-sidecar-proxy', Address: '127.0.0.1', Port: pub,
      Proxy: { DestinationServiceName: 'sticky', DestinationServiceID: `sticky-${name}`, LocalServiceAddress: '127.0.0.1', LocalServicePort: appPort },
    });
    await rig.proxy(['-sidecar-for', `sticky-${name}`]);
  }
  const port = await freePort();
  await rig.proxy(['-service', 'web4', '-upstream', `sticky:${port}`]);
  const ask = async (user: string) => ((await (await fetch(`http://127.0.0.1:${port}/`, { headers: { 'x-user': user } })).json()) as Answer).version;
  await until('both sticky instances are known', 10_000, async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) seen.add(await ask(`probe${i}`));
    return seen.size === 2;
  });
  const homes = new Set<string>();
  for (let u = 0; u < 10; u++) {
    const first = await ask(`user${u}`);
    homes.add(first);
    for (let i = 0; i < 5; i++) assert.equal(await ask(`user${u}`), first, `user${u} stays on ${first}`);
  }
  assert.equal(homes.size, 2, 'ten users are spread over both instances');
});

test("an upstream's protocol config makes a tcp service's chain http: a service without instances answers Envoy's 503", async () => {
  const [pub, up, plain] = [await freePort(), await freePort(), await freePort()];
  await put('/v1/agent/service/register', {
    Name: 'web2', ID: 'web2', Port: 1,
    Connect: { SidecarService: { Address: '127.0.0.1', Port: pub, Proxy: { Upstreams: [
      { DestinationName: 'ghost', LocalBindPort: up, Config: { protocol: 'http' } }, { DestinationName: 'ghost2', LocalBindPort: plain, LocalBindAddress: '127.0.0.2' },
    ] } } },
  });
  await rig.proxy(['-sidecar-for', 'web2']);
  const r = await fetch(`http://127.0.0.1:${up}/`);
  assert.equal(r.status, 503);
  assert.equal(await r.text(), 'no healthy upstream');
  // A service without the override is tcp: the L4 path closes the connection.
  await assert.rejects(fetch(`http://127.0.0.2:${plain}/`));
});

test('a chain whose protocol goes back to tcp is proxied as bytes again (L4)', async () => {
  // Over L4 the impostor (v3) and the silent v4 would be picked too: they go.
  for (const id of ['api-v3-sidecar-proxy', 'api-v4-sidecar-proxy']) await put(`/v1/agent/service/deregister/${id}`, undefined);
  // A tcp chain with a router or splitter does not compile; drop them so the chain is plain tcp.
  // legacy's redirect to api (http) goes too: one chain may not mix protocols.
  for (const entry of ['service-router/api', 'service-splitter/api', 'service-resolver/legacy']) {
    const r = await fetch(`http://${dev.httpAddr}/v1/config/${entry}`, { method: 'DELETE' });
    assert.equal(r.status, 200);
  }
  await put('/v1/config', { Kind: 'service-defaults', Name: 'api', Protocol: 'tcp' });
  // Over L4 every connection goes to one random instance of api, whatever the headers say.
  const seen = new Set<string>();
  await until('plain L4 proxying reaches both instances', 10_000, async () => {
    const a = await fresh('/hello', { 'x-canary': '1' });
    if (a) seen.add(a.version);
    return seen.size === 2;
  });
});
