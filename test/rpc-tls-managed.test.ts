// tls.internal_rpc on a managed server (store = "managed"), whose server port also carries the
// etcd bootstrap between servers: TLS is accepted there as on any server port, clients with a
// certificate from the CA forward over it, another CA's certificate is refused. With
// verify_incoming nothing answers plaintext: not the server port (bootstrap and RPC), not etcd's
// client or peer port (HTTP or gRPC); TLS without a client certificate is refused on each, and
// with verify_server_hostname a client agent's certificate reaches neither etcd nor the bootstrap.
// A reload gives etcd the server's new key pair.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, test } from 'node:test';
import { etcdBinary, freePort } from './support/etcd.ts';
import { killAll } from './support/procs.ts';
import { agentReq, startTlsAgents, writeIn, type TlsAgent as Agent } from './support/tls-agents.ts';
import { testCA, type TestCA } from './support/tls-cert.ts';
import { etcdRead, httpRequest, httpsJson, plaintextExchange, tlsExchange } from './support/tls-probes.ts';
import { logTails, until } from './support/wait.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-rpc-tls-managed-'));
const ports = { http: 0, serf: 0, wan: 0, server: 0, etcdClient: 0, etcdPeer: 0 };

const m1: Agent = { name: 'm1', ip: '127.0.0.1', server: true, log: '' };
const good: Agent = { name: 'good', ip: '127.0.0.2', server: false, log: '' };
const rogue: Agent = { name: 'rogue', ip: '127.0.0.3', server: false, log: '' };
const agents = [m1, good, rogue];
const POLL = { context: () => logTails(agents.map((a) => [a.name, a.log]), 2500) };
const file = (name: string, content: string): string => writeIn(dir, name, content);
const pem = (name: string): Buffer => fs.readFileSync(path.join(dir, name));
let ca: TestCA;

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
  ca = await testCA();
  const other = await testCA('Rogue CA');
  file('ca.pem', ca.cert);
  for (const [a, leaf] of [[m1, await ca.issue('m1', 'server', ['server.dc1.consul'])], [good, await ca.issue('good', 'client')], [rogue, await other.issue('rogue', 'client')]] as const) {
    file(`${a.name}.pem`, leaf.cert);
    file(`${a.name}.key`, leaf.key);
  }
  for (const a of agents) writeHcl(a);
  await startTlsAgents(dir, ports, m1, [good, rogue], POLL);
});

test('clients forward over TLS to a managed server; another CA\'s certificate is refused', async () => {
  assert.deepEqual(await req(good, '/v1/kv/managed/tls', { method: 'PUT', body: 'yes' }), { status: 200, body: 'true' });
  assert.deepEqual(await req(good, '/v1/kv/managed/tls?raw'), { status: 200, body: 'yes' });
  await until('the good client in the catalog', 60_000, async () => (await req(good, '/v1/catalog/nodes'))?.body.includes('"Node":"good"'), POLL);

  const put = await req(rogue, '/v1/kv/managed/rogue', { method: 'PUT', body: 'x' });
  assert.equal(put?.status, 500);
  assert.match(put!.body, /^rpc error making call: /);
  await until('the server logs the refused certificate', 10_000, async () => /internal RPC client certificate refused: conn=from=127\.0\.0\.3:\d+/.test(m1.log), POLL);
  assert.equal((await req(m1, '/v1/kv/managed/rogue'))?.status, 404);
  assert.doesNotMatch(m1.log, /verify_incoming cannot refuse plaintext/);
});

test('plaintext gets nothing from the server port, etcd\'s client port or its peer port', async () => {
  const server = await plaintextExchange(m1.ip, ports.server, httpRequest('GET', '/v1/internal/etcd/peer'));
  assert.equal(server.text, '', 'the server port answered plaintext');
  await until('the server logs the refused plaintext', 10_000, async () => /Non-TLS connection attempted with VerifyIncoming set/.test(m1.log), POLL);

  // etcd's HTTP gateway and its Raft transport over plaintext: at most Go's "HTTP request to an HTTPS server".
  for (const [port, request] of [[ports.etcdClient, httpRequest('POST', '/v3/kv/range', '{"key":"AA==","range_end":"AA=="}')], [ports.etcdPeer, httpRequest('GET', '/members')]] as const) {
    const { text } = await plaintextExchange(m1.ip, port, request);
    assert.doesNotMatch(text, /^HTTP\/1\.[01] 2\d\d/, `port ${port} answered plaintext: ${text}`);
    assert.doesNotMatch(text, /cluster_id|peerURLs|"kvs"/, `port ${port} leaked: ${text}`);
  }
  const grpc = await etcdRead(`http://${m1.ip}:${ports.etcdClient}`);
  assert.ok('error' in grpc, 'etcd answered a plaintext gRPC read');
});

test('TLS without a client certificate is refused on the server port and by etcd', async () => {
  const ca = pem('ca.pem');
  const server = await tlsExchange(m1.ip, ports.server, httpRequest('GET', '/v1/internal/etcd/peer'), { ca, servername: 'server.dc1.consul' });
  assert.doesNotMatch(server.text, /HTTP\/1\.1/, 'the server port answered TLS without a client certificate');
  await until('the server logs the refused connection', 10_000, async () => /internal RPC client certificate refused/.test(m1.log), POLL);
  for (const port of [ports.etcdClient, ports.etcdPeer]) {
    const res = await httpsJson(`https://${m1.ip}:${port}/v3/maintenance/status`, {}, { ca });
    assert.ok('error' in res, `port ${port} answered TLS without a client certificate: ${JSON.stringify(res)}`);
  }
  assert.ok('error' in await etcdRead(`https://${m1.ip}:${ports.etcdClient}`, { rootCertificate: ca }));
});

test('with verify_server_hostname a client agent\'s certificate reaches neither etcd nor the bootstrap; the server\'s own does', async () => {
  const ca = pem('ca.pem');
  const client = { ca, cert: pem('good.pem'), key: pem('good.key') };
  const server = { ca, cert: pem('m1.pem'), key: pem('m1.key') };
  assert.ok('error' in await httpsJson(`https://${m1.ip}:${ports.etcdPeer}/members`, undefined, client), 'etcd\'s peer port served a client agent\'s certificate');
  assert.ok('error' in await etcdRead(`https://${m1.ip}:${ports.etcdClient}`, { rootCertificate: ca, privateKey: client.key, certChain: client.cert }),
    'etcd served a client agent\'s certificate');
  assert.deepEqual(await httpsJson(`https://${m1.ip}:${ports.server}/v1/internal/etcd/peer`, undefined, { ...client, servername: 'server.dc1.consul' }),
    { status: 403, body: 'Permission denied: the etcd bootstrap is for servers only' });

  assert.deepEqual(await etcdRead(`https://${m1.ip}:${ports.etcdClient}`, { rootCertificate: ca, privateKey: server.key, certChain: server.cert }), { ok: true });
  const peer = await httpsJson(`https://${m1.ip}:${ports.server}/v1/internal/etcd/peer`, undefined, { ...server, servername: 'server.dc1.consul' });
  assert.ok('status' in peer && peer.status === 200, JSON.stringify(peer));
  const info = JSON.parse(peer.body) as { PeerURL: string; ClientURL: string };
  assert.equal(info.PeerURL, `https://${m1.ip}:${ports.etcdPeer}`);
  assert.equal(info.ClientURL, `https://${m1.ip}:${ports.etcdClient}`);
});

/** The SHA-256 fingerprint of the certificate `port` presents to a client with m1's files. */
async function presented(port: number): Promise<string> {
  const s = tls.connect({ host: m1.ip, port, ca: pem('ca.pem'), cert: pem('m1.pem'), key: pem('m1.key'), servername: 'server.dc1.consul' });
  try {
    await once(s, 'secureConnect');
    return s.getPeerCertificate().fingerprint256;
  } finally {
    s.destroy();
  }
}

test('a reload gives etcd the server\'s new key pair; the store keeps working', async () => {
  const before = await presented(ports.etcdClient);
  assert.equal(before, new X509Certificate(pem('m1.pem')).fingerprint256);
  const leaf = await ca.issue('m1', 'server', ['server.dc1.consul']);
  file('m1.pem', leaf.cert);
  file('m1.key', leaf.key);
  assert.equal((await req(m1, '/v1/agent/reload', { method: 'PUT' }))?.status, 200);
  const renewed = new X509Certificate(leaf.cert).fingerprint256;
  assert.notEqual(renewed, before);
  for (const port of [ports.etcdClient, ports.etcdPeer, ports.server]) assert.equal(await presented(port), renewed, `port ${port}`);
  assert.deepEqual(await req(good, '/v1/kv/managed/after-reload', { method: 'PUT', body: 'yes' }), { status: 200, body: 'true' });
  assert.deepEqual(await req(m1, '/v1/kv/managed/after-reload?raw&consistent'), { status: 200, body: 'yes' });
});
