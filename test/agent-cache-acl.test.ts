// `?cached` reads under ACLs (in-process server and client on 127.0.0.1, default deny): entries
// are per token, so a token allowed only "web" is never answered the management token's listing
// (nor the other way round), on the client and on the server; a token deleted after its read is
// refused once the background query hears of it, where Consul would keep answering the old value.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createAgent, createClientAgent, type Agent, type ClientAgent } from '../src/index.ts';
import { loadConfig } from '../src/agent/config/index.ts';
import { silentLogger } from '../src/log.ts';
import { freePort } from './support/ports.ts';
import { until } from './support/wait.ts';

const MGMT = '5b7c2f0e-4d1a-4f3e-9a61-2c8d7e0b1f42';
const WEB = 'a1e0c9d4-6b2f-4e8a-b7c3-0d9f8e7a6b51';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-agent-cache-acl-'));
let server: Agent;
let client: ClientAgent;
let serverHttp = '';
let clientHttp = '';

const acl = `acl {
  enabled = true
  default_policy = "deny"
  tokens { initial_management = "${MGMT}" agent = "${MGMT}" }
}`;

async function config(name: string, hcl: string) {
  fs.writeFileSync(path.join(dir, `${name}.hcl`), hcl);
  return (await loadConfig({ args: ['-config-file', path.join(dir, `${name}.hcl`)], env: {} })).config;
}

async function call(addr: string, method: string, urlPath: string, token: string, body?: unknown) {
  const r = await fetch(`http://${addr}${urlPath}`, {
    method, headers: token ? { 'X-Consul-Token': token } : {}, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(20_000),
  });
  const text = await r.text();
  return { status: r.status, text, cache: r.headers.get('x-cache') };
}

before(async () => {
  const [sh, ss, sr, ch, cs] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  const common = (http: number, serf: number) => `data_dir = "${dir}/${http}"
bind_addr = "127.0.0.1"
client_addr = "127.0.0.1"
${acl}
ports { http = ${http} https = -1 dns = -1 grpc = -1 grpc_tls = -1 serf_lan = ${serf} serf_wan = -1 server = ${sr} }
`;
  server = createAgent(await config('s', `node_name = "s1"\nserver = true\nbootstrap_expect = 1\n${common(sh, ss)}`), { logger: silentLogger() });
  await server.start();
  client = createClientAgent(await config('c', `node_name = "c1"\nretry_join = ["127.0.0.1:${ss}"]\n${common(ch, cs)}`), { logger: silentLogger() });
  await client.start();
  [serverHttp, clientHttp] = [`127.0.0.1:${sh}`, `127.0.0.1:${ch}`];
  await until('client knows the server', 20_000, async () => client.servers.servers().length > 0);
  await until('a leader', 20_000, async () => (await call(serverHttp, 'GET', '/v1/status/leader', MGMT)).text !== '""');
  await until('ACLs ready', 20_000, async () => (await call(serverHttp, 'PUT', '/v1/acl/policy', MGMT, {
    Name: 'web-read', Rules: 'service "web" { policy = "read" }\nnode_prefix "" { policy = "read" }',
  })).status === 200);
  assert.equal((await call(serverHttp, 'PUT', '/v1/acl/token', MGMT, { SecretID: WEB, Policies: [{ Name: 'web-read' }] })).status, 200);
  for (const [node, svc] of [['n1', 'web'], ['n2', 'db']]) {
    assert.equal((await call(serverHttp, 'PUT', '/v1/catalog/register', MGMT, { Node: node, Address: '10.0.0.1', Service: { Service: svc, Port: 80 } })).status, 200);
  }
});

after(async () => {
  await client?.stop();
  await server?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const names = (text: string) => Object.keys(JSON.parse(text) as Record<string, unknown>).sort();

for (const where of ['client', 'server'] as const) {
  test(`${where}: cached listings are per token, each filtered for its own token`, async () => {
    const addr = where === 'client' ? clientHttp : serverHttp;
    const mgmt = await call(addr, 'GET', '/v1/catalog/services?cached', MGMT);
    assert.equal(mgmt.status, 200);
    assert.ok(names(mgmt.text).includes('db'));
    const web = await call(addr, 'GET', '/v1/catalog/services?cached', WEB);
    assert.equal(web.cache, 'MISS', 'not the management token\'s entry');
    assert.deepEqual(names(web.text), ['web']);
    const again = await call(addr, 'GET', '/v1/catalog/services?cached', WEB);
    assert.equal(again.cache, 'HIT');
    assert.deepEqual(names(again.text), ['web']);
    const anon = await call(addr, 'GET', '/v1/catalog/services?cached', '');
    assert.deepEqual(names(anon.text), [], 'the anonymous token reads nothing under default deny');
    const db = await call(addr, 'GET', '/v1/health/service/db?cached', WEB);
    assert.deepEqual(JSON.parse(db.text), [], 'db is filtered out for the web token');
  });
}

test('a deleted token is refused its cached read once the background query hears of it', async () => {
  const TEMP = 'c3d2e1f0-7a6b-4c5d-8e9f-0a1b2c3d4e5f';
  assert.equal((await call(serverHttp, 'PUT', '/v1/acl/token', MGMT, { SecretID: TEMP, Policies: [{ Name: 'web-read' }] })).status, 200);
  assert.equal((await call(clientHttp, 'GET', '/v1/health/service/web?cached', TEMP)).status, 200);
  assert.equal((await call(clientHttp, 'GET', '/v1/health/service/web?cached', TEMP)).cache, 'HIT');
  const tokens = JSON.parse((await call(serverHttp, 'GET', '/v1/acl/tokens', MGMT)).text) as { AccessorID: string; SecretID: string }[];
  const accessor = tokens.find((t) => t.SecretID === TEMP)!.AccessorID;
  assert.equal((await call(serverHttp, 'DELETE', `/v1/acl/token/${accessor}`, MGMT)).status, 200);
  // A change to the service wakes the entry's background query, which now meets the deleted token.
  assert.equal((await call(serverHttp, 'PUT', '/v1/catalog/register', MGMT, { Node: 'n3', Address: '10.0.0.3', Service: { Service: 'web', Port: 80 } })).status, 200);
  await until('the deleted token is refused', 20_000, async () => (await call(clientHttp, 'GET', '/v1/health/service/web?cached', TEMP)).status === 403);
  const refused = await call(clientHttp, 'GET', '/v1/health/service/web?cached', TEMP);
  assert.equal(refused.text, 'ACL not found');
  assert.equal(refused.cache, null);
});
