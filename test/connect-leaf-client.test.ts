// GET /v1/agent/connect/ca/leaf/<service> on a client agent (in-process, with ACLs): the client
// makes the key and CSR and has a server sign it over the internal RPC under the caller's token,
// so a token without service:write gets the server's 403 text, and a signed leaf is kept by the
// client and chains to the servers' active root; after a root rotation on the server the client
// lists both roots and answers a leaf of the new one.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createAgent, createClientAgent, type Agent, type ClientAgent } from '../src/index.ts';
import { loadConfig } from '../src/agent/config/index.ts';
import { silentLogger } from '../src/log.ts';
import { freePort } from './support/ports.ts';
import { until } from './support/wait.ts';

const MGMT = '3f0d7a52-93a6-4c1d-8d53-6b1f0c2e9a17';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-leaf-client-'));
let server: Agent;
let client: ClientAgent;
let clientHttp = '';
let serverHttp = '';

const acl = `acl {
  enabled = true
  default_policy = "deny"
  tokens { initial_management = "${MGMT}" agent = "${MGMT}" }
}`;

async function start(name: string, hcl: string) {
  fs.writeFileSync(path.join(dir, `${name}.hcl`), hcl);
  return (await loadConfig({ args: ['-config-file', path.join(dir, `${name}.hcl`)], env: {} })).config;
}

before(async () => {
  const [sh, ss, sr, ch, cs] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  const common = (http: number, serf: number) => `data_dir = "${dir}/${http}"
bind_addr = "127.0.0.1"
client_addr = "127.0.0.1"
${acl}
ports { http = ${http} https = -1 dns = -1 grpc = -1 grpc_tls = -1 serf_lan = ${serf} serf_wan = -1 server = ${sr} }
`;
  server = createAgent(await start('s', `node_name = "s1"\nserver = true\nbootstrap_expect = 1\nconnect { enabled = true }\n${common(sh, ss)}`), { logger: silentLogger() });
  await server.start();
  client = createClientAgent(await start('c', `node_name = "c1"\nretry_join = ["127.0.0.1:${ss}"]\n${common(ch, cs)}`), { logger: silentLogger() });
  await client.start();
  [serverHttp, clientHttp] = [`127.0.0.1:${sh}`, `127.0.0.1:${ch}`];
  await until('client knows the server', 20_000, async () => client.servers.servers().length > 0);
  await until('CA root', 20_000, async () => {
    const r = await fetch(`http://${serverHttp}/v1/connect/ca/roots`);
    return r.status === 200 && ((await r.json()) as { Roots: unknown[] }).Roots.length > 0;
  });
});

after(async () => {
  await client?.stop();
  await server?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const leaf = (token?: string) => fetch(`http://${clientHttp}/v1/agent/connect/ca/leaf/web`, {
  headers: token ? { 'X-Consul-Token': token } : {}, signal: AbortSignal.timeout(20_000),
});

test('a client refuses a token without service:write with the server\'s 403 text', async () => {
  const r = await leaf();
  assert.equal(r.status, 403);
  assert.equal(await r.text(), `Permission denied: token with AccessorID '00000000-0000-0000-0000-000000000002' lacks permission 'service:write' on "web"`);
});

test('a client\'s leaf is signed by a server, chains to the active root, and is kept', async () => {
  const r = await leaf(MGMT);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('x-cache'), 'MISS');
  const body = await r.json() as { CertPEM: string; ServiceURI: string; SerialNumber: string; ModifyIndex: number };
  const roots = await (await fetch(`http://${serverHttp}/v1/connect/ca/roots`)).json() as { TrustDomain: string; Roots: { Active: boolean; RootCert: string }[] };
  assert.equal(body.ServiceURI, `spiffe://${roots.TrustDomain}/ns/default/dc/dc1/svc/web`);
  assert.equal(r.headers.get('x-consul-index'), String(body.ModifyIndex));
  const root = roots.Roots.find((x) => x.Active)!;
  assert.ok(new X509Certificate(body.CertPEM).verify(new X509Certificate(root.RootCert).publicKey));
  const again = await leaf(MGMT);
  assert.equal(again.headers.get('x-cache'), 'HIT');
  assert.equal(((await again.json()) as { SerialNumber: string }).SerialNumber, body.SerialNumber);
});

test('after a CA root rotation on the server the client lists both roots and answers a leaf of the new root', async () => {
  type Roots = { ActiveRootID: string; Roots: { ID: string; Active: boolean; RootCert: string }[] };
  const before = await (await fetch(`http://${clientHttp}/v1/agent/connect/ca/roots`, { headers: { 'X-Consul-Token': MGMT } })).json() as Roots;
  const put = await fetch(`http://${serverHttp}/v1/connect/ca/configuration`, {
    method: 'PUT', headers: { 'X-Consul-Token': MGMT }, body: JSON.stringify({ Provider: 'consul', Config: { PrivateKeyType: 'ec', PrivateKeyBits: 384 } }),
  });
  assert.equal(put.status, 200, await put.text());
  const after = await until('the client to list the rotated roots', 20_000, async () => {
    const r = await (await fetch(`http://${clientHttp}/v1/agent/connect/ca/roots`, { headers: { 'X-Consul-Token': MGMT } })).json() as Roots;
    return r.Roots.length === 2 ? r : undefined;
  });
  assert.notEqual(after.ActiveRootID, before.ActiveRootID);
  const active = after.Roots.find((x) => x.ID === after.ActiveRootID)!;
  assert.equal(new X509Certificate(active.RootCert).publicKey.asymmetricKeyDetails?.namedCurve, 'secp384r1');
  const body = await (await leaf(MGMT)).json() as { CertPEM: string };
  assert.ok(new X509Certificate(body.CertPEM).verify(new X509Certificate(active.RootCert).publicKey), 'the kept leaf was re-signed under the new root');
});

test('a client signs ?dns-san= only for a local ingress gateway and only the hosts its entry (read from a server) lists', async () => {
  const h = { 'X-Consul-Token': MGMT };
  const put = async (url: string, body: unknown) => {
    const r = await fetch(url, { method: 'PUT', headers: h, body: JSON.stringify(body) });
    assert.equal(r.status, 200, await r.text());
  };
  await put(`http://${serverHttp}/v1/config`, { Kind: 'service-defaults', Name: 'web', Protocol: 'http' });
  await put(`http://${serverHttp}/v1/config`, { Kind: 'ingress-gateway', Name: 'gw', Listeners: [{ Port: 8080, Protocol: 'http', Services: [{ Name: 'web', Hosts: ['web.example.com'] }] }] });
  await put(`http://${clientHttp}/v1/agent/service/register`, { Kind: 'ingress-gateway', Name: 'gw', Port: 8443 });
  const get = (svc: string, sans: string[]) => fetch(`http://${clientHttp}/v1/agent/connect/ca/leaf/${svc}?${sans.map((s) => `dns-san=${encodeURIComponent(s)}`).join('&')}`, { headers: h, signal: AbortSignal.timeout(20_000) });
  const ok = await get('gw', ['web.example.com', '*.ingress.consul']);
  assert.equal(ok.status, 200, await ok.clone().text());
  assert.match(new X509Certificate(((await ok.json()) as { CertPEM: string }).CertPEM).subjectAltName ?? '', /DNS:web\.example\.com/);
  const evil = await get('gw', ['bank.example.com']);
  assert.equal(evil.status, 403);
  assert.match(await evil.text(), /bank\.example\.com/);
  const notGateway = await get('web', ['web.example.com']);
  assert.equal(notGateway.status, 403);
  await notGateway.text();
});
