// Virtual IPs end to end (issue #5): services registered through the HTTP API (an agent service with
// a sidecar, a connect-native catalog service) get VIPs that `dig <svc>.virtual.consul` answers and
// catalog/health show as the consul-virtual tagged address; manual VIPs through
// PUT /v1/internal/service-virtual-ip; a freed VIP reused as Consul reuses it; all kept across a restart.
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import { dig } from './support/dns.ts';
import { tmpDir } from './support/tmp-dir.ts';
import { aclDenyConfig, httpCaller, ROOT, tokenWithRules } from './support/acl.ts';

const port = (a: DevAgent): number => Number(a.agent.dnsAddresses().udp[0].split(':').pop());

async function call(a: DevAgent, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`http://${a.httpAddr}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  assert.equal(res.status, 200, `${method} ${path}: ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** The A records `dig` answers for a name. */
async function vips(a: DevAgent, name: string): Promise<string[]> {
  const r = await dig(port(a), name, 'A');
  assert.equal(r.status, 'NOERROR', name);
  return r.answer.map((x) => x[4]);
}

async function until<T>(what: string, f: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const v = await f();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('mesh services get VIPs through the HTTP API, dig answers them, a freed one is reused, and all survive a restart', async () => {
  const config = {
    // One node ID across the restart (a dev config makes a new one each time).
    dataDir: tmpDir('proconsul-vip-'), store: { backend: 'embedded' as const }, nodeId: randomUUID(),
    dnsAddrs: [{ kind: 'tcp' as const, host: '127.0.0.1', port: 0 }], raw: { dns_config: { node_ttl: '4s' } },
  };
  let a = await startDevAgent({ config });
  try {
    // An agent service with a sidecar (the proxy is for web: web gets the VIP), then a native one.
    await call(a, 'PUT', '/v1/agent/service/register', { Name: 'web', Port: 8080, Connect: { SidecarService: {} } });
    await until('the sidecar in the catalog', () => call(a, 'GET', '/v1/catalog/service/web-sidecar-proxy'), (v) => v.length === 1);
    await call(a, 'PUT', '/v1/catalog/register', { Node: 'ext', Address: '10.0.0.9', Service: { ID: 'api', Service: 'api', Port: 9090, Connect: { Native: true } } });
    assert.deepEqual(await vips(a, 'web.virtual.consul'), ['240.0.0.1']);
    assert.deepEqual(await vips(a, 'api.virtual.consul'), ['240.0.0.2']);
    const ttl = (await dig(port(a), 'web.virtual.consul', 'A')).answer[0][1];
    assert.equal(ttl, '4', 'node_ttl');
    // Other types get the A record in the additional section, NOERROR and no SOA, as Consul's DNS server answers.
    for (const type of ['AAAA', 'SRV', 'TXT']) {
      const r = await dig(port(a), 'web.virtual.consul', type);
      assert.deepEqual([r.status, r.answer, r.authority, r.additional.map((x) => x.join(' '))],
        ['NOERROR', [], [], ['web.virtual.consul. 4 IN A 240.0.0.1']], type);
    }
    assert.deepEqual(await vips(a, 'web-sidecar-proxy.virtual.consul'), [], 'the proxy\'s own name has none');

    // catalog and health show the tagged address, with the instance's port.
    const [proxy] = await call(a, 'GET', '/v1/catalog/service/web-sidecar-proxy');
    assert.deepEqual(proxy.ServiceTaggedAddresses['consul-virtual'], { Address: '240.0.0.1', Port: proxy.ServicePort });
    const [api] = await call(a, 'GET', '/v1/health/service/api');
    assert.deepEqual(api.Service.TaggedAddresses['consul-virtual'], { Address: '240.0.0.2', Port: 9090 });
    assert.equal((await call(a, 'GET', '/v1/catalog/service/web'))[0].ServiceTaggedAddresses?.['consul-virtual'], undefined, 'web itself is not in the mesh');

    // Manual VIPs: a service with a VIP takes them.
    assert.deepEqual(await call(a, 'PUT', '/v1/internal/service-virtual-ip', { Service: 'web', ManualVIPs: ['10.96.0.10'] }), { Found: true, UnassignedFrom: null });
    assert.deepEqual(await call(a, 'PUT', '/v1/internal/service-virtual-ip', { Service: 'nope', ManualVIPs: ['10.96.0.11'] }), { Found: false, UnassignedFrom: null });

    await a.stop();
    a = await startDevAgent({ config });
    assert.deepEqual(await vips(a, 'web.virtual.consul'), ['240.0.0.1'], 'kept across the restart');
    assert.deepEqual(await vips(a, 'api.virtual.consul'), ['240.0.0.2']);
    assert.deepEqual(a.agent.replica.virtualIPs.service({ partition: 'default', namespace: 'default' }, 'web')?.ManualIPs, ['10.96.0.10']);
    // A full sync merges the server's consul-* tagged addresses into the agent's own copy, as Consul's agent does.
    await a.agent.local.ae.syncFull();
    const local = await call(a, 'GET', '/v1/agent/service/web-sidecar-proxy');
    assert.deepEqual(local.TaggedAddresses['consul-virtual'], { Address: '240.0.0.1', Port: local.Port });
    const synced = (await call(a, 'GET', '/v1/catalog/service/web-sidecar-proxy'))[0].ModifyIndex;
    await call(a, 'PUT', '/v1/agent/service/register', { Name: 'web', Port: 8080, Connect: { SidecarService: {} } });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await call(a, 'GET', '/v1/catalog/service/web-sidecar-proxy'))[0].ModifyIndex, synced, 'the same registration again writes nothing');

    // The last api instance goes: its VIP is freed, and the next mesh service takes it before the counter moves.
    await call(a, 'PUT', '/v1/catalog/deregister', { Node: 'ext', ServiceID: 'api' });
    assert.deepEqual(await vips(a, 'api.virtual.consul'), []);
    await call(a, 'PUT', '/v1/catalog/register', { Node: 'ext', Address: '10.0.0.9', Service: { ID: 'billing', Service: 'billing', Port: 1, Connect: { Native: true } } });
    await call(a, 'PUT', '/v1/catalog/register', { Node: 'ext', Address: '10.0.0.9', Service: { ID: 'cart', Service: 'cart', Port: 2, Connect: { Native: true } } });
    assert.deepEqual(await vips(a, 'billing.virtual.consul'), ['240.0.0.2'], 'the freed VIP');
    assert.deepEqual(await vips(a, 'cart.virtual.consul'), ['240.0.0.3'], 'then the counter');
  } finally {
    await a.stop();
  }
});

test('a namespace\'s mesh service has its own VIP: <svc>.virtual.<ns>.ns answers it, the default namespace\'s name does not', async () => {
  const a = await startDevAgent({ config: { dnsAddrs: [{ kind: 'tcp' as const, host: '127.0.0.1', port: 0 }] } });
  try {
    await call(a, 'PUT', '/v1/namespace', { Name: 'team' });
    await call(a, 'PUT', '/v1/catalog/register', { Node: 'n1', Address: '10.0.0.1', Service: { ID: 'pay', Service: 'pay', Namespace: 'team', Port: 7000, Connect: { Native: true } } });
    assert.deepEqual(await vips(a, 'pay.virtual.team.ns.consul'), ['240.0.0.1']);
    assert.deepEqual(await vips(a, 'pay.virtual.consul'), [], 'none in the default namespace');
    const [pay] = await call(a, 'GET', '/v1/health/service/pay?ns=team');
    assert.deepEqual(pay.Service.TaggedAddresses['consul-virtual'], { Address: '240.0.0.1', Port: 7000 });
    // The counter is the cluster's: the default namespace's next mesh service takes the next VIP.
    await call(a, 'PUT', '/v1/catalog/register', { Node: 'n1', Address: '10.0.0.1', Service: { ID: 'pay', Service: 'pay', Port: 7001, Connect: { Native: true } } });
    assert.deepEqual(await vips(a, 'pay.virtual.consul'), ['240.0.0.2']);
    assert.equal((await dig(port(a), 'pay.virtual.nope.ns.consul', 'A')).status, 'NXDOMAIN', 'a namespace that does not exist');
  } finally {
    await a.stop();
  }
});

test('with ACLs: manual VIPs need mesh:write (service:write on the service is not enough); the DNS token must read a service to learn its VIP', async () => {
  const a = await startDevAgent({ config: { ...aclDenyConfig(), dnsAddrs: [{ kind: 'tcp' as const, host: '127.0.0.1', port: 0 }] } });
  const http = httpCaller(() => a.httpAddr);
  try {
    const reg = await http('PUT', '/v1/catalog/register', ROOT, { Node: 'n1', Address: '10.0.0.1', Service: { ID: 'secure', Service: 'secure', Port: 1, Connect: { Native: true } } });
    assert.equal(reg.status, 200, reg.text);
    const reader = await tokenWithRules(http, 'service "secure" { policy = "read" }');
    const serviceWriter = await tokenWithRules(http, 'service "secure" { policy = "write" }');
    const writer = await tokenWithRules(http, 'mesh = "write"');
    const body = { Service: 'secure', ManualVIPs: ['10.96.0.20'] };
    assert.equal((await http('PUT', '/v1/internal/service-virtual-ip', reader.SecretID, body)).status, 403);
    assert.equal((await http('PUT', '/v1/internal/service-virtual-ip', serviceWriter.SecretID, body)).status, 403);
    assert.equal((await http('PUT', '/v1/internal/service-virtual-ip', '', body)).status, 403);
    const ok = await http('PUT', '/v1/internal/service-virtual-ip', writer.SecretID, body);
    assert.deepEqual([ok.status, ok.json], [200, { Found: true, UnassignedFrom: null }]);
    // The anonymous token (default deny) is the DNS token here: no VIP is answered.
    const r = await dig(port(a), 'secure.virtual.consul', 'A');
    assert.deepEqual(r.answer, []);
  } finally {
    await a.stop();
  }
});

test('a snapshot restore brings the VIPs, freed IPs and counter back as they were saved', async () => {
  const a = await startDevAgent({ config: { dnsAddrs: [{ kind: 'tcp' as const, host: '127.0.0.1', port: 0 }] } });
  try {
    const native = (id: string) => call(a, 'PUT', '/v1/catalog/register', { Node: 'n1', Address: '10.0.0.1', Service: { ID: id, Service: id, Port: 1, Connect: { Native: true } } });
    await native('s1');
    await native('s2');
    await call(a, 'PUT', '/v1/catalog/deregister', { Node: 'n1', ServiceID: 's1' });
    const saved = Buffer.from(await (await fetch(`http://${a.httpAddr}/v1/snapshot`)).arrayBuffer());
    await native('s3');
    await native('s4');
    assert.deepEqual([await vips(a, 's3.virtual.consul'), await vips(a, 's4.virtual.consul')], [['240.0.0.1'], ['240.0.0.3']]);
    const res = await fetch(`http://${a.httpAddr}/v1/snapshot`, { method: 'PUT', body: saved });
    assert.equal(res.status, 200, await res.text());
    assert.deepEqual([await vips(a, 's2.virtual.consul'), await vips(a, 's3.virtual.consul')], [['240.0.0.2'], []]);
    // The restored free list and counter: the next two take 240.0.0.1, then 240.0.0.3.
    await native('s5');
    await native('s6');
    assert.deepEqual([await vips(a, 's5.virtual.consul'), await vips(a, 's6.virtual.consul')], [['240.0.0.1'], ['240.0.0.3']]);
  } finally {
    await a.stop();
  }
});
