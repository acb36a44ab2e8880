// auto_encrypt on real processes: a server (127.0.0.1) with its own certificate, verify_incoming,
// verify_outgoing, verify_server_hostname, ACLs (default deny) and auto_encrypt.allow_tls, and
// client agents that have only the CA file and auto_encrypt.tls. A client with an agent token
// gets a certificate from the server before it joins and forwards KV and catalog requests over
// mutual TLS; a client without a token is refused its certificate and never starts; a TLS
// connection without a client certificate reaches nothing but AutoEncrypt.Sign; `proconsul
// validate` reports Consul's auto_encrypt rules.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { freePort } from './support/ports.ts';
import { BIN, killAll } from './support/procs.ts';
import { launchTlsAgent, writeIn, type TlsAgent as Agent } from './support/tls-agents.ts';
import { testCA, type TestCA } from './support/tls-cert.ts';
import { logTails, until } from './support/wait.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-auto-encrypt-'));
const run = promisify(execFile);
const ports = { http: 0, https: 0, serf: 0, wan: 0, server: 0 };
const MGMT = 'c2a8f5e4-6a3b-4f0e-9d2c-1b7e8a9f0d11';

const s1: Agent = { name: 's1', ip: '127.0.0.1', server: true, log: '' };
/** A client whose agent token may write its node. */
const good: Agent = { name: 'good', ip: '127.0.0.2', server: false, log: '' };
/** A client without any token. */
const anon: Agent = { name: 'anon', ip: '127.0.0.3', server: false, log: '' };
const agents = [s1, good, anon];
const POLL = { context: () => logTails(agents.map((a) => [a.name, a.log]), 2500) };
let ca: TestCA;
const file = (name: string, content: string): string => writeIn(dir, name, content);

after(() => {
  killAll(agents.map((a) => a.child));
  fs.rmSync(dir, { recursive: true, force: true });
});

const portsHcl = (https = -1) => `ports { http = ${ports.http} https = ${https} dns = -1 grpc = -1 grpc_tls = -1 serf_lan = ${ports.serf} serf_wan = ${ports.wan} server = ${ports.server} }\n`;
const aclHcl = (token: string) => `acl { enabled = true default_policy = "deny" tokens { ${token ? `agent = "${token}"` : ''} } }\n`;

function serverHcl(): string {
  return `tls {
  defaults { ca_file = "${path.join(dir, 'ca.pem')}" cert_file = "${path.join(dir, 's1.pem')}" key_file = "${path.join(dir, 's1.key')}" }
  internal_rpc { verify_incoming = true verify_outgoing = true verify_server_hostname = true }
}
auto_encrypt { allow_tls = true }
# Leaves valid for 20 s (80 s from a minute ago): the clients renew them while the test runs, from
# at once to 12 s after each is issued (60-90% of the lifetime). That is under Consul's 1h minimum
# leaf TTL, which only its SkipValidate test switch lets through.
connect { ca_config { leaf_cert_ttl = "80s" SkipValidate = true } }
acl { enabled = true default_policy = "deny" tokens { initial_management = "${MGMT}" agent = "${MGMT}" } }
${portsHcl()}`;
}

function clientHcl(token: string): string {
  return `tls { defaults { ca_file = "${path.join(dir, 'ca.pem')}" } }
auto_encrypt { tls = true dns_san = ["client.example"] }
${aclHcl(token)}${portsHcl(ports.https)}`;
}

async function req(a: Agent, urlPath: string, init: RequestInit = {}): Promise<{ status: number; body: string } | undefined> {
  try {
    const r = await fetch(`http://${a.ip}:${ports.http}${urlPath}`, {
      signal: AbortSignal.timeout(10_000), ...init, headers: { 'X-Consul-Token': MGMT, ...(init.headers as Record<string, string> | undefined) },
    });
    return { status: r.status, body: await r.text() };
  } catch {
    return undefined;
  }
}

/** A request on the server port over TLS without any client certificate. */
function certless(method: string, urlPath: string, body = '', headers: Record<string, string> = {}): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const s = tls.connect({ host: s1.ip, port: ports.server, ca: ca.cert, servername: 'server.dc1.consul' }, () => {
      const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      s.write(`${method} ${urlPath} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`);
    });
    let text = '';
    s.on('data', (c) => (text += c.toString()));
    s.on('error', (err) => resolve({ error: err.message }));
    s.on('close', () => {
      const m = /^HTTP\/1\.1 (\d+)[^]*?\r\n\r\n([^]*)$/.exec(text);
      resolve(m ? { status: Number(m[1]), body: m[2] } : { error: `no answer: ${JSON.stringify(text)}` });
    });
  });
}

before(async () => {
  for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
  ca = await testCA();
  file('ca.pem', ca.cert);
  const leaf = await ca.issue('s1', 'server', ['server.dc1.consul']);
  file('s1.pem', leaf.cert);
  file('s1.key', leaf.key);
  file('s1.hcl', serverHcl());
  file('good.hcl', clientHcl(MGMT));
  file('anon.hcl', clientHcl(''));
  const join = `${s1.ip}:${ports.serf}`;
  launchTlsAgent(s1, dir, join);
  await until('s1 knows a leader', 60_000, async () => (await req(s1, '/v1/status/leader'))?.body.includes(':'), POLL);
  // The CA root exists once the leader's duties ran.
  await until('s1 has a Connect CA root', 30_000, async () => (await req(s1, '/v1/connect/ca/roots'))?.body.includes('"Active":true'), POLL);
  launchTlsAgent(good, dir, join);
  launchTlsAgent(anon, dir, join);
});

test('a client with only the CA file gets a certificate and forwards KV and catalog requests over mutual TLS', async () => {
  await until('good started', 60_000, async () => (await req(good, '/v1/agent/self'))?.status === 200, POLL);
  assert.match(good.log, /automatically upgraded to TLS/);
  assert.match(good.log, / Auto-Encrypt-TLS: true\n/);
  assert.match(s1.log, / Auto-Encrypt-TLS: true\n/);
  const put = await req(good, '/v1/kv/ae/hello', { method: 'PUT', body: 'world' });
  assert.deepEqual(put, { status: 200, body: 'true' });
  assert.deepEqual(await req(good, '/v1/kv/ae/hello?raw'), { status: 200, body: 'world' });
  // Anti-entropy registered the client's node through the server.
  await until('good in the catalog', 60_000, async () => (await req(good, '/v1/catalog/nodes'))?.body.includes('"Node":"good"'), POLL);
  assert.equal((await req(s1, '/v1/kv/ae/hello?raw'))?.body, 'world');
  assert.doesNotMatch(s1.log, /Non-TLS connection attempted|internal RPC client certificate refused/);
});

test('the client\'s HTTPS listener serves its automatic certificate; agent/self shows the settings', async () => {
  const presented = await new Promise<tls.PeerCertificate>((resolve, reject) => {
    const sock = tls.connect({ host: good.ip, port: ports.https, rejectUnauthorized: false }, () => {
      resolve(sock.getPeerCertificate());
      sock.end();
    });
    sock.on('error', reject);
  });
  const clusterId = JSON.parse((await req(s1, '/v1/connect/ca/roots'))!.body).TrustDomain as string;
  assert.equal(presented.subjectaltname, `DNS:localhost, DNS:client.example, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, URI:spiffe://${clusterId}/agent/client/dc/dc1/id/good`);
  const debug = async (a: Agent) => JSON.parse((await req(a, '/v1/agent/self'))!.body).DebugConfig as Record<string, unknown>;
  const c = await debug(good);
  assert.deepEqual([c.AutoEncryptTLS, c.AutoEncryptDNSSAN, c.AutoEncryptIPSAN, c.AutoEncryptAllowTLS], [true, ['client.example'], [], false]);
  const s = await debug(s1);
  assert.deepEqual([s.AutoEncryptTLS, s.AutoEncryptAllowTLS], [false, true]);
});

test('the client renews its certificate before it expires and keeps working after the first one expired', async () => {
  const presented = (): Promise<tls.PeerCertificate> => new Promise((resolve, reject) => {
    const sock = tls.connect({ host: good.ip, port: ports.https, rejectUnauthorized: false }, () => {
      resolve(sock.getPeerCertificate());
      sock.end();
    });
    sock.on('error', reject);
  });
  const first = await presented();
  const expiry = Date.parse(first.valid_to);
  assert.ok(expiry - Date.now() < 30_000, `a short leaf: ${first.valid_to}`);
  await until('the first certificate expired', 60_000, async () => Date.now() > expiry + 1_000, POLL);
  assert.match(good.log, /renewed the agent TLS certificate/);
  assert.doesNotMatch(good.log, /failed to renew the agent TLS certificate/);
  assert.notEqual((await presented()).serialNumber, first.serialNumber);
  assert.deepEqual(await req(good, '/v1/kv/ae/renewed', { method: 'PUT', body: 'yes' }), { status: 200, body: 'true' });
});

test('a client without a token is refused its certificate and does not start', async () => {
  await until('anon refused', 60_000, async () => /AutoEncrypt\.Sign RPC failed.*403.*Permission denied.*node:write/.test(anon.log), POLL);
  assert.equal(await req(anon, '/v1/agent/self'), undefined, 'its HTTP port never opened');
  assert.doesNotMatch(anon.log, /automatically upgraded to TLS/);
});

test('without a client certificate the server port serves AutoEncrypt.Sign and nothing else', async () => {
  const kv = await certless('GET', '/v1/kv/ae/hello');
  assert.deepEqual(kv, { status: 403, body: 'Permission denied: a client certificate is required\n' });
  // The sign route is reached (and refused for the anonymous token by ACLs, not by TLS).
  const sign = await certless('POST', '/v1/internal/rpc/auto-encrypt/sign', '{"Datacenter":"dc2","CSR":""}', { 'X-Consul-Token': MGMT });
  assert.ok('status' in sign, JSON.stringify(sign));
  assert.equal(sign.status, 400);
  assert.match(sign.body, /mismatched datacenter \(client_dc='dc2' server_dc='dc1'\); check client has same datacenter set as servers/);
  await until('the server logs the refusal', 10_000, async () => /request without a client certificate refused/.test(s1.log), POLL);
});

test('proconsul validate reports the auto_encrypt rules in Consul\'s words', async () => {
  const validate = async (name: string, hcl: string): Promise<string> => {
    const p = file(name, hcl);
    try {
      await run(process.execPath, [BIN, 'validate', p]);
      return 'valid';
    } catch (err) {
      return (err as { stderr: string }).stderr;
    }
  };
  const base = `data_dir = "${dir}"\nbind_addr = "127.0.0.1"\n`;
  assert.equal(await validate('v1.hcl', `${base}server = true\nauto_encrypt { tls = true }\n`), 'Config validation failed: auto_encrypt.tls can only be used on a client.\n');
  assert.equal(await validate('v2.hcl', `${base}auto_encrypt { allow_tls = true }\n`), 'Config validation failed: auto_encrypt.allow_tls can only be used on a server.\n');
  assert.equal(await validate('v3.hcl', `${base}auto_encrypt { tls = true }\nauto_config { enabled = true }\n`), 'Config validation failed: both auto_encrypt.tls and auto_config.enabled cannot be set to true.\n');
});
