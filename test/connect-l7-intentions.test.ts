// L7 intentions through the built-in proxy on a dev agent: an http service `api` behind its
// sidecar, whose public listener authorizes every request (Envoy's HTTP RBAC filter), reached by
// `web` through an L7 upstream; an http2 service `rpc` authorized per stream; a tcp service `db`
// keeps per-connection authorization.
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import { freePort } from './support/ports.ts';
import { until } from './support/wait.ts';
import { exchange, ProxyRig } from './support/connect-proxy.ts';

let dev: DevAgent;
let rig: ProxyRig;
let apiUpstream = 0;
let dbUpstream = 0;
let rpcUpstream = 0;
let app: http.Server;
let rpcApp: http2.Http2Server;
/** Connections the api application has accepted (its sidecar's pool to it). */
let appConnections = 0;

async function agent(method: string, path: string, body?: unknown): Promise<void> {
  const r = await fetch(`http://${dev.httpAddr}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  assert.equal(r.status, 200, await r.text());
}

/** A request through web's upstream to api on `client` (a keep-alive agent keeps one connection). */
function call(method: string, path: string, client: http.Agent | false = false, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: apiUpstream, method, path, agent: client, headers }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(method === 'POST' ? 'payload' : undefined);
  });
}

/** An h2c stream through web's upstream to rpc: status, body, grpc-status (header or trailer) and trailers. */
function h2call(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; grpc?: string; trailers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const s = http2.connect(`http://127.0.0.1:${rpcUpstream}`);
    s.on('error', reject);
    const st = s.request({ ':path': path, ...headers });
    let status = 0;
    let grpc: string | undefined;
    let body = '';
    let trailers: Record<string, unknown> = {};
    st.on('response', (h) => { status = Number(h[':status']); grpc = h['grpc-status'] as string | undefined; });
    st.on('trailers', (t) => { trailers = t; });
    st.on('data', (d) => { body += d; });
    st.on('end', () => { s.close(); resolve({ status, body, grpc, trailers }); });
    st.on('error', (e) => { s.close(); reject(e); });
    st.end();
  });
}

function intentions(sources: unknown[]): Promise<void> {
  return agent('PUT', '/v1/config', { Kind: 'service-intentions', Name: 'api', Sources: sources });
}

before(async () => {
  dev = await startDevAgent();
  rig = new ProxyRig(dev.httpAddr);
  await agent('PUT', '/v1/config', { Kind: 'service-defaults', Name: 'api', Protocol: 'http' });
  app = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    req.resume();
    req.on('end', () => res.end(req.url === '/xfcc' ? String(req.headers['x-forwarded-client-cert']) : `${req.method} ${req.url}`));
  });
  app.on('connection', () => appConnections++);
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  const appPort = (app.address() as net.AddressInfo).port;
  const pub = await freePort();
  await agent('PUT', '/v1/agent/service/register', { Name: 'api', ID: 'api', Port: appPort });
  await agent('PUT', '/v1/agent/service/register', {
    Kind: 'connect-proxy', ID: 'api-sidecar-proxy', Name: 'api-sidecar-proxy', Address: '127.0.0.1', Port: pub,
    Proxy: { DestinationServiceName: 'api', DestinationServiceID: 'api', LocalServiceAddress: '127.0.0.1', LocalServicePort: appPort },
  });
  await rig.proxy(['-sidecar-for', 'api']);
  await agent('PUT', '/v1/config', { Kind: 'service-defaults', Name: 'rpc', Protocol: 'http2' });
  rpcApp = http2.createServer((req, res) => {
    req.resume();
    req.on('end', () => { res.addTrailers({ 'x-done': '1' }); res.end(`h2 ${req.method} ${req.url}`); });
  });
  await new Promise<void>((r) => rpcApp.listen(0, '127.0.0.1', r));
  const rpcPort = (rpcApp.address() as net.AddressInfo).port;
  await rig.proxy(['-service', 'rpc', '-service-addr', `127.0.0.1:${rpcPort}`, '-listen', `127.0.0.1:${await freePort()}`, '-register']);
  const dbEcho = await rig.echo('db');
  await rig.proxy(['-service', 'db', '-service-addr', `127.0.0.1:${dbEcho}`, '-listen', `127.0.0.1:${await freePort()}`, '-register']);
  apiUpstream = await freePort();
  dbUpstream = await freePort();
  rpcUpstream = await freePort();
  await rig.proxy(['-service', 'web', '-upstream', `api:${apiUpstream}`, '-upstream', `db:${dbUpstream}`, '-upstream', `rpc:${rpcUpstream}`]);
  await until('api answers through web', 10_000, async () => (await call('GET', '/ready').catch(() => undefined))?.status === 200);
  await until('rpc answers through web', 10_000, async () => (await h2call('/ready').catch(() => undefined))?.status === 200);
  await until('db answers through web', 10_000, async () => (await exchange(net.connect(dbUpstream, '127.0.0.1'), 'x', 4)) === 'db:x');
});

after(async () => {
  await rig?.close();
  app?.close();
  rpcApp?.close();
  await dev?.stop();
});

test('without intentions the default (ACLs off: allow) lets every request through', async () => {
  assert.deepEqual(await call('DELETE', '/anything'), { status: 200, body: 'DELETE /anything' });
});

test("the application learns the caller from x-forwarded-client-cert (Envoy's APPEND_FORWARD)", async () => {
  // web's upstream listener drops what its application sent (Envoy's SANITIZE on outbound listeners).
  const xfcc = (await call('GET', '/xfcc', false, { 'X-Forwarded-Client-Cert': 'By=spiffe://spoofed/ns/default/dc/dc1/svc/api' })).body;
  assert.match(xfcc, /^By=spiffe:\/\/[^/]+\/ns\/default\/dc\/dc1\/svc\/api;Hash=[0-9a-f]{64};Cert="-----BEGIN%20CERTIFICATE-----%0A[^"]+";Chain="[^"]+";Subject="[^"]*";URI=spiffe:\/\/[^/]+\/ns\/default\/dc\/dc1\/svc\/web(;DNS=[^;,]+)*$/);
});

test('an L7 intention allows GET /public* and denies the rest with 403 "RBAC: access denied"', async () => {
  await intentions([{ Name: 'web', Permissions: [
    { Action: 'allow', HTTP: { PathPrefix: '/public', Methods: ['GET'] } },
    { Action: 'deny', HTTP: { PathPrefix: '/' } },
  ] }]);
  await until('the intention applies', 10_000, async () => (await call('GET', '/admin')).status === 403);
  assert.deepEqual(await call('GET', '/public/x'), { status: 200, body: 'GET /public/x' });
  assert.deepEqual(await call('GET', '/admin'), { status: 403, body: 'RBAC: access denied' });
  assert.deepEqual(await call('POST', '/public'), { status: 403, body: 'RBAC: access denied' });
  // Envoy normalizes the path before RBAC (normalize_path) and forwards it so.
  for (const sneaky of ['/public/../admin', '/public/%2e%2e/admin', '/%70ublic/x']) {
    const r = await call('GET', sneaky);
    assert.deepEqual(r, sneaky === '/%70ublic/x' ? { status: 200, body: 'GET /public/x' } : { status: 403, body: 'RBAC: access denied' }, sneaky);
  }
  // Without a mesh entry saying MergeSlashes, repeated slashes stay (test/connect-mesh-http.test.ts).
  assert.deepEqual(await call('GET', '//public//y'), { status: 403, body: 'RBAC: access denied' });
});

test('a deny intention written while a connection is pooled denies the next request on it', async () => {
  const client = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    assert.equal((await call('GET', '/public/a', client)).status, 200);
    const connections = appConnections;
    await intentions([{ Name: 'web', Action: 'deny' }]);
    await until('the deny applies', 10_000, async () => (await call('GET', '/public/b', client)).status === 403);
    // The proxies kept their connections: no new one to the application was needed for the deny.
    assert.equal(appConnections, connections);
    await intentions([{ Name: 'web', Action: 'allow' }]);
    await until('the allow applies', 10_000, async () => (await call('GET', '/public/c', client)).status === 200);
    assert.equal(appConnections, connections, 'the application connection stayed pooled');
  } finally {
    client.destroy();
  }
});

test('an http2 service is authorized per stream: 403 for a denied one, gRPC status 7 for a denied gRPC call', async () => {
  await agent('PUT', '/v1/config', { Kind: 'service-intentions', Name: 'rpc', Sources: [
    { Name: 'web', Permissions: [{ Action: 'deny', HTTP: { PathPrefix: '/secret' } }] },
  ] });
  await until('the rpc intention applies', 10_000, async () => (await h2call('/secret')).status === 403);
  const ok = await h2call('/open');
  assert.deepEqual([ok.status, ok.body, ok.trailers['x-done']], [200, 'h2 GET /open', '1']);
  assert.deepEqual(await h2call('/secret'), { status: 403, body: 'RBAC: access denied', grpc: undefined, trailers: {} });
  // A stream's path is judged as Envoy normalizes it.
  assert.equal((await h2call('/open/../secret')).status, 403);
  assert.equal((await h2call('/%73ecret')).status, 403);
  const g = await h2call('/secret/Call', { 'content-type': 'application/grpc' });
  assert.equal(g.status, 200);
  assert.equal(g.grpc, '7', 'PERMISSION_DENIED');
});

test('a tcp service keeps per-connection intentions: a deny closes new connections', async () => {
  await agent('PUT', '/v1/connect/intentions/exact?source=web&destination=db', { Action: 'deny' });
  // The L4 upstream accepts the local connection, then the db sidecar refuses the mTLS one.
  await until('db refuses web', 10_000, async () => (await exchange(net.connect(dbUpstream, '127.0.0.1'), 'y', 4)) === '');
  await agent('PUT', '/v1/connect/intentions/exact?source=web&destination=db', { Action: 'allow' });
  assert.equal(await exchange(net.connect(dbUpstream, '127.0.0.1'), 'z', 4), 'db:z');
});
