// DNS under ACLs against a real agent (default deny): queries run under acl.tokens.dns, else the
// default token, else anonymous; nodes and services the token cannot read are NXDOMAIN, and a
// token set at runtime through /v1/agent/token/dns takes effect at once (the fast path included).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startDevAgent, devConfig, type DevAgent } from './support/agent.ts';
import { dig } from './support/dns.ts';

const ROOT = 'root';
let a: DevAgent;
let port: number;

async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(`http://${a.httpAddr}${path}`, { method, headers: { 'X-Consul-Token': ROOT }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return text ? JSON.parse(text) : undefined;
}

async function tokenWithRules(rules: string): Promise<{ SecretID: string; AccessorID: string }> {
  const p = await call('PUT', '/v1/acl/policy', { Name: `p-${Math.random().toString(36).slice(2)}`, Rules: rules });
  return call('PUT', '/v1/acl/token', { Policies: [{ ID: p.ID }] });
}

before(async () => {
  a = await startDevAgent({
    config: {
      dnsAddrs: [{ kind: 'tcp', host: '127.0.0.1', port: 0 }],
      acl: { ...devConfig().acl, enabled: true, defaultPolicy: 'deny', tokens: { ...devConfig().acl.tokens, initialManagement: ROOT } },
    },
  });
  port = Number(a.agent.dnsAddresses().udp[0].split(':').pop());
  await call('PUT', '/v1/catalog/register', { Node: 'n1', Address: '10.0.0.1', Service: { ID: 'web1', Service: 'web', Port: 80 } });
  await call('PUT', '/v1/catalog/register', { Node: 'n2', Address: '10.0.0.2', Service: { ID: 'db1', Service: 'db', Port: 5432 } });
  await call('PUT', '/v1/catalog/register', { Node: 'n3', Address: '10.0.0.3', Service: { ID: 'web3', Service: 'web', Port: 80 } });
});
after(() => a.stop());

test('anonymous (no dns or default token) gets NXDOMAIN for everything under default deny', async () => {
  assert.equal((await dig(port, 'web.service.consul', 'A')).status, 'NXDOMAIN');
  assert.equal((await dig(port, 'n1.node.consul', 'A')).status, 'NXDOMAIN');
  assert.equal((await dig(port, '-x', '10.0.0.1')).status, 'NXDOMAIN');
});

test('the dns token answers only the services and nodes it may read', async () => {
  const { SecretID: secret } = await tokenWithRules('service "web" { policy = "read" }\nnode "n1" { policy = "read" }\nnode "n2" { policy = "read" }');
  await call('PUT', '/v1/agent/token/dns', { Token: secret });
  const web = await dig(port, 'web.service.consul', 'A');
  assert.equal(web.status, 'NOERROR');
  assert.deepEqual(web.answer.map((r) => r[4]), ['10.0.0.1'], 'n3 is not readable, so its instance is left out');
  assert.equal((await dig(port, 'db.service.consul', 'SRV')).status, 'NXDOMAIN', 'no service:read on db');
  assert.equal((await dig(port, 'n2.node.consul', 'A')).status, 'NOERROR');
  assert.equal((await dig(port, 'n3.node.consul', 'A')).status, 'NXDOMAIN');
  // A repeated query is served by the prepared fast path: it must honour a token change too.
  await call('PUT', '/v1/agent/token/dns', { Token: '' });
  assert.equal((await dig(port, 'web.service.consul', 'A')).status, 'NXDOMAIN');
});

test('without a dns token the default token is used; ACL changes apply to cached answers', async () => {
  const t = await tokenWithRules('service_prefix "" { policy = "read" }\nnode_prefix "" { policy = "read" }');
  const secret = t.SecretID;
  await call('PUT', '/v1/agent/token/default', { Token: secret });
  try {
    const web = await dig(port, 'web.service.consul', 'A');
    assert.deepEqual(web.answer.map((r) => r[4]).sort(), ['10.0.0.1', '10.0.0.3']);
    assert.equal((await dig(port, 'db.service.consul', 'A')).status, 'NOERROR');
    await call('DELETE', `/v1/acl/token/${t.AccessorID}`);
    assert.equal((await dig(port, 'web.service.consul', 'A')).status, 'NXDOMAIN', 'a deleted token answers nothing');
  } finally {
    await call('PUT', '/v1/agent/token/default', { Token: '' });
  }
});
