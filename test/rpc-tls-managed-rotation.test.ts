// Certificate rotation on a managed server (tls.internal_rpc with verify_incoming and
// verify_server_hostname): the server starts with a short-lived certificate, a reload brings a
// new one, the first expires, and its etcd member is killed (the agent restarts it): the store's
// clients reconnect with the new certificate and writes go on.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { etcdBinary, freePort } from './support/etcd.ts';
import { killAll } from './support/procs.ts';
import { agentReq, launchTlsAgent, writeIn, type TlsAgent as Agent } from './support/tls-agents.ts';
import { testCA, type TestCA } from './support/tls-cert.ts';
import { logTails, until } from './support/wait.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-rpc-tls-rotation-'));
const ports = { http: 0, serf: 0, wan: 0, server: 0, etcdClient: 0, etcdPeer: 0 };
const m1: Agent = { name: 'm1', ip: '127.0.0.1', server: true, log: '' };
const POLL = { context: () => logTails([[m1.name, m1.log]], 2500) };
const file = (name: string, content: string): string => writeIn(dir, name, content);
const etcdPid = (): number => Number(fs.readFileSync(path.join(dir, 'm1', 'etcd', 'etcd.pid'), 'utf8'));
/** Lifetime of the first certificate: long enough to start (≈ 3 s to a leader), short enough to wait out. */
const FIRST_CERT_MS = 12_000;
let ca: TestCA;
let firstExpires = 0;

after(() => {
  killAll([m1.child]);
  try {
    process.kill(etcdPid(), 'SIGKILL');
  } catch { /* gone */ }
  fs.rmSync(dir, { recursive: true, force: true });
});

before(async () => {
  etcdBinary();
  for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
  ca = await testCA();
  file('ca.pem', ca.cert);
  const leaf = await ca.issue('m1', 'server', ['server.dc1.consul'], FIRST_CERT_MS);
  firstExpires = new X509Certificate(leaf.cert).validToDate.getTime();
  file('m1.pem', leaf.cert);
  file('m1.key', leaf.key);
  file('m1.hcl', `tls {
  defaults { ca_file = "${path.join(dir, 'ca.pem')}" cert_file = "${path.join(dir, 'm1.pem')}" key_file = "${path.join(dir, 'm1.key')}" }
  internal_rpc { verify_incoming = true verify_server_hostname = true }
}
ports { http = ${ports.http} dns = -1 grpc = -1 grpc_tls = -1 serf_lan = ${ports.serf} serf_wan = ${ports.wan} server = ${ports.server} }
store = "managed"
managed_etcd { client_port = ${ports.etcdClient} peer_port = ${ports.etcdPeer} }
`);
  launchTlsAgent(m1, dir, `${m1.ip}:${ports.serf}`);
  await until('m1 knows a leader', 60_000, async () => (await agentReq(m1, ports.http, '/v1/status/leader'))?.body.includes(':'), POLL);
});

test('after a reload with a new certificate and the old one\'s expiry, the store reconnects to a restarted etcd member', async () => {
  const leaf = await ca.issue('m1', 'server', ['server.dc1.consul']);
  file('m1.pem', leaf.cert);
  file('m1.key', leaf.key);
  assert.equal((await agentReq(m1, ports.http, '/v1/agent/reload', { method: 'PUT' }))?.status, 200);
  assert.deepEqual(await agentReq(m1, ports.http, '/v1/kv/rotation/before', { method: 'PUT', body: 'x' }), { status: 200, body: 'true' });

  // Wait the first certificate out, then drop every connection to etcd: reconnecting with it would be refused.
  await new Promise((r) => setTimeout(r, Math.max(0, firstExpires - Date.now() + 1000)));
  const old = etcdPid();
  process.kill(old, 'SIGKILL');
  await until('etcd restarted by the agent', 20_000, async () => etcdPid() !== old, POLL);
  await until('a write through the reconnected store', 30_000, async () => {
    const res = await agentReq(m1, ports.http, '/v1/kv/rotation/after', { method: 'PUT', body: 'y' });
    return res?.status === 200 && res.body === 'true';
  }, POLL);
  assert.deepEqual(await agentReq(m1, ports.http, '/v1/kv/rotation/after?raw&consistent'), { status: 200, body: 'y' });
});
