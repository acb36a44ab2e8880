// The agent's `locality { region zone }` over HTTP: the node carries it, services registered on the
// agent (config definitions, agent/service/register, sidecars) inherit it unless they set their
// own, and the catalog keeps what catalog/register sends; every view shows it as Consul does.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDevAgent, type DevAgent } from './support/agent.ts';

let dev: DevAgent;
const EAST = { Region: 'us-east-1', Zone: 'us-east-1a' };

async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(`http://${dev.httpAddr}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json: any;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, text, json };
}

async function until<T>(what: string, read: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const v = await read();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`timed out waiting for ${what}`);
}

before(async () => {
  dev = await startDevAgent({
    config: {
      locality: EAST,
      raw: { services: [{ name: 'db', port: 5432 }, { name: 'cache', port: 6379, locality: { region: 'eu-west-1' } }] },
    },
  });
});
after(async () => {
  await dev.stop();
});

test('the node carries the agent locality in the catalog and health views, and agent/self shows it', async () => {
  const node = await until('the node', async () => (await call('GET', '/v1/catalog/node/test-node')).json?.Node);
  assert.deepEqual(node.Locality, EAST);
  const nodes = (await call('GET', '/v1/catalog/nodes')).json;
  assert.deepEqual(nodes.find((n: any) => n.Node === 'test-node').Locality, EAST);
  const self = (await call('GET', '/v1/agent/self')).json;
  assert.deepEqual(self.DebugConfig.Locality, { Region: 'us-east-1', Zone: 'us-east-1a' });
});

test('config-file services inherit the agent locality unless they give their own', async () => {
  const services = (await call('GET', '/v1/agent/services')).json;
  assert.deepEqual(services.db.Locality, EAST);
  assert.deepEqual(services.cache.Locality, { Region: 'eu-west-1' });
  const db = await until('db in the catalog', async () => (await call('GET', '/v1/catalog/service/db')).json?.[0]);
  assert.deepEqual(db.ServiceLocality, EAST);
  const cache = await until('cache in health', async () => (await call('GET', '/v1/health/service/cache')).json?.[0]);
  assert.deepEqual(cache.Service.Locality, { Region: 'eu-west-1' });
  assert.deepEqual(cache.Node.Locality, EAST);
});

test('agent/service/register: inherited, own, and the sidecar follows its parent', async () => {
  assert.equal((await call('PUT', '/v1/agent/service/register', { Name: 'web', Port: 80 })).status, 200);
  assert.equal((await call('PUT', '/v1/agent/service/register', {
    Name: 'api', Port: 81, Locality: { Region: 'ap-south-1', Zone: 'ap-south-1b' }, Connect: { SidecarService: {} },
  })).status, 200);
  const services = (await call('GET', '/v1/agent/services')).json;
  assert.deepEqual(services.web.Locality, EAST);
  assert.deepEqual(services.api.Locality, { Region: 'ap-south-1', Zone: 'ap-south-1b' });
  assert.deepEqual(services['api-sidecar-proxy'].Locality, { Region: 'ap-south-1', Zone: 'ap-south-1b' });
  const one = (await call('GET', '/v1/agent/service/web')).json;
  assert.deepEqual(one.Locality, EAST);
  const api = await until('api in health', async () => (await call('GET', '/v1/health/service/api')).json?.[0]);
  assert.deepEqual(api.Service.Locality, { Region: 'ap-south-1', Zone: 'ap-south-1b' });
  const node = await until('the sidecar in catalog/node', async () => {
    const n = (await call('GET', '/v1/catalog/node/test-node')).json;
    return n?.Services?.['api-sidecar-proxy'] ? n : undefined;
  });
  assert.deepEqual(node.Services['api-sidecar-proxy'].Locality, { Region: 'ap-south-1', Zone: 'ap-south-1b' });
});

test('the ContentHash of agent/service leaves the locality out, as Consul\'s hash:"ignore" tag does', async () => {
  assert.equal((await call('PUT', '/v1/agent/service/register', { ID: 'hashed', Name: 'hashed', Port: 90 })).status, 200);
  const first = await fetch(`http://${dev.httpAddr}/v1/agent/service/hashed`);
  const inherited = (await first.json()) as { ContentHash: string; Locality: unknown };
  assert.deepEqual(inherited.Locality, EAST);
  assert.equal((await call('PUT', '/v1/agent/service/register', { ID: 'hashed', Name: 'hashed', Port: 90, Locality: { Region: 'eu-west-1' } })).status, 200);
  const own = (await call('GET', '/v1/agent/service/hashed')).json;
  assert.deepEqual(own.Locality, { Region: 'eu-west-1' });
  assert.equal(own.ContentHash, inherited.ContentHash);
  assert.equal((await call('PUT', '/v1/agent/service/register', { ID: 'hashed', Name: 'hashed', Port: 91 })).status, 200);
  assert.notEqual((await call('GET', '/v1/agent/service/hashed')).json.ContentHash, inherited.ContentHash, 'other fields still count');
});

test('catalog/register keeps the node and service locality it is given (any key spelling), nothing when absent', async () => {
  const reg = await call('PUT', '/v1/catalog/register', {
    Node: 'ext', Address: '10.0.0.9', Locality: { region: 'us-west-2', Zone: 'us-west-2c' },
    Service: { Service: 'legacy', Port: 9000, locality: { Region: 'us-west-2' } },
  });
  assert.equal(reg.status, 200, reg.text);
  const svc = (await call('GET', '/v1/catalog/service/legacy')).json[0];
  assert.deepEqual(svc.ServiceLocality, { Region: 'us-west-2' });
  const health = (await call('GET', '/v1/health/service/legacy')).json[0];
  assert.deepEqual(health.Node.Locality, { Region: 'us-west-2', Zone: 'us-west-2c' });
  assert.deepEqual(health.Service.Locality, { Region: 'us-west-2' });
  assert.equal((await call('PUT', '/v1/catalog/register', { Node: 'plain', Address: '10.0.0.8', Service: { Service: 'bare' } })).status, 200);
  // Consul's ServiceNode.ServiceLocality has no omitempty: null when unset, after ServiceConnect.
  const bare = (await call('GET', '/v1/catalog/service/bare')).json[0];
  assert.equal(bare.ServiceLocality, null);
  const keys = Object.keys(bare);
  assert.equal(keys[keys.indexOf('ServiceConnect') + 1], 'ServiceLocality');
  assert.equal('Locality' in (await call('GET', '/v1/catalog/node/plain')).json.Node, false);
  assert.equal('Locality' in (await call('GET', '/v1/catalog/node/plain')).json.Services.bare, false);
  // NodeService.Locality (omitempty) sits between EnableTagOverride and Proxy in Consul's struct.
  const legacy = (await call('GET', '/v1/catalog/node/ext')).json.Services.legacy;
  const order = Object.keys(legacy);
  assert.deepEqual(order.slice(order.indexOf('EnableTagOverride'), order.indexOf('EnableTagOverride') + 3), ['EnableTagOverride', 'Locality', 'Proxy']);
});

test('catalog/register refuses a locality Go cannot decode, in Consul\'s words', async () => {
  const bad = await call('PUT', '/v1/catalog/register', { Node: 'ext', Address: '10.0.0.9', Locality: 'us-west-2' });
  assert.equal(bad.status, 400);
  assert.equal(bad.text, 'Request decode failed: json: cannot unmarshal string into Go struct field RegisterRequest.Locality of type structs.Locality');
  const zone = await call('PUT', '/v1/catalog/register', { Node: 'ext', Address: '10.0.0.9', Service: { Service: 's', Locality: { Zone: 7 } } });
  assert.equal(zone.status, 400);
  assert.equal(zone.text, 'Request decode failed: json: cannot unmarshal number into Go struct field Locality.Service.Locality.Zone of type string');
});
