// Sidecar service registration on a real `proconsul agent -dev` process: a config-file
// service with connect.sidecar_service and an HCL connect-proxy, an API registration, their
// catalog, health/connect and DNS answers, port allocation, deregistration and reload.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startDevAgent } from './support/agent.ts';
import { dig } from './support/dns.ts';
import { freePort } from './support/ports.ts';
import { killAll, spawnProconsul } from './support/procs.ts';
import { until, waitFor } from './support/wait.ts';

const WEB_HCL = `
service {
  name = "web"
  port = 8080
  tags = ["v1"]
  connect {
    sidecar_service {
      proxy {
        upstreams = [ { destination_name = "db", local_bind_port = 9191 } ]
      }
    }
  }
}
`;
const PROXY_HCL = `
services = [{
  name = "api-proxy"
  kind = "connect-proxy"
  port = 20500
  proxy {
    destination_service_name = "api"
    upstreams = [ { destination_name = "db", local_bind_port = 9192 } ]
  }
}]
`;

let dir = '';
let child: ChildProcess | undefined;
let base = '';
let dnsPort = 0;
let sidecarMin = 0;
let listener: net.Server | undefined;
let log = '';

async function call(method: string, p: string, body?: unknown): Promise<{ status: number; json: any; text: string }> {
  const res = await fetch(base + p, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json: unknown;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, json, text };
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-sidecar-'));
  const http = await freePort();
  dnsPort = await freePort();
  sidecarMin = await freePort();
  // The first sidecar's port answers, so its "Connect Sidecar Listening" check passes.
  listener = net.createServer((s) => s.end());
  await new Promise<void>((r) => listener!.listen(sidecarMin, '127.0.0.1', r));
  fs.writeFileSync(path.join(dir, 'ports.json'), JSON.stringify({
    ports: {
      http, dns: dnsPort, grpc: -1, grpc_tls: -1, server: await freePort(), serf_lan: await freePort(), serf_wan: await freePort(),
      sidecar_min_port: sidecarMin, sidecar_max_port: sidecarMin + 1,
    },
  }));
  fs.writeFileSync(path.join(dir, 'web.hcl'), WEB_HCL);
  fs.writeFileSync(path.join(dir, 'proxy.hcl'), PROXY_HCL);
  base = `http://127.0.0.1:${http}`;
  child = spawnProconsul(['agent', '-dev', '-node', 'sc1', '-bind', '127.0.0.1', '-client', '127.0.0.1', '-config-dir', dir], (t) => { log += t; });
  await until('the agent to answer', 20_000, async () => (await call('GET', '/v1/status/leader')).json || undefined, { retryErrors: true, context: () => log.slice(-2000) });
});

after(() => {
  killAll([child]);
  listener?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a config-file sidecar_service registers web-sidecar-proxy with Consul\'s defaults and checks', async () => {
  await waitFor('web-sidecar-proxy', async () => Boolean((await call('GET', '/v1/agent/services')).json?.['web-sidecar-proxy']));
  const sc = (await call('GET', '/v1/agent/service/web-sidecar-proxy')).json;
  assert.equal(sc.Kind, 'connect-proxy');
  assert.equal(sc.Service, 'web-sidecar-proxy');
  assert.equal(sc.Port, sidecarMin);
  assert.deepEqual(sc.Tags, ['v1']);
  assert.deepEqual(sc.Proxy, {
    DestinationServiceName: 'web', DestinationServiceID: 'web', LocalServiceAddress: '127.0.0.1', LocalServicePort: 8080,
    Upstreams: [{ DestinationType: 'service', DestinationName: 'db', LocalBindPort: 9191, MeshGateway: {} }], MeshGateway: {}, Expose: {},
  });
  const web = (await call('GET', '/v1/agent/service/web')).json;
  assert.equal(web.Connect, undefined, 'the sidecar_service block is not kept on the parent');
  const checks = (await call('GET', '/v1/agent/checks')).json;
  assert.equal(checks['service:web-sidecar-proxy:1'].Name, 'Connect Sidecar Listening');
  assert.equal(checks['service:web-sidecar-proxy:2'].Name, 'Connect Sidecar Aliasing web');
});

test('health/connect and <name>.connect DNS answer the sidecar at its assigned port', async () => {
  await waitFor('web\'s sidecar in health/connect with passing checks', async () => {
    const r = (await call('GET', '/v1/health/connect/web?passing')).json;
    return Array.isArray(r) && r.length === 1 && r[0].Service.ID === 'web-sidecar-proxy';
  }, { ms: 20_000 });
  const entry = (await call('GET', '/v1/health/connect/web')).json[0];
  assert.equal(entry.Service.Port, sidecarMin);
  assert.equal(entry.Service.Proxy.DestinationServiceName, 'web');
  const srv = await dig(dnsPort, 'web.connect.consul', 'SRV');
  assert.equal(srv.status, 'NOERROR');
  assert.equal(srv.answer.length, 1);
  assert.equal(srv.answer[0][6], String(sidecarMin));
});

test('an HCL connect-proxy keeps its proxy block in the agent, the catalog and health/connect', async () => {
  const agent = (await call('GET', '/v1/agent/service/api-proxy')).json;
  assert.deepEqual(agent.Proxy, {
    DestinationServiceName: 'api', Upstreams: [{ DestinationType: 'service', DestinationName: 'db', LocalBindPort: 9192, MeshGateway: {} }],
    MeshGateway: {}, Expose: {},
  });
  const cat = await until('api-proxy in the catalog', 10_000, async () => (await call('GET', '/v1/catalog/service/api-proxy')).json?.[0]);
  assert.deepEqual(cat.ServiceProxy, {
    DestinationServiceName: 'api', Mode: '',
    Upstreams: [{ DestinationType: 'service', DestinationName: 'db', Datacenter: '', LocalBindPort: 9192, MeshGateway: {} }],
    MeshGateway: {}, Expose: {},
  });
  const conn = (await call('GET', '/v1/health/connect/api')).json;
  assert.deepEqual(conn.map((e: any) => e.Service.ID), ['api-proxy']);
});

test('catalog/register takes a Proxy in any key spelling and answers Consul\'s ConnectProxyConfig JSON', async () => {
  const reg = await call('PUT', '/v1/catalog/register', {
    Node: 'ext', Address: '10.1.2.3',
    Service: { Kind: 'connect-proxy', Service: 'ext-proxy', Port: 20001, Proxy: { destination_service_name: 'ext', upstreams: [{ destination_name: 'db', local_bind_port: 1 }] } },
  });
  assert.equal(reg.status, 200, reg.text);
  const [entry] = (await call('GET', '/v1/catalog/service/ext-proxy')).json;
  assert.deepEqual(entry.ServiceProxy, {
    DestinationServiceName: 'ext', Mode: '', Upstreams: [{ DestinationType: '', DestinationName: 'db', Datacenter: '', LocalBindPort: 1, MeshGateway: {} }],
    MeshGateway: {}, Expose: {},
  });
  assert.deepEqual((await call('GET', '/v1/health/connect/ext')).json.map((e: any) => e.Service.ID), ['ext-proxy']);
});

test('API registration: a second sidecar takes the next port, the range then runs out, deregistration removes both', async () => {
  const reg = await call('PUT', '/v1/agent/service/register', { name: 'pay', port: 7070, connect: { sidecarservice: {} } });
  assert.equal(reg.status, 200, reg.text);
  const pay = (await call('GET', '/v1/agent/service/pay-sidecar-proxy')).json;
  assert.equal(pay.Port, sidecarMin + 1);
  assert.equal(pay.Proxy.DestinationServiceID, 'pay');
  await waitFor('pay-sidecar-proxy in the catalog', async () => ((await call('GET', '/v1/catalog/service/pay-sidecar-proxy')).json ?? []).length === 1);

  const full = await call('PUT', '/v1/agent/service/register', { Name: 'more', Port: 1, Connect: { SidecarService: {} } });
  assert.equal(full.status, 500);
  assert.equal(full.text, `no port provided for sidecar_service and none left in the configured range [${sidecarMin}, ${sidecarMin + 1}]`);
  await call('PUT', '/v1/agent/service/deregister/more');

  const bad = await call('PUT', '/v1/agent/service/register', { Name: 'x', Connect: { SidecarService: { ID: 'x-sidecar-proxy' } } });
  assert.equal(bad.status, 400);
  assert.equal(bad.text, 'Validation failed: 1 error occurred:\n\t* A SidecarService cannot specify an ID as this is managed by the agent\n\n');

  assert.equal((await call('PUT', '/v1/agent/service/deregister/pay')).status, 200);
  const services = (await call('GET', '/v1/agent/services')).json;
  assert.equal(services.pay, undefined);
  assert.equal(services['pay-sidecar-proxy'], undefined);
  await waitFor('pay-sidecar-proxy gone from the catalog', async () => ((await call('GET', '/v1/catalog/service/pay-sidecar-proxy')).json ?? [1]).length === 0);
  assert.deepEqual((await call('GET', '/v1/agent/checks')).json['service:pay-sidecar-proxy:1'], undefined);
});

test('a reload without the parent service removes its sidecar too', async () => {
  fs.rmSync(path.join(dir, 'web.hcl'));
  assert.equal((await call('PUT', '/v1/agent/reload')).status, 200);
  const services = (await call('GET', '/v1/agent/services')).json;
  assert.equal(services.web, undefined);
  assert.equal(services['web-sidecar-proxy'], undefined);
  assert.ok(services['api-proxy'], 'the other config-file service stays');
});

test('an API sidecar is persisted with its parent: restored with its port after a restart, still removed with the parent', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-sidecar-data-'));
  const config = { dataDir, store: { backend: 'embedded' as const } };
  const at = (addr: string) => async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`http://${addr}${p}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, json: res.headers.get('content-type')?.includes('json') ? await res.json() as any : await res.text() };
  };
  let dev = await startDevAgent({ config });
  try {
    let req = at(dev.httpAddr);
    assert.equal((await req('PUT', '/v1/agent/service/register', { Name: 'db', Port: 5432, Connect: { SidecarService: { Port: 21999 } } })).status, 200);
    await dev.stop();
    const files = fs.readdirSync(path.join(dataDir, 'services')).map((f) => JSON.parse(fs.readFileSync(path.join(dataDir, 'services', f), 'utf8')));
    const saved = files.find((f) => f.Service.ID === 'db-sidecar-proxy');
    assert.equal(saved.LocallyRegisteredAsSidecar, true, 'the flag sits beside the service, as in Consul\'s persistedService');
    assert.equal(saved.Service.LocallyRegisteredAsSidecar, undefined);
    dev = await startDevAgent({ config });
    req = at(dev.httpAddr);
    const sc = (await req('GET', '/v1/agent/service/db-sidecar-proxy')).json;
    assert.equal(sc.Port, 21999);
    assert.equal(sc.Proxy.DestinationServiceID, 'db');
    assert.equal((await req('PUT', '/v1/agent/service/deregister/db')).status, 200);
    assert.deepEqual(Object.keys((await req('GET', '/v1/agent/services')).json), []);
  } finally {
    await dev.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
