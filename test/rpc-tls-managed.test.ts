// tls.internal_rpc on a managed server (store = "managed"), whose server port also carries the
// etcd bootstrap between servers: TLS is accepted there as on any server port, clients with a
// certificate from the CA forward over it, another CA's certificate is refused; plaintext stays
// open for the bootstrap, and the server says verify_incoming cannot refuse it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { etcdBinary, freePort } from './support/etcd.ts';
import { killAll } from './support/procs.ts';
import { agentReq, startTlsAgents, writeIn, type TlsAgent as Agent } from './support/tls-agents.ts';
import { testCA } from './support/tls-cert.ts';
import { logTails, until } from './support/wait.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-rpc-tls-managed-'));
const ports = { http: 0, serf: 0, wan: 0, server: 0, etcdClient: 0, etcdPeer: 0 };

const m1: Agent = { name: 'm1', ip: '127.0.0.1', server: true, log: '' };
const good: Agent = { name: 'good', ip: '127.0.0.2', server: false, log: '' };
const rogue: Agent = { name: 'rogue', ip: '127.0.0.3', server: false, log: '' };
const agents = [m1, good, rogue];
const POLL = { context: () => logTails(agents.map((a) => [a.name, a.log]), 2500) };
const file = (name: string, content: string): string => writeIn(dir, name, content);

after(() => {
  killAll(agents.map((a) => a.child));
  try {
    process.kill(Number(fs.readFileSync(path.join(dir, 'm1', 'etcd', 'etcd.pid'), 'utf8')), 'SIGKILL');
  } catch { /* gone */ }
  fs.rmSync(dir, { recursive: true, force: true });
});

function writeHcl(a: Agent): void {
  const f = (ext: string) => path.join(dir, `${a.name}.${ext}`);
  file(`${a.name}.hcl`, `tls {
  defaults { ca_file = "${path.join(dir, 'ca.pem')}" cert_file = "${f('pem')}" key_file = "${f('key')}" }
  internal_rpc { verify_incoming = true verify_outgoing = true verify_server_hostname = true }
}
ports { http = ${ports.http} dns = -1 grpc = -1 grpc_tls = -1 serf_lan = ${ports.serf} serf_wan = ${ports.wan} server = ${ports.server} }
${a.server ? `store = "managed"\nmanaged_etcd { client_port = ${ports.etcdClient} peer_port = ${ports.etcdPeer} }` : ''}
`);
}

const req = (a: Agent, urlPath: string, init?: RequestInit) => agentReq(a, ports.http, urlPath, init);

before(async () => {
  etcdBinary();
  for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
  const ca = await testCA();
  const other = await testCA('Rogue CA');
  file('ca.pem', ca.cert);
  for (const [a, leaf] of [[m1, await ca.issue('m1', 'server', ['server.dc1.consul'])], [good, await ca.issue('good', 'client')], [rogue, await other.issue('rogue', 'client')]] as const) {
    file(`${a.name}.pem`, leaf.cert);
    file(`${a.name}.key`, leaf.key);
  }
  for (const a of agents) writeHcl(a);
  await startTlsAgents(dir, ports, m1, [good, rogue], POLL);
});

test('clients forward over TLS to a managed server; another CA\'s certificate is refused; plaintext stays open for the etcd bootstrap', async () => {
  assert.deepEqual(await req(good, '/v1/kv/managed/tls', { method: 'PUT', body: 'yes' }), { status: 200, body: 'true' });
  assert.deepEqual(await req(good, '/v1/kv/managed/tls?raw'), { status: 200, body: 'yes' });
  await until('the good client in the catalog', 60_000, async () => (await req(good, '/v1/catalog/nodes'))?.body.includes('"Node":"good"'), POLL);

  const put = await req(rogue, '/v1/kv/managed/rogue', { method: 'PUT', body: 'x' });
  assert.equal(put?.status, 500);
  assert.match(put!.body, /^rpc error making call: /);
  await until('the server logs the refused certificate', 10_000, async () => /internal RPC client certificate refused: conn=from=127\.0\.0\.3:\d+/.test(m1.log), POLL);
  assert.equal((await req(m1, '/v1/kv/managed/rogue'))?.status, 404);

  // The bootstrap endpoints answer plaintext, and the server said verify_incoming cannot refuse it.
  const peer = await fetch(`http://${m1.ip}:${ports.server}/v1/internal/etcd/peer`, { signal: AbortSignal.timeout(5_000) });
  assert.equal(peer.status, 200);
  assert.match(m1.log, /verify_incoming cannot refuse plaintext on the server port a managed store shares/);
});
