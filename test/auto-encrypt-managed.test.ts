// auto_encrypt on a managed server (store = "managed"), whose server port is shared with the etcd
// bootstrap: a client with only the CA file gets its certificate there without a client
// certificate and forwards over mutual TLS; a certificate-less connection still reaches nothing
// else (the etcd bootstrap routes included).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { etcdBinary, freePort } from './support/etcd.ts';
import { killAll } from './support/procs.ts';
import { agentReq, launchTlsAgent, writeIn, type TlsAgent as Agent } from './support/tls-agents.ts';
import { testCA } from './support/tls-cert.ts';
import { httpRequest, tlsExchange } from './support/tls-probes.ts';
import { logTails, until } from './support/wait.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-ae-managed-'));
const ports = { http: 0, serf: 0, wan: 0, server: 0, etcdClient: 0, etcdPeer: 0 };
const m1: Agent = { name: 'm1', ip: '127.0.0.1', server: true, log: '' };
const c1: Agent = { name: 'c1', ip: '127.0.0.2', server: false, log: '' };
const agents = [m1, c1];
const POLL = { context: () => logTails(agents.map((a) => [a.name, a.log]), 2500) };
const file = (name: string, content: string): string => writeIn(dir, name, content);
let caPem = '';

after(() => {
  killAll(agents.map((a) => a.child));
  try {
    process.kill(Number(fs.readFileSync(path.join(dir, 'm1', 'etcd', 'etcd.pid'), 'utf8')), 'SIGKILL');
  } catch { /* gone */ }
  fs.rmSync(dir, { recursive: true, force: true });
});

const req = (a: Agent, urlPath: string, init?: RequestInit) => agentReq(a, ports.http, urlPath, init);
const portsHcl = () => `ports { http = ${ports.http} dns = -1 grpc = -1 grpc_tls = -1 serf_lan = ${ports.serf} serf_wan = ${ports.wan} server = ${ports.server} }\n`;

before(async () => {
  etcdBinary();
  for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
  const ca = await testCA();
  caPem = ca.cert;
  file('ca.pem', ca.cert);
  const leaf = await ca.issue('m1', 'server', ['server.dc1.consul']);
  file('m1.pem', leaf.cert);
  file('m1.key', leaf.key);
  file('m1.hcl', `tls {
  defaults { ca_file = "${path.join(dir, 'ca.pem')}" cert_file = "${path.join(dir, 'm1.pem')}" key_file = "${path.join(dir, 'm1.key')}" }
  internal_rpc { verify_incoming = true verify_outgoing = true verify_server_hostname = true }
}
auto_encrypt { allow_tls = true }
store = "managed"
managed_etcd { client_port = ${ports.etcdClient} peer_port = ${ports.etcdPeer} }
${portsHcl()}`);
  file('c1.hcl', `tls { defaults { ca_file = "${path.join(dir, 'ca.pem')}" } }\nauto_encrypt { tls = true }\n${portsHcl()}`);
  const join = `${m1.ip}:${ports.serf}`;
  launchTlsAgent(m1, dir, join);
  await until('m1 knows a leader', 60_000, async () => (await req(m1, '/v1/status/leader'))?.body.includes(':'), POLL);
  launchTlsAgent(c1, dir, join);
});

test('a client gets its certificate from a managed server and forwards over mutual TLS', async () => {
  await until('c1 started', 60_000, async () => (await req(c1, '/v1/agent/self'))?.status === 200, POLL);
  assert.match(c1.log, /automatically upgraded to TLS/);
  assert.deepEqual(await req(c1, '/v1/kv/ae/managed', { method: 'PUT', body: 'yes' }), { status: 200, body: 'true' });
  assert.deepEqual(await req(m1, '/v1/kv/ae/managed?raw'), { status: 200, body: 'yes' });
  await until('c1 in the catalog', 60_000, async () => (await req(c1, '/v1/catalog/nodes'))?.body.includes('"Node":"c1"'), POLL);
});

test('without a client certificate the etcd bootstrap routes stay closed', async () => {
  const r = await tlsExchange(m1.ip, ports.server, httpRequest('GET', '/v1/internal/etcd/peer'), { ca: caPem, servername: 'server.dc1.consul' });
  assert.match(r.text, /^HTTP\/1\.1 403 /);
  assert.match(r.text, /Permission denied: a client certificate is required/);
});
