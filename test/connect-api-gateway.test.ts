// An API gateway of the built-in data plane end to end on a dev agent: `web`, `admin`, `shop` and
// `shop-canary` are HTTP services and `db` a TCP echo service, each behind its sidecar. The gateway,
// registered and run by `connect envoy -gateway api -register`, serves an http listener whose
// http-route routes by path and header, splits 90/10 between shop and shop-canary, changes headers
// and rewrites paths; a tcp listener with a tcp-route to db; a TLS listener with an inline
// certificate; route changes apply live; a route naming another gateway is not bound.
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { after, before, test } from 'node:test';
import { connectEnvoyCommand, runConnectEnvoy } from '../src/cli/connect-envoy.ts';
import { parseFlags } from '../src/cli/flags.ts';
import { memoryIO } from '../src/cli/io.ts';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import { exchange, ProxyRig } from './support/connect-proxy.ts';
import { echoApp, getWithHost as get, startGatewayCommand, type Answer, type GatewayCommand } from './support/gateway-command.ts';
import { freePort } from './support/ports.ts';
import { testCA } from './support/tls-cert.ts';
import { until } from './support/wait.ts';

let dev: DevAgent;
let rig: ProxyRig;
let httpPort = 0;
let tcpPort = 0;
let gwPort = 0;
let adminPort = 0;
let gateway: GatewayCommand;
const servers: http.Server[] = [];

async function put(p: string, body: unknown): Promise<void> {
  const r = await fetch(`http://${dev.httpAddr}${p}`, { method: 'PUT', body: JSON.stringify(body) });
  assert.equal(r.status, 200, await r.text());
}

/** Registers `name` on `appPort` with its sidecar, and runs the sidecar. */
async function meshService(name: string, appPort: number): Promise<void> {
  const pub = await freePort();
  await put('/v1/agent/service/register', { Name: name, ID: name, Address: '127.0.0.1', Port: appPort });
  await put('/v1/agent/service/register', {
    Kind: 'connect-proxy', ID: `${name}-sidecar-proxy`, Name: `${name}-sidecar-proxy`, Address: '127.0.0.1', Port: pub,
    Proxy: { DestinationServiceName: name, DestinationServiceID: name, LocalServiceAddress: '127.0.0.1', LocalServicePort: appPort },
  });
  await rig.proxy(['-sidecar-for', name]);
}

/** The first answer with status 200 within 20 s. */
const served = (what: string, ask: () => Promise<Answer>) => until(what, 20_000, async () => {
  const a = await ask().catch(() => undefined);
  return a?.status === 200 ? a : undefined;
});

function gatewayEntry(extra: unknown[] = []) {
  return {
    Kind: 'api-gateway', Name: 'api-gw',
    Listeners: [{ Name: 'web', Port: httpPort, Protocol: 'http' }, { Name: 'db', Port: tcpPort, Protocol: 'tcp' }, ...extra],
  };
}

function mainRoute(rules: unknown[] = []) {
  return {
    Kind: 'http-route', Name: 'main', Parents: [{ Kind: 'api-gateway', Name: 'api-gw', SectionName: 'web' }],
    Rules: [
      ...rules,
      {
        Matches: [{ Path: { Match: 'prefix', Value: '/admin' }, Headers: [{ Match: 'exact', Name: 'x-role', Value: 'ops' }] }],
        Filters: { URLRewrite: { Path: '/' } },
        Services: [{ Name: 'admin' }],
      },
      { Matches: [{ Path: { Match: 'prefix', Value: '/shop' } }], Services: [{ Name: 'shop', Weight: 90 }, { Name: 'shop-canary', Weight: 10 }] },
      { Matches: [{ Path: { Match: 'prefix', Value: '/flaky' } }], Filters: { RetryFilter: { NumRetries: 2, RetryOnStatusCodes: [503] } }, Services: [{ Name: 'flaky' }] },
      {
        Filters: { Headers: [{ Set: { 'x-gw': 'api' }, Remove: ['x-secret'] }] },
        ResponseFilters: { Headers: [{ Add: { 'x-from': 'api-gateway' } }] },
        Services: [{ Name: 'web' }],
      },
    ],
  };
}

before(async () => {
  dev = await startDevAgent();
  rig = new ProxyRig(dev.httpAddr);
  for (const name of ['web', 'admin', 'shop', 'shop-canary']) {
    await put('/v1/config', { Kind: 'service-defaults', Name: name, Protocol: 'http' });
    await meshService(name, await echoApp(name, servers));
  }
  await meshService('db', await rig.echo('db'));
  // flaky answers every other request with a 503.
  let attempts = 0;
  const flaky = http.createServer((req, res) => { res.writeHead(++attempts % 2 === 1 ? 503 : 200).end(String(attempts)); });
  servers.push(flaky);
  await put('/v1/config', { Kind: 'service-defaults', Name: 'flaky', Protocol: 'http' });
  await meshService('flaky', await new Promise<number>((resolve) => flaky.listen(0, '127.0.0.1', () => resolve((flaky.address() as net.AddressInfo).port))));
  // The http listener is on the registered port, as in Consul's examples: its TCP check reaches it.
  [httpPort, tcpPort, adminPort] = [await freePort(), await freePort(), await freePort()];
  gwPort = httpPort;
  await put('/v1/config', gatewayEntry());
  await put('/v1/config', mainRoute());
  await put('/v1/config', { Kind: 'tcp-route', Name: 'db', Parents: [{ Name: 'api-gw', SectionName: 'db' }], Services: [{ Name: 'db' }] });

  gateway = await startGatewayCommand(dev.httpAddr, ['-gateway', 'api', '-register', '-service', 'api-gw', '-address', `127.0.0.1:${gwPort}`], adminPort, 'API gateway');
});

after(async () => {
  await gateway?.stop();
  await rig.close();
  for (const s of servers) s.close();
  await dev.stop();
});

test('-register registers Kind api-gateway under the -service name; its TCP check passes on the listener at that port', async () => {
  assert.match(gateway.io.out, /Registered service: api-gw/);
  const svc = await (await fetch(`http://${dev.httpAddr}/v1/agent/service/api-gw`)).json() as { Kind: string; Port: number };
  assert.deepEqual([svc.Kind, svc.Port], ['api-gateway', gwPort]);
  const checks = await until('the api-gateway listening check to pass', 30_000, async () => {
    const c = await (await fetch(`http://${dev.httpAddr}/v1/agent/checks`)).json() as Record<string, { Name: string; Status: string }>;
    const mine = Object.values(c).filter((x) => x.Name === 'api-gateway listening');
    return mine.some((x) => x.Status === 'passing') ? mine : undefined;
  });
  assert.equal(checks.length, 1);
});

test('the http-route routes by path and header; the catch-all rule changes request and response headers', async () => {
  const web = await served('web through the gateway', () => get(httpPort, 'anything.example', '/page', { 'x-secret': 's' }));
  assert.deepEqual([web.app?.tag, web.app?.url, web.app?.headers['x-gw'], web.app?.headers['x-secret'], web.headers['x-from']], ['web', '/page', 'api', undefined, 'api-gateway']);
  // /admin with the header goes to admin with the prefix rewritten; without it, to the catch-all.
  const admin = await served('admin through the gateway', () => get(httpPort, 'a.example', '/admin/users?x=1', { 'x-role': 'ops' }));
  assert.deepEqual([admin.app?.tag, admin.app?.url, admin.app?.headers['x-gw'], admin.headers['x-from']], ['admin', '//users?x=1', undefined, undefined]);
  assert.equal((await get(httpPort, 'a.example', '/admin/users')).app?.tag, 'web');
});

test('a 90/10 split between shop and shop-canary sends most requests to shop and some to the canary', async () => {
  await served('shop through the gateway', () => get(httpPort, 'a.example', '/shop'));
  const counts: Record<string, number> = {};
  for (let i = 0; i < 200; i++) {
    const tag = (await get(httpPort, 'a.example', '/shop/item')).app?.tag ?? 'none';
    counts[tag] = (counts[tag] ?? 0) + 1;
  }
  assert.deepEqual(Object.keys(counts).sort(), ['shop', 'shop-canary'], JSON.stringify(counts));
  assert.ok(counts.shop > counts['shop-canary'], JSON.stringify(counts));
});

test("a rule's RetryFilter retries the service's 503s", async () => {
  await until('flaky through the gateway', 20_000, async () => (await get(httpPort, 'a.example', '/flaky').catch(() => undefined))?.status === 200);
  for (let i = 0; i < 6; i++) assert.equal((await get(httpPort, 'a.example', '/flaky')).status, 200);
});

test('the tcp-route forwards the tcp listener to db over mTLS', async () => {
  const ask = async () => {
    const s = net.connect(tcpPort, '127.0.0.1');
    s.on('error', () => undefined);
    const got = await exchange(s, 'hello', 'db:hello'.length);
    s.destroy();
    return got || undefined;
  };
  assert.equal(await until('db through the gateway', 20_000, ask), 'db:hello');
});

test('route changes apply without a restart', async () => {
  await put('/v1/config', mainRoute([{ Matches: [{ Path: { Match: 'exact', Value: '/new' } }], Services: [{ Name: 'admin' }] }]));
  await until('/new to reach admin', 20_000, async () => (await get(httpPort, 'a.example', '/new')).app?.tag === 'admin');
  await put('/v1/config', mainRoute());
  await until('/new to reach web again', 20_000, async () => (await get(httpPort, 'a.example', '/new')).app?.tag === 'web');
});

test("a regex path match's URLRewrite replaces the whole path (Envoy's prefix_rewrite on a regex route), the query kept", async () => {
  await put('/v1/config', mainRoute([{ Matches: [{ Path: { Match: 'regex', Value: '/re/[0-9]+' } }], Filters: { URLRewrite: { Path: '/num' } }, Services: [{ Name: 'admin' }] }]));
  const a = await until('/re/42 to reach admin', 20_000, async () => {
    const r = await get(httpPort, 'a.example', '/re/42?x=1');
    return r.app?.tag === 'admin' ? r : undefined;
  });
  assert.equal(a.app?.url, '/num?x=1');
  await put('/v1/config', mainRoute());
});

test('a route whose parent gateway does not exist is not bound', async () => {
  const port = await freePort();
  await put('/v1/config', gatewayEntry([{ Name: 'other', Port: port, Protocol: 'http' }]));
  await put('/v1/config', { Kind: 'http-route', Name: 'stray', Parents: [{ Name: 'no-such-gateway' }], Rules: [{ Services: [{ Name: 'admin' }] }] });
  await put('/v1/config', { Kind: 'http-route', Name: 'bound', Parents: [{ Name: 'api-gw', SectionName: 'other' }], Hostnames: ['bound.example'], Rules: [{ Services: [{ Name: 'admin' }] }] });
  const a = await served('the bound route on the new listener', () => get(port, 'bound.example'));
  assert.equal(a.app?.tag, 'admin');
  // The stray route (no hostnames: any) would answer for every other host; nothing does.
  const none = await get(port, 'stray.example');
  assert.deepEqual([none.status, none.body], [404, '']);
  // Its one route gone, the listener closes (Consul makes Envoy listeners of listeners with routes only).
  const del = await fetch(`http://${dev.httpAddr}/v1/config/http-route/bound`, { method: 'DELETE' });
  assert.equal(del.status, 200);
  await until('the listener without routes to close', 20_000, async () => (await get(port, 'bound.example').then(() => false, (e: NodeJS.ErrnoException) => e.code === 'ECONNREFUSED')));
  await put('/v1/config', gatewayEntry());
});

test('a TLS listener serves its inline certificates, each to the clients asking (SNI) for one of its names', async () => {
  const ca = await testCA();
  const certs = { secure: await ca.issue('secure.example.com', 'server', ['secure.example.com']), other: await ca.issue('other.example.com', 'server', ['*.other.example.com']) };
  for (const [name, c] of Object.entries(certs)) await put('/v1/config', { Kind: 'inline-certificate', Name: name, Certificate: c.cert, PrivateKey: c.key });
  const port = await freePort();
  const refs = [{ Kind: 'inline-certificate', Name: 'secure' }, { Name: 'other' }];
  await put('/v1/config', gatewayEntry([{ Name: 'secure', Port: port, Protocol: 'http', TLS: { Certificates: refs } }]));
  await put('/v1/config', { Kind: 'http-route', Name: 'secure', Parents: [{ Name: 'api-gw', SectionName: 'secure' }], Rules: [{ Services: [{ Name: 'web' }] }] });
  const tlsGet = (servername: string) => new Promise<Answer & { cn: string }>((resolve, reject) => {
    https.get({ host: '127.0.0.1', port, path: '/', servername, headers: { host: servername }, ca: ca.cert, agent: false, checkServerIdentity: () => undefined }, (res) => {
      let body = '';
      const cn = String((res.socket as import('node:tls').TLSSocket).getPeerCertificate().subject?.CN ?? '');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers, app: JSON.parse(body) as Answer['app'], cn }));
    }).on('error', reject);
  });
  const a = await until('web over TLS', 20_000, async () => {
    const r = await tlsGet('secure.example.com').catch(() => undefined);
    return r?.status === 200 ? r : undefined;
  });
  assert.deepEqual([a.app?.tag, a.cn], ['web', 'secure.example.com']);
  assert.equal((await tlsGet('shop.other.example.com')).cn, 'other.example.com');
  // A name no certificate covers gets the first.
  assert.equal((await tlsGet('nobody.example.org')).cn, 'secure.example.com');
  await put('/v1/config', gatewayEntry());
});

test("a TLS listener with TLS versions only serves the gateway's own Connect leaf, as Consul's TLS context does; a certificate that does not exist unaccepts the gateway, which then serves nothing", async () => {
  const [versionsOnly, missing] = [await freePort(), await freePort()];
  const versions = { Name: 'versions', Port: versionsOnly, Protocol: 'http', TLS: { MinVersion: 'TLSv1_2' } };
  await put('/v1/config', gatewayEntry([versions]));
  await put('/v1/config', { Kind: 'http-route', Name: 'leaf', Parents: [{ Name: 'api-gw', SectionName: 'versions' }, { Name: 'api-gw', SectionName: 'missing' }], Rules: [{ Services: [{ Name: 'web' }] }] });
  const uri = (port: number) => new Promise<string>((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'x.example.com', rejectUnauthorized: false }, () => {
      resolve(String(s.getPeerCertificate().subjectaltname ?? ''));
      s.end();
    });
    s.on('error', reject);
  });
  const san = await until(`TLS with the leaf on ${versionsOnly}`, 20_000, async () => (await uri(versionsOnly).catch(() => '')) || undefined);
  assert.match(san, /URI:spiffe:\/\/[^/]+\/ns\/default\/dc\/dc1\/svc\/api-gw/);
  // Consul's controller does not accept a gateway naming a certificate that does not exist, and binds no route to it.
  await put('/v1/config', gatewayEntry([versions, { Name: 'missing', Port: missing, Protocol: 'http', TLS: { Certificates: [{ Name: 'not-written' }] } }]));
  await until('the unaccepted gateway stops serving', 20_000, async () => (await uri(versionsOnly).then(() => false, () => true)) || undefined);
  await assert.rejects(uri(missing));
  await put('/v1/config', gatewayEntry());
});

test('a file-system-certificate is read from its files, and a change of the files is served without a restart', async () => {
  const ca = await testCA();
  const dir = mkdtempSync(join(tmpdir(), 'proconsul-apigw-'));
  const write = async (cn: string) => {
    const c = await ca.issue(cn, 'server', [cn]);
    writeFileSync(join(dir, 'key.pem'), c.key);
    writeFileSync(join(dir, 'cert.pem'), c.cert);
  };
  await write('files.example.com');
  await put('/v1/config', { Kind: 'file-system-certificate', Name: 'files', Certificate: join(dir, 'cert.pem'), PrivateKey: join(dir, 'key.pem') });
  const port = await freePort();
  await put('/v1/config', gatewayEntry([{ Name: 'files', Port: port, Protocol: 'http', TLS: { Certificates: [{ Kind: 'file-system-certificate', Name: 'files' }] } }]));
  await put('/v1/config', { Kind: 'http-route', Name: 'files', Parents: [{ Name: 'api-gw', SectionName: 'files' }], Rules: [{ Services: [{ Name: 'web' }] }] });
  const cn = () => new Promise<string>((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'files.example.com', ca: ca.cert, checkServerIdentity: () => undefined }, () => {
      resolve(String(s.getPeerCertificate().subject?.CN ?? ''));
      s.end();
    });
    s.on('error', reject);
  });
  assert.equal(await until('the file certificate', 20_000, async () => (await cn().catch(() => '')) || undefined), 'files.example.com');
  await write('renewed.example.com');
  await until('the renewed file certificate', 20_000, async () => (await cn().catch(() => '')) === 'renewed.example.com');
  // Files gone for a while (removed before being written again): the listener keeps the last
  // certificate read, as Envoy keeps its last secret, rather than closing. A route change applied
  // after the removal shows the gateway has planned without the files.
  rmSync(join(dir, 'key.pem'));
  await put('/v1/config', mainRoute([{ Matches: [{ Path: { Match: 'exact', Value: '/after-removal' } }], Services: [{ Name: 'admin' }] }]));
  await until('/after-removal to reach admin', 20_000, async () => (await get(httpPort, 'a.example', '/after-removal')).app?.tag === 'admin');
  assert.equal(await cn(), 'renewed.example.com');
  await write('back.example.com');
  await until('the certificate written again', 20_000, async () => (await cn().catch(() => '')) === 'back.example.com');
  await put('/v1/config', mainRoute());
  await put('/v1/config', gatewayEntry());
});

test('a file-system-certificate behind symlinks swapped at once (a Kubernetes secret volume: cert.pem -> ..data/cert.pem, ..data renamed over) is followed', async () => {
  const ca = await testCA();
  const dir = mkdtempSync(join(tmpdir(), 'proconsul-apigw-k8s-'));
  let n = 0;
  const publish = async (cn: string) => {
    const c = await ca.issue(cn, 'server', [cn]);
    const version = `..v${++n}`;
    mkdirSync(join(dir, version));
    writeFileSync(join(dir, version, 'cert.pem'), c.cert);
    writeFileSync(join(dir, version, 'key.pem'), c.key);
    symlinkSync(version, join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  };
  await publish('k8s-one.example.com');
  for (const f of ['cert.pem', 'key.pem']) symlinkSync(join('..data', f), join(dir, f));
  await put('/v1/config', { Kind: 'file-system-certificate', Name: 'k8s', Certificate: join(dir, 'cert.pem'), PrivateKey: join(dir, 'key.pem') });
  const port = await freePort();
  await put('/v1/config', gatewayEntry([{ Name: 'k8s', Port: port, Protocol: 'http', TLS: { Certificates: [{ Kind: 'file-system-certificate', Name: 'k8s' }] } }]));
  await put('/v1/config', { Kind: 'http-route', Name: 'k8s', Parents: [{ Name: 'api-gw', SectionName: 'k8s' }], Rules: [{ Services: [{ Name: 'web' }] }] });
  const cn = () => new Promise<string>((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'k8s.example.com', ca: ca.cert, checkServerIdentity: () => undefined }, () => {
      resolve(String(s.getPeerCertificate().subject?.CN ?? ''));
      s.end();
    });
    s.on('error', reject);
  });
  assert.equal(await until('the first certificate', 20_000, async () => (await cn().catch(() => '')) || undefined), 'k8s-one.example.com');
  await publish('k8s-two.example.com');
  await until('the swapped certificate', 20_000, async () => (await cn().catch(() => '')) === 'k8s-two.example.com');
  await put('/v1/config', gatewayEntry());
});

test('intentions apply with the gateway as the source: a deny from api-gw to web refuses, allowing again lets it through', async () => {
  await put('/v1/connect/intentions/exact?source=api-gw&destination=web', { Action: 'deny' });
  await until('web to refuse the gateway', 20_000, async () => (await get(httpPort, 'a.example', '/page')).status === 403);
  await put('/v1/connect/intentions/exact?source=api-gw&destination=web', { Action: 'allow' });
  await served('web to accept the gateway again', () => get(httpPort, 'a.example', '/page'));
});

test('connect envoy -proxy-id of the API gateway without -gateway says how to run it', async () => {
  const io = memoryIO({ env: { CONSUL_HTTP_ADDR: dev.httpAddr } });
  const code = await runConnectEnvoy(parseFlags(connectEnvoyCommand.flags, ['-proxy-id', 'api-gw', '-admin-bind', `127.0.0.1:${await freePort()}`]), io, new Promise(() => {}));
  assert.deepEqual([code, io.err], [1, 'api-gw is a api-gateway: run it with -gateway api -proxy-id api-gw\n']);
});
