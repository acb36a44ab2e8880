// The built-in proxy in namespaces, end to end on a dev agent: `api` in team-b behind its sidecar,
// `web` in team-a and `web` in team-c behind theirs, each upstream naming team-b's api
// (DestinationNamespace). Each sidecar finds its registration in its namespace (CONSUL_NAMESPACE,
// as Consul's api client reads it), gets its leaf there, dials team-b's instances checking their
// SPIFFE ID in team-b, and api's sidecar authorizes callers by the namespace in their certificate:
// `team-a/web → team-b/api allow`, `team-c/* → team-b/api deny` (L4 per connection; L7 per request
// once api speaks http).
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import { freePort } from './support/ports.ts';
import { until } from './support/wait.ts';
import { exchange, ProxyRig } from './support/connect-proxy.ts';
import type { Proxy } from '../src/connect/proxy/index.ts';

let dev: DevAgent;
let rig: ProxyRig;
let aUpstream = 0;
let cUpstream = 0;
let apiProxy: Proxy;
let webProxy: Proxy;
let app: http.Server;
let tcp: net.Server;

async function agent(method: string, path: string, body?: unknown): Promise<any> {
  const r = await fetch(`http://${dev.httpAddr}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  assert.equal(r.status, 200, text);
  return text ? JSON.parse(text) : undefined;
}

/** Registers `name` in `ns` on `appPort` with a sidecar whose upstream is team-b's api on `upstreamPort` (none when 0). */
async function registerWithSidecar(ns: string, name: string, appPort: number, upstreamPort: number): Promise<void> {
  const upstreams = upstreamPort ? [{ DestinationName: 'api', DestinationNamespace: 'team-b', LocalBindPort: upstreamPort }] : [];
  await agent('PUT', '/v1/agent/service/register', { Name: name, ID: name, Port: appPort, Namespace: ns });
  await agent('PUT', '/v1/agent/service/register', {
    Kind: 'connect-proxy', ID: `${name}-sidecar-proxy`, Name: `${name}-sidecar-proxy`, Address: '127.0.0.1', Port: await freePort(), Namespace: ns,
    Proxy: { DestinationServiceName: name, DestinationServiceID: name, LocalServiceAddress: '127.0.0.1', LocalServicePort: appPort, Upstreams: upstreams },
  });
}

/** One TCP exchange through an upstream: what came back ('' when the connection was refused or closed). */
const through = (port: number, msg: string) => exchange(net.connect(port, '127.0.0.1'), msg, msg.length + 4);

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

before(async () => {
  dev = await startDevAgent();
  rig = new ProxyRig(dev.httpAddr);
  for (const ns of ['team-a', 'team-b', 'team-c']) await agent('PUT', '/v1/namespace', { Name: ns });
  // The application behind api answers a TCP chunk as `api:<chunk>`, and HTTP once api speaks http.
  app = http.createServer((req, res) => res.end(`api ${req.method} ${req.url}`));
  tcp = net.createServer((c) => {
    c.once('data', (d) => {
      if (/^[A-Z]+ \//.test(d.toString())) {
        c.unshift(d);
        app.emit('connection', c);
      } else {
        c.write(`api:${d.toString()}`);
        c.on('data', (more) => c.write(`api:${more.toString()}`));
      }
    });
    c.on('error', () => c.destroy());
  });
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
  await registerWithSidecar('team-b', 'api', (tcp.address() as net.AddressInfo).port, 0);
  aUpstream = await freePort();
  cUpstream = await freePort();
  await registerWithSidecar('team-a', 'web', await rig.echo('web-a'), aUpstream);
  await registerWithSidecar('team-c', 'web', await rig.echo('web-c'), cUpstream);
  await agent('PUT', '/v1/config', {
    Kind: 'service-intentions', Name: 'api', Namespace: 'team-b',
    Sources: [{ Name: 'web', Namespace: 'team-a', Action: 'allow' }, { Name: '*', Namespace: 'team-c', Action: 'deny' }],
  });
  apiProxy = (await rig.proxy(['-sidecar-for', 'api'], { CONSUL_NAMESPACE: 'team-b' })).proxy;
  webProxy = (await rig.proxy(['-sidecar-for', 'web'], { CONSUL_NAMESPACE: 'team-a' })).proxy;
  await rig.proxy(['-sidecar-for', 'web'], { CONSUL_NAMESPACE: 'team-c' });
});

after(async () => {
  await rig?.close();
  app?.close();
  tcp?.close();
  await dev?.stop();
});

test('each sidecar holds a leaf for its service in its namespace', () => {
  assert.match(apiProxy.service.leafCert!.ServiceURI, /^spiffe:\/\/[^/]+\/ns\/team-b\/dc\/dc1\/svc\/api$/);
  assert.match(webProxy.service.leafCert!.ServiceURI, /^spiffe:\/\/[^/]+\/ns\/team-a\/dc\/dc1\/svc\/web$/);
  assert.deepEqual([...webProxy.upstreamAddresses.keys()], [`127.0.0.1:${aUpstream}->service:team-b/api`]);
});

test('L4: team-a/web reaches team-b/api; team-c/web is refused by the deny for its namespace', async () => {
  await until('team-a/web reaches api', 10_000, async () => (await through(aUpstream, 'x')) === 'api:x');
  assert.equal(await through(cUpstream, 'y'), '');
  // Intentions follow the caller's namespace: allowing team-c's web lets it through.
  await agent('PUT', '/v1/config', {
    Kind: 'service-intentions', Name: 'api', Namespace: 'team-b',
    Sources: [{ Name: 'web', Namespace: 'team-a', Action: 'deny' }, { Name: 'web', Namespace: 'team-c', Action: 'allow' }],
  });
  await until('team-c/web reaches api', 10_000, async () => (await through(cUpstream, 'z')) === 'api:z');
  assert.equal(await through(aUpstream, 'w'), '');
});

test('L7: once api speaks http its sidecar authorizes each request by the caller\'s ns/name', async () => {
  await agent('PUT', '/v1/config', {
    Kind: 'service-intentions', Name: 'api', Namespace: 'team-b',
    Sources: [{ Name: 'web', Namespace: 'team-a', Action: 'allow' }, { Name: '*', Namespace: 'team-c', Action: 'deny' }],
  });
  await agent('PUT', '/v1/config', { Kind: 'service-defaults', Name: 'api', Namespace: 'team-b', Protocol: 'http' });
  await until('team-a/web gets an http answer', 15_000, async () => (await get(aUpstream, '/x').catch(() => undefined))?.body === 'api GET /x');
  await until('team-c/web is refused per request', 15_000, async () => {
    const r = await get(cUpstream, '/y').catch(() => undefined);
    return r?.status === 403 && r.body === 'RBAC: access denied';
  });
});
