// L7 intentions through the built-in proxy on a dev agent: an http service `api` behind its
// sidecar, whose public listener authorizes every request (Envoy's HTTP RBAC filter), reached by
// `web` through an L7 upstream; a tcp service `db` keeps per-connection authorization.
import assert from 'node:assert/strict';
import http from 'node:http';
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
let app: http.Server;
/** Connections the api application has accepted (its sidecar's pool to it). */
let appConnections = 0;

async function agent(method: string, path: string, body?: unknown): Promise<void> {
  const r = await fetch(`http://${dev.httpAddr}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  assert.equal(r.status, 200, await r.text());
}

/** A request through web's upstream to api on `client` (a keep-alive agent keeps one connection). */
function call(method: string, path: string, client: http.Agent | false = false): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: apiUpstream, method, path, agent: client }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(method === 'POST' ? 'payload' : undefined);
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
    req.on('end', () => res.end(`${req.method} ${req.url}`));
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
  const dbEcho = await rig.echo('db');
  await rig.proxy(['-service', 'db', '-service-addr', `127.0.0.1:${dbEcho}`, '-listen', `127.0.0.1:${await freePort()}`, '-register']);
  apiUpstream = await freePort();
  dbUpstream = await freePort();
  await rig.proxy(['-service', 'web', '-upstream', `api:${apiUpstream}`, '-upstream', `db:${dbUpstream}`]);
  await until('api answers through web', 10_000, async () => (await call('GET', '/ready').catch(() => undefined))?.status === 200);
  await until('db answers through web', 10_000, async () => (await exchange(net.connect(dbUpstream, '127.0.0.1'), 'x', 4)) === 'db:x');
});

after(async () => {
  await rig?.close();
  app?.close();
  await dev?.stop();
});

test('without intentions the default (ACLs off: allow) lets every request through', async () => {
  assert.deepEqual(await call('DELETE', '/anything'), { status: 200, body: 'DELETE /anything' });
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

test('a tcp service keeps per-connection intentions: a deny closes new connections', async () => {
  await agent('PUT', '/v1/connect/intentions/exact?source=web&destination=db', { Action: 'deny' });
  // The L4 upstream accepts the local connection, then the db sidecar refuses the mTLS one.
  await until('db refuses web', 10_000, async () => (await exchange(net.connect(dbUpstream, '127.0.0.1'), 'y', 4)) === '');
  await agent('PUT', '/v1/connect/intentions/exact?source=web&destination=db', { Action: 'allow' });
  assert.equal(await exchange(net.connect(dbUpstream, '127.0.0.1'), 'z', 4), 'db:z');
});
