// Reads of the API gateway's config entries with ACLs, as Consul's CanRead has them: routes and
// certificates (whose private keys an inline certificate holds) need mesh:read, not read on a
// service of the same name; the api-gateway entry needs service:read on the gateway.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDevAgent, devConfig, type DevAgent } from './support/agent.ts';
import { testCA } from './support/tls-cert.ts';

const ROOT = 'root';
let a: DevAgent;

async function call(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; json: any; text: string }> {
  const res = await a.agent.http.handle({
    method, url: path, headers: token ? { 'X-Consul-Token': token } : {}, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = res.body.toString('utf8');
  let json: unknown;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, json, text };
}

async function tokenWith(rules: string): Promise<string> {
  const p = (await call('PUT', '/v1/acl/policy', ROOT, { Name: `p-${Math.random().toString(36).slice(2)}`, Rules: rules })).json;
  return (await call('PUT', '/v1/acl/token', ROOT, { Policies: [{ ID: p.ID }] })).json.SecretID;
}

before(async () => {
  const acl = { ...devConfig().acl, enabled: true, defaultPolicy: 'deny' as const, tokens: { ...devConfig().acl.tokens, initialManagement: ROOT } };
  a = await startDevAgent({ config: { acl }, deps: { shutdown: () => {} } });
  const cert = await (await testCA()).issue('gw.example.com', 'server');
  for (const body of [
    { Kind: 'api-gateway', Name: 'gw', Listeners: [{ Name: 'l', Port: 8080, Protocol: 'http' }] },
    { Kind: 'http-route', Name: 'gw', Parents: [{ Name: 'gw' }] },
    { Kind: 'tcp-route', Name: 'gw', Parents: [{ Name: 'gw' }] },
    { Kind: 'inline-certificate', Name: 'gw', Certificate: cert.cert, PrivateKey: cert.key },
  ]) assert.equal((await call('PUT', '/v1/config', ROOT, body)).status, 200);
});
after(() => a.stop());

test('routes and certificates are read with mesh:read; service:read on the same name is not enough', async () => {
  const service = await tokenWith('service "gw" { policy = "read" }');
  const mesh = await tokenWith('mesh = "read"');
  for (const kind of ['http-route', 'tcp-route', 'inline-certificate']) {
    assert.equal((await call('GET', `/v1/config/${kind}/gw`, service)).status, 403, kind);
    assert.deepEqual((await call('GET', `/v1/config/${kind}`, service)).json, [], kind);
    assert.equal((await call('GET', `/v1/config/${kind}/gw`, mesh)).status, 200, kind);
  }
  assert.equal((await call('GET', '/v1/config/api-gateway/gw', service)).status, 200);
  assert.equal((await call('GET', '/v1/config/api-gateway/gw', mesh)).status, 403);
});

test("bound-api-gateway entries are the controller's: a write or delete is refused even for the management token (Consul's CanWrite)", async () => {
  for (const [method, path, body] of [['PUT', '/v1/config', { Kind: 'bound-api-gateway', Name: 'gw' }], ['DELETE', '/v1/config/bound-api-gateway/gw', undefined]] as const) {
    const r = await call(method, path, ROOT, body);
    assert.deepEqual([r.status, r.text], [403, 'Permission denied: only writeable by controller'], method);
  }
});
