// ACLs on a client agent (real processes): a server with default-deny ACLs on 127.0.0.1 and a
// client on 127.0.0.4. The client authorizes its own agent routes with what the servers say a
// token grants (compiled locally), forwards the rest with the caller's token, and anti-entropy
// registers a service under the token it was registered with. DNS on the client runs under the
// client's own DNS token (acl.tokens.dns, else its default token), not the server's.
import assert from 'node:assert/strict';
import { type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { freePort } from './support/etcd.ts';
import { killAll, spawnAgent } from './support/procs.ts';
import { digAt } from './support/dns.ts';
import { until } from './support/wait.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-client-acl-'));
const MGMT = 'b1b5f4b2-6c1a-4f1e-9f53-5c2f8d1d0a11';
const ports = { http: 0, dns: 0, serf: 0, wan: 0, server: 0 };
const children: ChildProcess[] = [];
let log = '';
const server = () => `http://127.0.0.1:${ports.http}`;
const client = () => `http://127.0.0.4:${ports.http}`;

after(() => {
  killAll(children);
  fs.rmSync(dir, { recursive: true, force: true });
});

function launch(name: string, ip: string, extra: string[]): void {
  children.push(spawnAgent({ node: name, ip, dataDir: path.join(dir, name), configFile: path.join(dir, 'agent.json'), extra },
    (text) => { log = (log + text).slice(-20_000); }));
}

async function call(base: string, urlPath: string, init: RequestInit & { token?: string } = {}): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = init.token ? { 'X-Consul-Token': init.token } : {};
  const r = await fetch(`${base}${urlPath}`, { ...init, headers, signal: AbortSignal.timeout(5000) });
  return { status: r.status, text: await r.text() };
}

/** Polls while the datacenter starts: a refused connection is "not yet"; a timeout shows the log. */
const POLL = { retryErrors: true, context: () => log.slice(-4000) };

before(async () => {
  for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
  fs.writeFileSync(path.join(dir, 'agent.json'), JSON.stringify({
    ports: { http: ports.http, dns: ports.dns, grpc: -1, grpc_tls: -1, serf_lan: ports.serf, serf_wan: ports.wan, server: ports.server },
    retry_interval: '1s', acl: { enabled: true, default_policy: 'deny', tokens: { initial_management: MGMT, agent: MGMT } },
  }));
  launch('srv', '127.0.0.1', ['-server', '-bootstrap']);
  // Tokens are cached for an hour, policies for a second: a policy's change shows within seconds.
  launch('cli', '127.0.0.4', ['-retry-join', `127.0.0.1:${ports.serf}`, '-hcl', 'acl { token_ttl = "1h", policy_ttl = "1s" }']);
  // Ready once the server's leader has created the initial management token.
  await until('the management token to work through the client', 30_000, async () => (await call(client(), '/v1/acl/token/self', { token: MGMT })).status === 200, POLL);
});

test('client agent routes are authorized with the token the servers resolve; the rest is forwarded with it', async () => {
  const anonSelf = await call(client(), '/v1/agent/self');
  assert.equal(anonSelf.status, 403);
  assert.match(anonSelf.text, /Permission denied/);
  const mgmtSelf = await call(client(), '/v1/agent/self', { token: MGMT });
  assert.equal(mgmtSelf.status, 200, mgmtSelf.text);
  const unknown = await call(client(), '/v1/agent/self', { token: '00000000-0000-4000-8000-000000000000' });
  assert.equal(unknown.status, 403);
  assert.match(unknown.text, /ACL not found/);

  // Created through the client (forwarded), used on the client (resolved through the server).
  const created = await call(client(), '/v1/acl/token', {
    method: 'PUT', token: MGMT, body: JSON.stringify({ ServiceIdentities: [{ ServiceName: 'web' }] }),
  });
  assert.equal(created.status, 200, created.text);
  const webToken = (JSON.parse(created.text) as { SecretID: string }).SecretID;
  const denied = await call(client(), '/v1/agent/service/register', { method: 'PUT', body: JSON.stringify({ Name: 'web', Port: 80 }) });
  assert.equal(denied.status, 403);
  const ok = await call(client(), '/v1/agent/service/register', { method: 'PUT', token: webToken, body: JSON.stringify({ Name: 'web', Port: 80 }) });
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual(Object.keys(JSON.parse((await call(client(), '/v1/agent/services', { token: webToken })).text)), ['web']);
  assert.deepEqual(JSON.parse((await call(client(), '/v1/agent/services')).text), {});
  // Anti-entropy registered it on the server with the service's token.
  await until('web in the server catalog', 10_000, async () => {
    const r = await call(server(), '/v1/catalog/service/web', { token: MGMT });
    return (JSON.parse(r.text) as { Node: string }[]).some((s) => s.Node === 'cli');
  }, POLL);
  // Runtime tokens need acl:write; the service token has none.
  const setDefault = (token: string) => call(client(), '/v1/agent/token/default', { method: 'PUT', token, body: JSON.stringify({ Token: webToken }) });
  assert.equal((await setDefault(webToken)).status, 403);
  assert.equal((await setDefault(MGMT)).status, 200);
  // Now the anonymous caller acts with the default token, locally and on the server.
  assert.deepEqual(Object.keys(JSON.parse((await call(client(), '/v1/agent/services')).text)), ['web']);
  const kv = await call(client(), '/v1/kv/x', { method: 'PUT', body: 'v' });
  assert.equal(kv.status, 403);
});

test('DNS on the client runs under the client token: dns, else default; the server keeps its own (anonymous here)', async () => {
  const ask = async (ip: string) => (await digAt(ip, ports.dns, 'web.service.consul')).answer.map((a) => a[4]);
  // The client's default token (set above) reads web; the server has no DNS or default token.
  assert.deepEqual(await ask('127.0.0.4'), ['127.0.0.4']);
  assert.deepEqual(await ask('127.0.0.1'), []);
  const created = await call(client(), '/v1/acl/token', { method: 'PUT', token: MGMT, body: JSON.stringify({ Description: 'reads nothing' }) });
  assert.equal(created.status, 200, created.text);
  const none = (JSON.parse(created.text) as { SecretID: string }).SecretID;
  const set = await call(client(), '/v1/agent/token/dns', { method: 'PUT', token: MGMT, body: JSON.stringify({ Token: none }) });
  assert.equal(set.status, 200, set.text);
  assert.deepEqual(await ask('127.0.0.4'), [], 'acl.tokens.dns comes before the default token');
  const setServer = await call(server(), '/v1/agent/token/dns', { method: 'PUT', token: MGMT, body: JSON.stringify({ Token: MGMT }) });
  assert.equal(setServer.status, 200, setServer.text);
  assert.deepEqual(await ask('127.0.0.1'), ['127.0.0.4']);
  assert.deepEqual(await ask('127.0.0.4'), [], "the server's DNS token is not the client's");
});

test('acl.policy_ttl: a changed policy applies on the client once policy_ttl passes, though token_ttl has not', async () => {
  const policy = await call(client(), '/v1/acl/policy', {
    method: 'PUT', token: MGMT, body: JSON.stringify({ Name: 'reads-agents', Rules: 'agent_prefix "" { policy = "read" }' }),
  });
  assert.equal(policy.status, 200, policy.text);
  const { ID } = JSON.parse(policy.text) as { ID: string };
  const token = await call(client(), '/v1/acl/token', { method: 'PUT', token: MGMT, body: JSON.stringify({ Policies: [{ ID }] }) });
  const secret = (JSON.parse(token.text) as { SecretID: string }).SecretID;
  assert.equal((await call(client(), '/v1/agent/self', { token: secret })).status, 200);
  const updated = await call(client(), `/v1/acl/policy/${ID}`, {
    method: 'PUT', token: MGMT, body: JSON.stringify({ Name: 'reads-agents', Rules: 'node_prefix "" { policy = "read" }' }),
  });
  assert.equal(updated.status, 200, updated.text);
  await until('the client to apply the changed policy', 15_000, async () => (await call(client(), '/v1/agent/self', { token: secret })).status === 403, POLL);
});
