// auto_encrypt on the server port and in the TlsConfigurator: a TLS connection without a client
// certificate reaches only the insecure listener (a bad certificate is still refused); a server
// trusting the Connect roots accepts a client certificate they signed; a client's automatic
// certificate and roots make its outgoing RPC mutual TLS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { silentLogger } from '../log.ts';
import type { TlsConfig, TlsProtocolConfig } from './config/tls.ts';
import { Forwarder } from './forward.ts';
import { RpcListener } from './rpc-listener.ts';
import { TlsConfigurator } from './tls-configurator.ts';
import { testCA } from '../../test/support/tls-cert.ts';
import { createCsr, parseCsr } from '../connect/csr.ts';
import { agentUri, generateRoot } from '../connect/index.ts';
import { signLeaf } from '../connect/leaf-cert.ts';
import { tlsProtocol } from '../../test/support/tls-config.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-rpc-ae-'));
const f = (name: string) => path.join(dir, name);
const cleanup: (() => unknown)[] = [];
let connectRoot = '';
let leaf = { cert: '', key: '' };

before(async () => {
  const ca = await testCA();
  const rogue = await testCA('Rogue CA');
  fs.writeFileSync(f('ca.pem'), ca.cert);
  const write = (name: string, c: { cert: string; key: string }) => {
    fs.writeFileSync(f(`${name}.pem`), c.cert);
    fs.writeFileSync(f(`${name}.key`), c.key);
  };
  write('server', await ca.issue('s1', 'server', ['server.dc1.consul']));
  write('rogue', await rogue.issue('r1', 'client'));
  const { root, privateKeyPem } = await generateRoot({ clusterId: 'c0ffee00-0000-0000-0000-000000000000', datacenter: 'dc1', clock: { now: () => Date.now() } });
  connectRoot = root.RootCert;
  const { csrPem, keyPem } = await createCsr(agentUri({ host: 'c0ffee00-0000-0000-0000-000000000000.consul', datacenter: 'dc1', agent: 'c1' }), ['localhost'], ['127.0.0.1']);
  const csr = await parseCsr(csrPem);
  const signed = signLeaf({ spki: csr.spki, uris: csr.uris, dnsNames: csr.dnsNames, ipAddresses: csr.ipAddresses, ttlMs: 3_600_000, nowMs: Date.now() }, root.RootCert, privateKeyPem);
  leaf = { cert: signed.certPem, key: keyPem };
});
after(async () => {
  for (const c of cleanup.reverse()) await c();
  fs.rmSync(dir, { recursive: true, force: true });
});

const proto = tlsProtocol;
const tlsConfig = (rpc: Partial<TlsProtocolConfig>, autoTls = false): TlsConfig => ({
  internalRpc: proto(rpc), https: proto(), grpc: proto(), serverMode: !autoTls, serverName: '', nodeName: 'n',
  domain: 'consul.', enableAgentTlsForChecks: false, autoTls,
});

function serverConf(): TlsConfigurator {
  const t = new TlsConfigurator('dc1');
  t.update(tlsConfig({ caFile: f('ca.pem'), certFile: f('server.pem'), keyFile: f('server.key'), verifyIncoming: true }));
  return t;
}

async function listen(t: TlsConfigurator, insecure: boolean): Promise<number> {
  const l = new RpcListener({
    tls: t, logger: silentLogger(),
    serve: (req, res) => res.end(`secure ${req.url}`),
    ...(insecure ? { insecure: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => res.end(`insecure ${req.url}`) } : {}),
  });
  await l.listen('127.0.0.1', 0);
  cleanup.push(() => l.close());
  return Number(l.addresses()[0].split(':')[1]);
}

function get(port: number, options: https.RequestOptions): Promise<string> {
  return new Promise((resolve) => {
    const req = https.request({ host: '127.0.0.1', port, path: '/x', agent: false, ca: fs.readFileSync(f('ca.pem')), checkServerIdentity: () => undefined, ...options }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(body));
    });
    req.on('error', (err) => resolve(`error ${err.message}`));
    req.end();
  });
}

test('with verify_incoming, a TLS connection without a client certificate reaches only the insecure listener', async () => {
  const port = await listen(serverConf(), true);
  assert.equal(await get(port, {}), 'insecure /x');
  // A certificate from another CA is refused, not downgraded.
  assert.match(await get(port, { cert: fs.readFileSync(f('rogue.pem')), key: fs.readFileSync(f('rogue.key')) }), /^error /);
  const strict = await listen(serverConf(), false);
  assert.match(await get(strict, {}), /^error /);
});

test('a server trusting the Connect roots accepts a client certificate they signed', async () => {
  const t = serverConf();
  const port = await listen(t, false);
  const withLeaf = { cert: leaf.cert, key: leaf.key };
  assert.match(await get(port, withLeaf), /^error /);
  t.updateConnectCas([connectRoot]);
  assert.equal(await get(port, withLeaf), 'secure /x');
  // The same roots again change nothing (no new version).
  const v = t.version;
  t.updateConnectCas([connectRoot]);
  assert.equal(t.version, v);
});

test('a client\'s automatic certificate makes outgoing RPC mutual TLS; the servers\' hostname rule comes with it', async () => {
  const server = serverConf();
  server.updateConnectCas([connectRoot]);
  const port = await listen(server, false);
  const client = new TlsConfigurator('dc1');
  client.update(tlsConfig({ caFile: f('ca.pem') }, true));
  // With a CA and auto_encrypt, outgoing RPC is TLS even before the certificate (no client certificate yet).
  assert.ok(client.outgoingRpc());
  assert.equal(client.outgoingRpc()!.cert, undefined);
  assert.equal(client.insecureRpc()!.cert, undefined);
  assert.deepEqual(client.manualCaPems(), [fs.readFileSync(f('ca.pem'), 'utf8')]);
  client.updateAutoTls({ certPem: leaf.cert, keyPem: leaf.key, connectCaPems: [connectRoot], manualCaPems: [], verifyServerHostname: true });
  assert.equal(client.verifyServerHostname(), true);
  assert.equal(client.outgoingRpc()!.servername, 'server.dc1.consul');
  const fw = new Forwarder({ logger: silentLogger(), tls: client });
  cleanup.push(() => fw.close());
  const res = await fw.send({ servers: () => [`127.0.0.1:${port}`] }, { method: 'GET', url: '/y', headers: {} });
  assert.equal(res.body.toString(), 'secure /y');
});
