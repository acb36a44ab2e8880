// An ingress gateway of the built-in data plane end to end on a dev agent: `web` and `api` (two
// versions behind a resolver) are HTTP services and `db` a TCP echo service, each behind its
// sidecar. The gateway, registered and run by `connect envoy -gateway ingress -register`, serves
// an http listener routing by Host to web (its own host, with header changes) and api (its
// default `api.ingress.*` domains) and a tcp listener to db; a splitter on api applies through
// it, a deny intention from the gateway refuses, and a listener added to the entry opens
// without a restart; a TLS listener serves the gateway's Connect CA leaf with the hosts as DNS SANs.
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import { exchange, ProxyRig } from './support/connect-proxy.ts';
import { echoApp, getWithHost as get, startGatewayCommand, type GatewayCommand } from './support/gateway-command.ts';
import { freePort } from './support/ports.ts';
import { until } from './support/wait.ts';

let dev: DevAgent;
let rig: ProxyRig;
let httpPort = 0;
let tcpPort = 0;
let gwPort = 0;
let adminPort = 0;
let gateway: GatewayCommand;
const servers: http.Server[] = [];
const h2servers: http2.Http2Server[] = [];

async function put(p: string, body: unknown): Promise<void> {
  const r = await fetch(`http://${dev.httpAddr}${p}`, { method: 'PUT', body: JSON.stringify(body) });
  assert.equal(r.status, 200, await r.text());
}

const app = (tag: string) => echoApp(tag, servers);

/** Registers `name` (instance `id`) on `appPort` with its sidecar, and runs the sidecar. */
async function meshService(name: string, id: string, appPort: number, meta: Record<string, string> = {}): Promise<void> {
  const pub = await freePort();
  await put('/v1/agent/service/register', { Name: name, ID: id, Address: '127.0.0.1', Port: appPort, Meta: meta });
  await put('/v1/agent/service/register', {
    Kind: 'connect-proxy', ID: `${id}-sidecar-proxy`, Name: `${name}-sidecar-proxy`, Address: '127.0.0.1', Port: pub, Meta: meta,
    Proxy: { DestinationServiceName: name, DestinationServiceID: id, LocalServiceAddress: '127.0.0.1', LocalServicePort: appPort },
  });
  await rig.proxy(['-sidecar-for', id]);
}

async function tcp(port: number, msg: string): Promise<string> {
  const s = net.connect(port, '127.0.0.1');
  s.on('error', () => undefined);
  const got = await exchange(s, msg, `db:${msg}`.length);
  s.destroy();
  return got;
}

function entry(extra: unknown[] = []) {
  return {
    Kind: 'ingress-gateway', Name: 'ingress',
    Listeners: [
      {
        Port: httpPort, Protocol: 'http', Services: [
          { Name: 'web', Hosts: ['web.example.com'], RequestHeaders: { Set: { 'x-gw': 'ingress' }, Remove: ['x-secret'] }, ResponseHeaders: { Add: { 'x-from': 'gateway' } } },
          { Name: 'api' },
        ],
      },
      { Port: tcpPort, Protocol: 'tcp', Services: [{ Name: 'db' }] },
      ...extra,
    ],
  };
}

before(async () => {
  dev = await startDevAgent();
  rig = new ProxyRig(dev.httpAddr);
  for (const name of ['web', 'api']) await put('/v1/config', { Kind: 'service-defaults', Name: name, Protocol: 'http' });
  await put('/v1/config', {
    Kind: 'service-resolver', Name: 'api', DefaultSubset: 'v1',
    Subsets: { v1: { Filter: 'Service.Meta.version == v1' }, v2: { Filter: 'Service.Meta.version == v2' } },
  });
  await meshService('web', 'web', await app('web'));
  await meshService('api', 'api-v1', await app('api-v1'), { version: 'v1' });
  await meshService('api', 'api-v2', await app('api-v2'), { version: 'v2' });
  await meshService('db', 'db', await rig.echo('db'));
  await put('/v1/config', { Kind: 'service-defaults', Name: 'streams', Protocol: 'http2' });
  const h2app = http2.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ tag: 'streams', headers: req.headers }));
  });
  h2servers.push(h2app);
  await meshService('streams', 'streams', await new Promise<number>((resolve) => h2app.listen(0, '127.0.0.1', () => resolve((h2app.address() as net.AddressInfo).port))));
  [httpPort, tcpPort, gwPort, adminPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  await put('/v1/config', entry());

  gateway = await startGatewayCommand(dev.httpAddr, ['-gateway', 'ingress', '-register', '-service', 'ingress', '-address', `127.0.0.1:${gwPort}`], adminPort, 'ingress gateway');
});

after(async () => {
  await gateway?.stop();
  await rig.close();
  for (const s of servers) s.close();
  for (const s of h2servers) s.close();
  await dev.stop();
});

test('-register registers Kind ingress-gateway; its TCP check passes on the LAN address and health/ingress lists it for its services', async () => {
  assert.match(gateway.io.out, /Registered service: ingress/);
  const svc = await (await fetch(`http://${dev.httpAddr}/v1/agent/service/ingress`)).json() as { Kind: string; Port: number };
  assert.equal(svc.Kind, 'ingress-gateway');
  assert.equal(svc.Port, gwPort);
  const list = await until('the gateway to pass its check', 30_000, async () => {
    const l = await (await fetch(`http://${dev.httpAddr}/v1/health/ingress/api?passing`)).json() as { Service: { Service: string } }[];
    return l.length ? l : undefined;
  });
  assert.deepEqual(list.map((e) => e.Service.Service), ['ingress']);
});

test('the http listener routes by Host: web by its own host with header changes, api by api.ingress.*; an unknown host is 404', async () => {
  const web = await until('web through the gateway', 20_000, async () => {
    const a = await get(httpPort, 'web.example.com');
    return a.status === 200 ? a : undefined;
  });
  assert.equal(web.app?.tag, 'web');
  assert.equal(web.app?.headers['x-gw'], 'ingress');
  assert.equal(web.headers['x-from'], 'gateway');
  // With the listener's port, as a client sends it.
  assert.equal((await get(httpPort, `web.example.com:${httpPort}`)).app?.tag, 'web');
  const api = await until('api through the gateway', 20_000, async () => {
    const a = await get(httpPort, `api.ingress.consul:${httpPort}`);
    return a.status === 200 ? a : undefined;
  });
  assert.equal(api.app?.tag, 'api-v1');
  assert.equal(api.app?.headers['x-gw'], undefined);
  assert.equal(api.headers['x-from'], undefined);
  const none = await get(httpPort, 'nobody.example.com');
  assert.equal(none.status, 404);
  assert.equal(none.body, '');
});

test('the tcp listener forwards to db over mTLS', async () => {
  assert.equal(await until('db through the gateway', 20_000, async () => (await tcp(tcpPort, 'hello')) || undefined), 'db:hello');
});

test('a splitter on api applies through the gateway', async () => {
  await put('/v1/config', { Kind: 'service-splitter', Name: 'api', Splits: [{ Weight: 0, ServiceSubset: 'v1' }, { Weight: 100, ServiceSubset: 'v2' }] });
  await until('api requests to go to v2', 20_000, async () => (await get(httpPort, 'api.ingress.consul')).app?.tag === 'api-v2');
  for (let i = 0; i < 5; i++) assert.equal((await get(httpPort, 'api.ingress.consul')).app?.tag, 'api-v2');
});

test('a deny intention from the gateway to db refuses new connections; allowing again lets them through', async () => {
  await put('/v1/connect/intentions/exact?source=ingress&destination=db', { Action: 'deny' });
  await until('db to refuse the gateway', 20_000, async () => (await tcp(tcpPort, 'denied')) === '');
  await put('/v1/connect/intentions/exact?source=ingress&destination=db', { Action: 'allow' });
  assert.equal(await until('db to accept the gateway again', 20_000, async () => (await tcp(tcpPort, 'again')) || undefined), 'db:again');
});

test('a listener added to the entry opens without a restart, with the default domains of its service', async () => {
  const extra = await freePort();
  await put('/v1/config', entry([{ Port: extra, Protocol: 'http', Services: [{ Name: 'web' }] }]));
  const a = await until('the new listener to serve web', 20_000, async () => {
    const r = await get(extra, 'web.ingress.example').catch(() => undefined);
    return r?.status === 200 ? r : undefined;
  });
  assert.equal(a.app?.tag, 'web');
  // The new listener has no Hosts for web, so none of the first listener's header changes.
  assert.equal(a.app?.headers['x-gw'], undefined);
  await put('/v1/config', entry());
  await until('the listener to close again', 20_000, async () => (await get(extra, 'web.ingress.example').then(() => false, () => true)));
});

test('a TLS listener serves a Connect CA leaf with the services\' hosts and *.ingress.consul as DNS SANs', async () => {
  const secure = await freePort();
  await put('/v1/config', entry([{ Port: secure, Protocol: 'http', TLS: { Enabled: true }, Services: [{ Name: 'web', Hosts: ['secure.example.com'] }] }]));
  const roots = await (await fetch(`http://${dev.httpAddr}/v1/agent/connect/ca/roots`)).json() as { Roots: { RootCert: string }[] };
  const ca = roots.Roots.map((r) => r.RootCert);
  const tlsGet = (host: string) => new Promise<{ status: number; body: string; sans: string }>((resolve, reject) => {
    https.get({ host: '127.0.0.1', port: secure, path: '/', servername: host, headers: { host }, ca, agent: false }, (res) => {
      let body = '';
      const sans = (res.socket as import('node:tls').TLSSocket).getPeerCertificate().subjectaltname ?? '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, sans }));
    }).on('error', reject);
  });
  const a = await until('web over TLS', 20_000, async () => {
    const r = await tlsGet('secure.example.com').catch(() => undefined);
    return r?.status === 200 ? r : undefined;
  });
  assert.equal((JSON.parse(a.body) as { tag: string }).tag, 'web');
  assert.match(a.sans, /DNS:secure\.example\.com/);
  assert.match(a.sans, /DNS:\*\.ingress\.consul/);
  assert.match(a.sans, /URI:spiffe:\/\/[^/]+\/ns\/default\/dc\/dc1\/svc\/ingress/);
  // The default domains of a service are covered by the wildcard SAN.
  await put('/v1/config', entry([{ Port: secure, Protocol: 'http', TLS: { Enabled: true }, Services: [{ Name: 'web' }] }]));
  const b = await until('web.ingress.consul over TLS', 20_000, async () => {
    const r = await tlsGet('web.ingress.consul').catch(() => undefined);
    return r?.status === 200 ? r : undefined;
  });
  assert.equal((JSON.parse(b.body) as { tag: string }).tag, 'web');
  await put('/v1/config', entry());
});

test('an http2 listener routes each stream by its :authority over h2c, with the response header changes', async () => {
  const port = await freePort();
  await put('/v1/config', entry([{ Port: port, Protocol: 'http2', Services: [{ Name: 'streams', ResponseHeaders: { Set: { 'x-h2': 'gw' } } }] }]));
  const ask = (authority: string) => new Promise<{ status: number; body: string; headers: http2.IncomingHttpHeaders }>((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const req = session.request({ ':path': '/', ':authority': authority });
    let body = '';
    let headers: http2.IncomingHttpHeaders = {};
    req.on('response', (h) => { headers = h; });
    req.on('data', (d) => { body += d; });
    req.on('end', () => { session.close(); resolve({ status: Number(headers[':status']), body, headers }); });
    req.on('error', reject);
    req.end();
  });
  const a = await until('streams over h2c', 20_000, async () => {
    const r = await ask('streams.ingress.consul').catch(() => undefined);
    return r?.status === 200 ? r : undefined;
  });
  assert.equal((JSON.parse(a.body) as { tag: string }).tag, 'streams');
  assert.equal(a.headers['x-h2'], 'gw');
  assert.equal((await ask('nobody.example.com')).status, 404);
  // With TLS: h2 negotiated by ALPN, the Connect CA leaf covering streams.ingress.consul.
  const secure = await freePort();
  await put('/v1/config', entry([{ Port: secure, Protocol: 'http2', TLS: { Enabled: true }, Services: [{ Name: 'streams' }] }]));
  const roots = await (await fetch(`http://${dev.httpAddr}/v1/agent/connect/ca/roots`)).json() as { Roots: { RootCert: string }[] };
  const overTls = () => new Promise<{ status: number; body: string }>((resolve, reject) => {
    const session = http2.connect(`https://127.0.0.1:${secure}`, { ca: roots.Roots.map((r) => r.RootCert), servername: 'streams.ingress.consul' });
    session.on('error', reject);
    const req = session.request({ ':path': '/', ':authority': 'streams.ingress.consul' });
    let body = '';
    let status = 0;
    req.on('response', (h) => { status = Number(h[':status']); });
    req.on('data', (d) => { body += d; });
    req.on('end', () => { session.close(); resolve({ status, body }); });
    req.on('error', reject);
    req.end();
  });
  const b = await until('streams over h2 with TLS', 20_000, async () => {
    const r = await overTls().catch(() => undefined);
    return r?.status === 200 ? r : undefined;
  });
  assert.equal((JSON.parse(b.body) as { tag: string }).tag, 'streams');
  await put('/v1/config', entry());
});

test('a wildcard service on an http listener serves every linked service by its default domains', async () => {
  const port = await freePort();
  await put('/v1/config', entry([{ Port: port, Protocol: 'http', Services: [{ Name: '*', RequestHeaders: { Add: { 'x-wild': '1' } } }] }]));
  const a = await until('api through the wildcard listener', 20_000, async () => {
    const r = await get(port, `api.ingress.consul:${port}`).catch(() => undefined);
    return r?.status === 200 ? r : undefined;
  });
  assert.match(a.app?.tag ?? '', /^api-v[12]$/);
  assert.equal(a.app?.headers['x-wild'], '1');
  assert.equal((await get(port, 'web.ingress.dc1.consul')).app?.tag, 'web');
  assert.equal((await get(port, 'nobody.ingress.consul')).status, 404);
  await put('/v1/config', entry());
});

test('the agent leaf signs only the DNS SANs the ingress-gateway entry allows, and only for an ingress gateway', async () => {
  const leaf = (svc: string, sans: string[]) => fetch(`http://${dev.httpAddr}/v1/agent/connect/ca/leaf/${svc}?${sans.map((s) => `dns-san=${encodeURIComponent(s)}`).join('&')}`);
  const sansOf = async (r: Response) => new (await import('node:crypto')).X509Certificate(((await r.json()) as { CertPEM: string }).CertPEM).subjectAltName ?? '';
  // Hosts the entry lists and the *.ingress forms Consul adds are signed.
  const ok = await leaf('ingress', ['web.example.com', '*.ingress.consul', '*.ingress.dc1.consul']);
  assert.equal(ok.status, 200);
  assert.match(await sansOf(ok), /DNS:web\.example\.com/);
  // A name the entry does not list is refused, alone or beside allowed ones.
  for (const sans of [['bank.example.com'], ['web.example.com', 'bank.example.com'], ['*.example.com']]) {
    const r = await leaf('ingress', sans);
    assert.equal(r.status, 403, sans.join(','));
    assert.match(await r.text(), /Permission denied/);
  }
  // A service that is not an ingress gateway gets no DNS SAN at all, even a gateway's host.
  const web = await leaf('web', ['web.example.com']);
  assert.equal(web.status, 403);
  await web.text();
  // Without dns-san the plain leaf is unchanged.
  const plain = await leaf('web', []);
  assert.equal(plain.status, 200);
  assert.doesNotMatch(await sansOf(plain), /DNS:/);
});

test('an http2 listener takes HTTP/1.1 clients too (Envoy\'s AUTO codec; ALPN h2 and http/1.1 with TLS), routed by Host through the http2 chain', async () => {
  const port = await freePort();
  const secure = await freePort();
  await put('/v1/config', entry([
    { Port: port, Protocol: 'http2', Services: [{ Name: 'streams', ResponseHeaders: { Set: { 'x-h2': 'gw' } } }] },
    { Port: secure, Protocol: 'http2', TLS: { Enabled: true }, Services: [{ Name: 'streams' }] },
  ]));
  const a = await until('streams over HTTP/1.1 on the h2c listener', 20_000, async () => {
    const r = await get(port, 'streams.ingress.consul').catch(() => undefined);
    return r?.status === 200 ? r : undefined;
  });
  assert.equal(a.app?.tag, 'streams');
  assert.equal(a.headers['x-h2'], 'gw');
  assert.equal((await get(port, 'nobody.example.com')).status, 404);
  const roots = await (await fetch(`http://${dev.httpAddr}/v1/agent/connect/ca/roots`)).json() as { Roots: { RootCert: string }[] };
  const ca = roots.Roots.map((r) => r.RootCert);
  const overTls = (ALPNProtocols?: string[]) => new Promise<{ status: number; body: string; alpn: string | false }>((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port: secure, path: '/', servername: 'streams.ingress.consul', headers: { host: 'streams.ingress.consul' }, ca, agent: false, ...(ALPNProtocols ? { ALPNProtocols } : {}) }, (res) => {
      let body = '';
      const alpn = (res.socket as import('node:tls').TLSSocket).alpnProtocol ?? false;
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, alpn }));
    });
    req.on('error', reject);
  });
  for (const alpn of [undefined, ['http/1.1']]) {
    const b = await until(`streams over HTTP/1.1 with TLS (ALPN ${String(alpn)})`, 20_000, async () => {
      const r = await overTls(alpn).catch(() => undefined);
      return r?.status === 200 ? r : undefined;
    });
    assert.equal((JSON.parse(b.body) as { tag: string }).tag, 'streams');
    if (alpn) assert.equal(b.alpn, 'http/1.1');
  }
  await put('/v1/config', entry());
});
