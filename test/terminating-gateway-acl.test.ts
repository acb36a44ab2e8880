// health/connect, catalog/connect and DNS <service>.connect with ACLs when a terminating gateway
// links the service: the gateway's entries are kept only for a token that may read the gateway
// service too (Consul filters each answered instance by its own service name), and reported as
// filtered otherwise.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDevAgent, devConfig, type DevAgent } from './support/agent.ts';

const ROOT = 'root';
let a: DevAgent;

async function call(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; json: any; filtered: string | undefined }> {
  const res = await a.agent.http.handle({
    method, url: path, headers: token ? { 'X-Consul-Token': token } : {}, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = res.body.toString('utf8');
  assert.equal(res.status, 200, `${method} ${path}: ${text}`);
  return { status: res.status, json: text ? JSON.parse(text) : undefined, filtered: res.headers['X-Consul-Results-Filtered-By-ACLs'] };
}

async function tokenWith(rules: string): Promise<string> {
  const p = (await call('PUT', '/v1/acl/policy', ROOT, { Name: `p-${rules.length}-${Math.random().toString(36).slice(2)}`, Rules: rules })).json;
  return (await call('PUT', '/v1/acl/token', ROOT, { Policies: [{ ID: p.ID }] })).json.SecretID;
}

before(async () => {
  const acl = { ...devConfig().acl, enabled: true, defaultPolicy: 'deny' as const, tokens: { ...devConfig().acl.tokens, initialManagement: ROOT } };
  a = await startDevAgent({ config: { acl }, deps: { shutdown: () => {} } });
  await call('PUT', '/v1/catalog/register', ROOT, { Node: 'g1', Address: '10.0.0.9', Service: { ID: 'tgw-1', Service: 'tgw', Kind: 'terminating-gateway', Port: 8443 } });
  await call('PUT', '/v1/config', ROOT, { Kind: 'terminating-gateway', Name: 'tgw', Services: [{ Name: 'ext' }] });
});
after(() => a.stop());

test('a linked service\'s gateway entries need service:read on the gateway too; they are reported as filtered otherwise', async () => {
  const extOnly = await tokenWith('service "ext" { policy = "read" }\nnode_prefix "" { policy = "read" }');
  const both = await tokenWith('service "ext" { policy = "read" }\nservice "tgw" { policy = "read" }\nnode_prefix "" { policy = "read" }');
  for (const path of ['/v1/health/connect/ext', '/v1/catalog/connect/ext']) {
    const hidden = await call('GET', path, extOnly);
    assert.deepEqual(hidden.json, [], path);
    assert.equal(hidden.filtered, 'true', path);
    const seen = await call('GET', path, both);
    assert.equal(seen.json.length, 1, path);
    assert.equal(seen.filtered, undefined, path);
  }
  assert.equal((await call('GET', '/v1/health/connect/ext', both)).json[0].Service.Service, 'tgw');
  assert.equal((await call('GET', '/v1/catalog/connect/ext', both)).json[0].ServiceName, 'tgw');
});
