// ACL modes against real agents: token expiry on a ManualClock (resolves as not found, then
// reaped), default_policy allow, acl.enable_key_list_policy for `keys`, and `proconsul acl init`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../src/clock.ts';
import { runCli } from '../src/cli/registry.ts';
import { startDevAgent, devConfig } from './support/agent.ts';

const aclOn = (extra: Partial<ReturnType<typeof devConfig>['acl']> = {}) => ({
  ...devConfig().acl, enabled: true, defaultPolicy: 'deny' as const,
  tokens: { ...devConfig().acl.tokens, initialManagement: 'root' }, ...extra,
});

function client(addr: string) {
  return async (method: string, path: string, token = '', body?: unknown) => {
    const res = await fetch(`http://${addr}${path}`, { method, headers: token ? { 'X-Consul-Token': token } : {}, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let json: any;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: res.status, text, json, headers: res.headers };
  };
}

test('an expired token resolves as ACL not found and the leader reaps it', async () => {
  const clock = new ManualClock(Date.now());
  const a = await startDevAgent({ config: { acl: aclOn() }, deps: { clock } });
  try {
    const call = client(a.httpAddr);
    const t = await call('PUT', '/v1/acl/token', 'root', { ServiceIdentities: [{ ServiceName: 'web' }], ExpirationTTL: '2m' });
    assert.equal(t.status, 200, t.text);
    assert.equal(Date.parse(t.json.ExpirationTime), clock.now() + 120_000);
    assert.equal((await call('GET', '/v1/catalog/services', t.json.SecretID)).status, 200);
    clock.advance(121_000);
    const r = await call('GET', '/v1/catalog/services', t.json.SecretID);
    assert.equal(r.status, 403);
    assert.equal(r.text, 'ACL not found');
    assert.equal((await call('GET', `/v1/acl/token/${t.json.AccessorID}`, 'root')).status, 403);
    await new Promise((res) => setTimeout(res, 50));
    assert.equal(a.agent.replica.acl.tokens.get(t.json.AccessorID), undefined, 'reaped');
    const short = await call('PUT', '/v1/acl/token', 'root', { ExpirationTTL: '10s' });
    assert.equal(short.status, 400);
    assert.equal(short.text, 'ExpirationTime cannot be less than 1m0s in the future (was 10s)');
  } finally {
    await a.stop();
  }
});

test('default_policy allow lets anonymous requests through but not ACL management', async () => {
  const a = await startDevAgent({ config: { acl: aclOn({ defaultPolicy: 'allow' }) } });
  try {
    const call = client(a.httpAddr);
    assert.equal((await call('PUT', '/v1/kv/open', '', 'x')).status, 200);
    assert.equal((await call('GET', '/v1/kv/open')).headers.get('x-consul-default-acl-policy'), 'allow');
    const r = await call('GET', '/v1/acl/tokens');
    assert.equal(r.status, 403);
    assert.equal(r.text, "Permission denied: token with AccessorID '00000000-0000-0000-0000-000000000002' lacks permission 'acl:read'");
  } finally {
    await a.stop();
  }
});

test('with acl.enable_key_list_policy, keys needs list on the prefix', async () => {
  const a = await startDevAgent({ config: { acl: aclOn(), raw: { acl: { enable_key_list_policy: true } } } });
  try {
    const call = client(a.httpAddr);
    await call('PUT', '/v1/kv/app/x', 'root', 'v');
    const mk = async (rules: string) => {
      const p = await call('PUT', '/v1/acl/policy', 'root', { Name: `p${Math.random().toString(36).slice(2)}`, Rules: rules });
      return (await call('PUT', '/v1/acl/token', 'root', { Policies: [{ ID: p.json.ID }] })).json;
    };
    const reader = await mk('key_prefix "app/" { policy = "read" }');
    const denied = await call('GET', '/v1/kv/app/?keys', reader.SecretID);
    assert.equal(denied.status, 403);
    assert.equal(denied.text, `Permission denied: token with AccessorID '${reader.AccessorID}' lacks permission 'key:list' on "app/"`);
    const lister = await mk('key_prefix "app/" { policy = "list" }');
    const ok = await call('GET', '/v1/kv/app/?keys', lister.SecretID);
    assert.deepEqual(ok.json, ['app/x']);
  } finally {
    await a.stop();
  }
});

test('proconsul acl init bootstraps, sets the agent and DNS tokens and prints working tokens', async () => {
  const a = await startDevAgent({ config: { acl: { ...devConfig().acl, enabled: true, defaultPolicy: 'deny' } } });
  try {
    let out = '';
    let err = '';
    const code = await runCli(['acl', 'init', `-http-addr=${a.httpAddr}`], {
      stdout: (s) => { out += s; }, stderr: (s) => { err += s; }, stdin: process.stdin, env: {},
    });
    assert.equal(code, 0, err);
    const [, mgmt] = /Management token: (\S+)/.exec(out)!;
    const [, dns] = /DNS token:\s+(\S+)/.exec(out)!;
    assert.equal(a.agent.local.tokens.get('dns'), dns);
    const call = client(a.httpAddr);
    assert.equal((await call('GET', '/v1/kv/x')).status, 403, 'anonymous denied');
    assert.equal((await call('GET', '/v1/catalog/nodes', dns)).json.length, 1);
    assert.equal((await call('PUT', '/v1/kv/x', dns, 'v')).status, 403);
    assert.equal((await call('PUT', '/v1/kv/x', mgmt, 'v')).status, 200);
  } finally {
    await a.stop();
  }
});
