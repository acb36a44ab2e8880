// `proconsul connect proxy` end to end on a dev agent: two plain TCP echo services, a public
// proxy for `db` and a proxy for `web` with an upstream to db; bytes flow through mutual TLS, a
// `web → db` deny intention closes the connection, and a client with another CA's cert is refused.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, test } from 'node:test';
import { memoryIO } from '../src/cli/io.ts';
import { connectProxyCommand } from '../src/cli/connect-proxy.ts';
import type { ConsulClient } from '../src/api/index.ts';
import { publicListenerDefaults } from '../src/connect/proxy/config.ts';
import { startPublicListener } from '../src/connect/proxy/listener.ts';
import { ConnectService } from '../src/connect/proxy/service.ts';
import { silentLogger } from '../src/log.ts';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import { freePort } from './support/ports.ts';
import { until } from './support/wait.ts';
import { exchange, ProxyRig } from './support/connect-proxy.ts';
import { testCA } from './support/tls-cert.ts';

let dev: DevAgent;
let rig: ProxyRig;
let dbPublic = 0;
let webUpstream = 0;
let dbEcho = 0;
let webEcho = 0;

async function put(path: string, body: unknown): Promise<void> {
  const r = await fetch(`http://${dev.httpAddr}${path}`, { method: 'PUT', body: JSON.stringify(body) });
  assert.equal(r.status, 200, await r.text());
}

before(async () => {
  dev = await startDevAgent();
  rig = new ProxyRig(dev.httpAddr);
  dbEcho = await rig.echo('db');
  webEcho = await rig.echo('web');
  dbPublic = await freePort();
  webUpstream = await freePort();
  const db = await rig.proxy(['-service', 'db', '-service-addr', `127.0.0.1:${dbEcho}`, '-listen', `127.0.0.1:${dbPublic}`, '-register']);
  assert.match(db.io.out, /Public listener: 127\.0\.0\.1:\d+ => 127\.0\.0\.1:\d+/);
  await rig.proxy(['-service', 'web', '-upstream', `db:${webUpstream}`]);
  // -register put db-proxy in the catalog as a passing connect-proxy for db.
  for (let i = 0; i < 100; i++) {
    const list = await (await fetch(`http://${dev.httpAddr}/v1/health/connect/db?passing`)).json() as unknown[];
    if (list.length > 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
});

after(async () => {
  await rig?.close();
  await dev?.stop();
});

test('bytes flow from web\'s upstream listener through mTLS to db\'s echo service', async () => {
  const socket = net.connect(webUpstream, '127.0.0.1');
  const got = await exchange(socket, 'hello', 'db:hello'.length);
  socket.destroy();
  assert.equal(got, 'db:hello');
});

test('a web → db deny intention closes the connection; allowing it again lets bytes through', async () => {
  await put('/v1/connect/intentions/exact?source=web&destination=db', { Action: 'deny' });
  const denied = net.connect(webUpstream, '127.0.0.1');
  assert.equal(await exchange(denied, 'blocked', 1), '');
  await put('/v1/connect/intentions/exact?source=web&destination=db', { Action: 'allow' });
  const allowed = net.connect(webUpstream, '127.0.0.1');
  assert.equal(await exchange(allowed, 'again', 'db:again'.length), 'db:again');
  allowed.destroy();
});

async function leafOf(service: string): Promise<{ CertPEM: string; PrivateKeyPEM: string }> {
  return await (await fetch(`http://${dev.httpAddr}/v1/agent/connect/ca/leaf/${service}`)).json() as { CertPEM: string; PrivateKeyPEM: string };
}

/** Opens mTLS to a public listener (db's by default) with `cert`/`key`, sends a line; what came back, or the error. */
function direct(cert: string, key: string, port = dbPublic): Promise<string | Error> {
  return new Promise((resolve) => {
    let got = '';
    const s = tls.connect({ host: '127.0.0.1', port, cert, key, rejectUnauthorized: false });
    s.on('secureConnect', () => s.write('direct'));
    s.on('data', (d) => { got += d.toString(); if (got.length >= 'db:direct'.length) { s.destroy(); resolve(got); } });
    s.on('error', (e) => resolve(e));
    s.on('close', () => resolve(got || new Error('closed')));
  });
}

test('a client whose certificate comes from another CA is refused; web\'s own leaf is let through', async () => {
  const leaf = await leafOf('web');
  assert.equal(await direct(leaf.CertPEM, leaf.PrivateKeyPEM), 'db:direct');
  // The same SPIFFE ID as web's leaf, which the agent would authorize: only the chain refuses it.
  const uri = new X509Certificate(leaf.CertPEM).subjectAltName!.replace(/^URI:/, '');
  const other = await (await testCA('Other CA')).issue('web', 'client', [], undefined, [uri]);
  const res = await direct(other.cert, other.key);
  assert.ok(res instanceof Error, `refused, got ${String(res)}`);
});

test('-sidecar-for runs the connect-proxy registered for the service: its port, local service and upstreams', async () => {
  const [pub, up] = [await freePort(), await freePort()];
  await put('/v1/agent/service/register', { Name: 'api', ID: 'api-1', Port: webEcho });
  await put('/v1/agent/service/register', {
    Kind: 'connect-proxy', ID: 'api-1-sidecar-proxy', Name: 'api-sidecar-proxy', Address: '127.0.0.1', Port: pub,
    Proxy: { DestinationServiceName: 'api', DestinationServiceID: 'api-1', LocalServiceAddress: '127.0.0.1', LocalServicePort: webEcho, Upstreams: [{ DestinationName: 'db', LocalBindPort: up }] },
  });
  const { io } = await rig.proxy(['-sidecar-for', 'api-1']);
  assert.match(io.out, /Configuration mode: Agent API\n {8}Sidecar for ID: api-1\n {14}Proxy ID: api-1-sidecar-proxy\n/);
  const dbLeaf = await leafOf('db');
  assert.equal(await direct(dbLeaf.CertPEM, dbLeaf.PrivateKeyPEM, pub), 'web:direct');
  const socket = net.connect(up, '127.0.0.1');
  assert.equal(await exchange(socket, 'via-sidecar', 'db:via-sidecar'.length), 'db:via-sidecar');
  socket.destroy();
});

test('-sidecar-for runs the sidecar a connect.sidecar_service registration made', async () => {
  const [pub, up] = [await freePort(), await freePort()];
  await put('/v1/agent/service/register', {
    Name: 'pay', ID: 'pay', Port: webEcho,
    Connect: { SidecarService: { Address: '127.0.0.1', Port: pub, Proxy: { Upstreams: [{ DestinationName: 'db', LocalBindPort: up }] } } },
  });
  const { io, proxy } = await rig.proxy(['-sidecar-for', 'pay']);
  assert.match(io.out, / {14}Proxy ID: pay-sidecar-proxy\n/);
  assert.equal(proxy.config.ProxiedServiceName, 'pay');
  const dbLeaf = await leafOf('db');
  assert.equal(await direct(dbLeaf.CertPEM, dbLeaf.PrivateKeyPEM, pub), 'web:direct');
  const socket = net.connect(up, '127.0.0.1');
  assert.equal(await exchange(socket, 'pay', 'db:pay'.length), 'db:pay');
  socket.destroy();
  // A re-registration that adds an upstream (to api, whose sidecar the test above started) reaches the running proxy through its blocking watch.
  const up2 = await freePort();
  await put('/v1/agent/service/register', {
    Name: 'pay', ID: 'pay', Port: webEcho,
    Connect: { SidecarService: { Address: '127.0.0.1', Port: pub, Proxy: { Upstreams: [{ DestinationName: 'db', LocalBindPort: up }, { DestinationName: 'api', LocalBindAddress: '127.0.0.3', LocalBindPort: up2 }] } } },
  });
  await until('the added upstream listens', 10_000, async () => proxy.upstreamAddresses.has(`127.0.0.3:${up2}->service:default/api`));
  const second = net.connect(up2, '127.0.0.3');
  assert.equal(await exchange(second, 'added', 'web:added'.length), 'web:added', 'api (the earlier test\'s sidecar) answers with the web echo');
  second.destroy();
});

test('-sidecar-for with no registered sidecar, or several, fails with Consul\'s texts', async () => {
  const io = memoryIO({ env: { CONSUL_HTTP_ADDR: dev.httpAddr } });
  assert.equal(await connectProxyCommand.run(['-sidecar-for', 'nobody'], io), 1);
  assert.equal(io.err, '==> Error preparing configuration: No sidecar proxy registered for nobody\n');
  for (const id of ['x-proxy-a', 'x-proxy-b']) {
    await put('/v1/agent/service/register', { Kind: 'connect-proxy', ID: id, Name: 'x-proxy', Port: 1, Proxy: { DestinationServiceName: 'x', DestinationServiceID: 'x-1' } });
  }
  const io2 = memoryIO({ env: { CONSUL_HTTP_ADDR: dev.httpAddr } });
  assert.equal(await connectProxyCommand.run(['-sidecar-for', 'x-1'], io2), 1);
  assert.match(io2.err, /^==> Error preparing configuration: More than one sidecar proxy registered for x-1\.\n {4}Start proxy with -proxy-id and one of the following IDs: x-proxy-[ab], x-proxy-[ab]\n$/);
});

test('a renewed leaf (a blocking leaf read that answers) is presented to new connections', async () => {
  const get = async (path: string): Promise<any> => await (await fetch(`http://${dev.httpAddr}${path}`)).json();
  const [first, second, roots] = [await get('/v1/agent/connect/ca/leaf/db'), await get('/v1/agent/connect/ca/leaf/db-renewed'), await get('/v1/agent/connect/ca/roots')];
  let renew!: () => void;
  const renewed = new Promise<void>((r) => { renew = r; });
  const idle = (signal?: AbortSignal) => new Promise<never>((_, reject) => signal?.addEventListener('abort', () => reject(new Error('aborted'))));
  // The agent as the service sees it: a leaf whose blocking read answers once `renew()` is called.
  const client = { json: async (spec: { path: string; options?: { index?: number; signal?: AbortSignal } }) => {
    const meta = (index: number) => ({ index, knownLeader: true, lastContact: 0 });
    if (spec.path.endsWith('/authorize')) return { data: { Authorized: true, Reason: '' }, meta: meta(1) };
    const index = spec.options?.index ?? 0;
    if (spec.path.includes('/roots')) return index ? idle(spec.options?.signal) : { data: roots, meta: meta(5) };
    if (index === 0) return { data: first, meta: meta(10) };
    if (index === 10) return renewed.then(() => ({ data: second, meta: meta(11) }));
    return idle(spec.options?.signal);
  } } as unknown as ConsulClient;
  const svc = new ConnectService('db', client, silentLogger());
  svc.start();
  await svc.ready();
  const listener = await startPublicListener(svc, publicListenerDefaults({ BindAddress: '127.0.0.1', LocalServiceAddress: `127.0.0.1:${dbEcho}` }), silentLogger());
  const web = await leafOf('web');
  const presented = () => new Promise<string>((resolve, reject) => {
    const port = Number(listener.address.split(':')[1]);
    const s = tls.connect({ host: '127.0.0.1', port, cert: web.CertPEM, key: web.PrivateKeyPEM, ca: roots.Roots.map((r: { RootCert: string }) => r.RootCert), checkServerIdentity: () => undefined });
    s.on('secureConnect', () => { resolve(s.getPeerCertificate().serialNumber); s.destroy(); });
    s.on('error', reject);
  });
  const serial = (leaf: { SerialNumber: string }) => leaf.SerialNumber.replaceAll(':', '').toUpperCase().replace(/^0+/, '');
  try {
    assert.equal((await presented()).replace(/^0+/, ''), serial(first));
    const changed = new Promise<void>((r) => { const off = svc.onTlsChange(() => { off(); r(); }); });
    renew();
    await changed;
    assert.equal((await presented()).replace(/^0+/, ''), serial(second));
  } finally {
    svc.close();
    await listener.close();
  }
});

test('-register -register-id registers <service>-proxy-<id> with a passing TTL check and deregisters it on shutdown', async () => {
  const port = await freePort();
  const { proxy, stop } = await rig.proxy(['-service', 'cart', '-service-addr', `127.0.0.1:${webEcho}`, '-listen', `127.0.0.1:${port}`, '-register', '-register-id', 'a']);
  const svc = await until('the proxy is registered', 10_000, async () => {
    const r = await fetch(`http://${dev.httpAddr}/v1/agent/service/cart-proxy-a`);
    return r.status === 200 ? await r.json() as { Kind: string; Service: string; Port: number; Proxy: { DestinationServiceName: string } } : undefined;
  });
  assert.deepEqual([svc.Kind, svc.Service, svc.Port, svc.Proxy.DestinationServiceName], ['connect-proxy', 'cart-proxy', port, 'cart']);
  const checks = await (await fetch(`http://${dev.httpAddr}/v1/agent/checks`)).json() as Record<string, { Name: string; Status: string }>;
  assert.deepEqual([checks['cart-proxy-a-ttl']?.Name, checks['cart-proxy-a-ttl']?.Status], ['proxy heartbeat', 'passing']);
  assert.ok(proxy.publicAddress);
  stop();
  await until('the proxy is deregistered', 10_000, async () => (await fetch(`http://${dev.httpAddr}/v1/agent/service/cart-proxy-a`)).status === 404);
});

test('an upstream of type query (-upstream dbq.query:<port>) dials the prepared query\'s mesh answer', async () => {
  const r = await fetch(`http://${dev.httpAddr}/v1/query`, { method: 'POST', body: JSON.stringify({ Name: 'dbq', Service: { Service: 'db' } }) });
  assert.equal(r.status, 200, await r.text());
  const port = await freePort();
  await rig.proxy(['-service', 'web', '-upstream', `dbq.query:${port}`]);
  const socket = net.connect(port, '127.0.0.1');
  assert.equal(await exchange(socket, 'q', 'db:q'.length), 'db:q');
  socket.destroy();
});
