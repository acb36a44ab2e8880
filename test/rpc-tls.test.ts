// tls.internal_rpc on real processes: a server (127.0.0.1) with verify_incoming, verify_outgoing
// and verify_server_hostname, and client agents (127.0.0.2-4) joined over gossip, with
// certificates made at test time. A client with a CA-signed certificate forwards KV and catalog
// requests over TLS; plaintext on the server port and a client certificate from another CA are
// refused with the server saying why; a reload (`proconsul reload`, then SIGHUP) makes the server present
// a new certificate, and one without server.dc1.consul is refused by a client that checks it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { freePort } from './support/ports.ts';
import { BIN, killAll } from './support/procs.ts';
import { agentReq, knowsServer as knowsServerAt, launchTlsAgent, startTlsAgents, writeIn, type TlsAgent as Agent } from './support/tls-agents.ts';
import { testCA, type TestCA } from './support/tls-cert.ts';
import { logTails, until } from './support/wait.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-rpc-tls-'));
const run = promisify(execFile);
const ports = { http: 0, serf: 0, wan: 0, server: 0 };

const s1: Agent = { name: 's1', ip: '127.0.0.1', server: true, log: '' };
/** A client with a certificate from the CA. */
const good: Agent = { name: 'good', ip: '127.0.0.2', server: false, log: '' };
/** A client whose certificate another CA signed. */
const rogue: Agent = { name: 'rogue', ip: '127.0.0.3', server: false, log: '' };
/** A client started after the server's certificate lost server.dc1.consul. */
const late: Agent = { name: 'late', ip: '127.0.0.4', server: false, log: '' };
const agents = [s1, good, rogue, late];
const POLL = { context: () => logTails(agents.map((a) => [a.name, a.log]), 2500) };

let ca: TestCA;
const file = (name: string, content: string): string => writeIn(dir, name, content);

after(() => {
  killAll(agents.map((a) => a.child));
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The tls stanza every agent uses: all three checks on, files named after the agent. */
function tlsHcl(a: Agent): string {
  return `tls {
  defaults { ca_file = "${path.join(dir, `${a.name}-ca.pem`)}" cert_file = "${path.join(dir, `${a.name}.pem`)}" key_file = "${path.join(dir, `${a.name}.key`)}" }
  internal_rpc { verify_incoming = true verify_outgoing = true verify_server_hostname = true }
}
ports { http = ${ports.http} dns = -1 grpc = -1 grpc_tls = -1 serf_lan = ${ports.serf} serf_wan = ${ports.wan} server = ${ports.server} }
`;
}

function launch(a: Agent): void {
  file(`${a.name}.hcl`, tlsHcl(a));
  launchTlsAgent(a, dir, `${s1.ip}:${ports.serf}`);
}

const req = (a: Agent, urlPath: string, init?: RequestInit) => agentReq(a, ports.http, urlPath, init);
/** Until the client knows the server from gossip (its requests go somewhere). */
const knowsServer = (a: Agent) => knowsServerAt(a, ports.http, POLL);

/** The serial of the certificate the server port presents now, over a fresh TLS connection with the good client's files. */
function presentedSerial(): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({
      host: s1.ip, port: ports.server, ca: ca.cert, cert: fs.readFileSync(path.join(dir, 'good.pem')), key: fs.readFileSync(path.join(dir, 'good.key')),
      checkServerIdentity: () => undefined,
    }, () => {
      resolve(s.getPeerCertificate().serialNumber);
      s.destroy();
    });
    s.on('error', reject);
  });
}

async function serverCert(name: string, dnsNames: string[]): Promise<string> {
  const leaf = await ca.issue(name, 'server', dnsNames);
  file('s1.pem', leaf.cert);
  file('s1.key', leaf.key);
  return new X509Certificate(leaf.cert).serialNumber;
}

before(async () => {
  for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
  ca = await testCA();
  const other = await testCA('Rogue CA');
  await serverCert('s1', ['server.dc1.consul']);
  for (const a of [s1, good, rogue, late]) file(`${a.name}-ca.pem`, ca.cert);
  for (const [a, issuer] of [[good, ca], [rogue, other], [late, ca]] as const) {
    const leaf = await issuer.issue(a.name, 'client');
    file(`${a.name}.pem`, leaf.cert);
    file(`${a.name}.key`, leaf.key);
  }
  for (const a of [s1, good, rogue]) file(`${a.name}.hcl`, tlsHcl(a));
  await startTlsAgents(dir, ports, s1, [good, rogue], POLL);
});

test('a client with a certificate from the CA forwards KV and catalog requests to the server over TLS', async () => {
  const put = await req(good, '/v1/kv/tls/hello', { method: 'PUT', body: 'world' });
  assert.deepEqual(put, { status: 200, body: 'true' });
  const got = await req(good, '/v1/kv/tls/hello?raw');
  assert.deepEqual(got, { status: 200, body: 'world' });
  // The client's anti-entropy registered its node through the server.
  await until('the good client in the catalog', 60_000, async () => (await req(good, '/v1/catalog/nodes'))?.body.includes('"Node":"good"'), POLL);
  // Answered by the server: the write is there.
  assert.equal((await req(s1, '/v1/kv/tls/hello?raw'))?.body, 'world');
  // No plaintext connection was attempted on the way.
  assert.doesNotMatch(s1.log, /Non-TLS connection attempted/);
});

test('with verify_incoming the server port refuses plaintext, and client certificates another CA signed', async () => {
  // A plaintext HTTP request: the connection is closed without an answer.
  const answer = await new Promise<string>((resolve) => {
    let text = '';
    const s = net.connect({ host: s1.ip, port: ports.server }, () => s.write(`GET /v1/status/leader HTTP/1.1\r\nHost: x\r\n\r\n`));
    s.on('data', (c) => (text += c.toString()));
    s.on('error', () => undefined);
    s.on('close', () => resolve(text));
  });
  assert.equal(answer, '');
  await until('the server says why', 10_000, async () => /Non-TLS connection attempted with VerifyIncoming set/.test(s1.log), POLL);

  const put = await req(rogue, '/v1/kv/tls/rogue', { method: 'PUT', body: 'x' });
  assert.equal(put?.status, 500);
  assert.match(put!.body, /^rpc error making call: /);
  const read = await req(rogue, '/v1/kv/tls/hello');
  assert.equal(read?.status, 500);
  await until('the server logs the refused certificate', 10_000, async () => /internal RPC client certificate refused: conn=from=127\.0\.0\.3:\d+ error=\S+/.test(s1.log), POLL);
  assert.equal((await req(s1, '/v1/kv/tls/rogue'))?.status, 404, 'the rogue write never arrived');
});

test('a reload makes the server present a new certificate; one without server.dc1.consul is refused by verify_server_hostname', async () => {
  const before = await presentedSerial();
  const renewed = await serverCert('s1', ['server.dc1.consul']);
  assert.notEqual(renewed, before);
  // Until the reload the old certificate stays.
  assert.equal(await presentedSerial(), before);
  const reloaded = await run(process.execPath, [BIN, 'reload', `-http-addr=${s1.ip}:${ports.http}`]);
  assert.equal(reloaded.stdout, 'Configuration reload triggered\n');
  assert.equal(await presentedSerial(), renewed);

  // SIGHUP does the same; this certificate is not valid for server.dc1.consul.
  const wrongName = await serverCert('s1', []);
  s1.child!.kill('SIGHUP');
  await until('the server presents the new certificate', 10_000, async () => (await presentedSerial()) === wrongName, POLL);
  launch(late);
  await knowsServer(late);
  const put = await req(late, '/v1/kv/tls/late', { method: 'PUT', body: 'x' });
  assert.equal(put?.status, 500);
  assert.match(put!.body, /server\.dc1\.consul/);
  assert.match(put!.body, /altnames/);
  assert.equal((await req(s1, '/v1/kv/tls/late'))?.status, 404);
});

test('a reload whose files are bad fails and keeps the loaded certificate', async () => {
  const current = await presentedSerial();
  fs.writeFileSync(path.join(dir, 's1.pem'), 'not a certificate');
  const res = await req(s1, '/v1/agent/reload', { method: 'PUT' });
  assert.equal(res?.status, 500);
  assert.match(res!.body, /^Failed reloading tls configuration: Failed to load cert\/key pair: /);
  const cli = await run(process.execPath, [BIN, 'reload', `-http-addr=${s1.ip}:${ports.http}`]).catch((err: { code: number; stderr: string }) => err);
  assert.equal((cli as { code?: number }).code, 1);
  assert.match((cli as { stderr: string }).stderr, /^Error reloading: Unexpected response code: 500 \(Failed reloading tls configuration: /);
  assert.equal(await presentedSerial(), current);
});
