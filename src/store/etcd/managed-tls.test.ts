import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { testCA } from '../../../test/support/tls-cert.ts';
import tls, { type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { certificateNames, etcdTls, etcdTlsArgs, fromServer, scheme, type ManagedTls } from './managed-tls.ts';

async function material(verifyIncoming: boolean, servername?: string): Promise<ManagedTls> {
  const ca = await testCA();
  const leaf = await ca.issue('s1', 'server', ['server.dc1.consul']);
  return { cert: Buffer.from(leaf.cert), key: Buffer.from(leaf.key), ca: [Buffer.from(ca.cert), Buffer.from(ca.cert)], verifyIncoming, servername };
}

const flag = (args: string[], name: string): string | undefined => {
  const i = args.indexOf(name);
  if (i >= 0) return args[i + 1];
  return args.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
};

test('etcd serves its peer and client ports with the server key pair; client certificates with verify_incoming only', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-managed-tls-'));
  try {
    const open = etcdTlsArgs(path.join(dir, 'a'), await material(false));
    assert.equal(flag(open, '--client-cert-auth'), 'false');
    assert.equal(flag(open, '--peer-client-cert-auth'), 'false');
    assert.equal(flag(open, '--client-cert-allowed-hostname'), undefined);
    const tls = await material(true);
    const strict = etcdTlsArgs(path.join(dir, 'b'), tls);
    assert.equal(flag(strict, '--client-cert-auth'), 'true');
    assert.equal(flag(strict, '--peer-client-cert-auth'), 'true');
    for (const f of ['--cert-file', '--peer-cert-file']) assert.deepEqual(fs.readFileSync(flag(strict, f)!), tls.cert);
    assert.equal(fs.statSync(flag(strict, '--key-file')!).mode & 0o777, 0o600);
    assert.equal(fs.readFileSync(flag(strict, '--trusted-ca-file')!, 'utf8').match(/BEGIN CERTIFICATE/g)?.length, 2, 'every CA of the bundle');
    const servers = etcdTlsArgs(path.join(dir, 'c'), await material(true, 'server.dc1.consul'));
    assert.equal(flag(servers, '--client-cert-allowed-hostname'), 'server.dc1.consul');
    assert.equal(flag(servers, '--peer-cert-allowed-hostname'), 'server.dc1.consul');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('URLs are https with TLS; the etcd3 client gets the whole CA bundle and the servers\' name', async () => {
  assert.equal(scheme(null), 'http');
  const tls = await material(true, 'server.dc1.consul');
  assert.equal(scheme(tls), 'https');
  const client = etcdTls(tls);
  assert.equal(client.servername, 'server.dc1.consul');
  assert.equal(String(client.ca).match(/BEGIN CERTIFICATE/g)?.length, 2);
});

test('certificateNames: the advertise address must be among the certificate\'s SANs', async () => {
  const tls = await material(true);
  assert.equal(certificateNames(tls, '127.0.0.1'), true);
  assert.equal(certificateNames(tls, 'localhost'), true);
  assert.equal(certificateNames(tls, '10.0.0.7'), false);
});

/** The server side of a TLS connection from a client offering `client`, its server trusting `trusted`. */
async function serverSide(server: { cert: string; key: string }, trusted: string[], client: { cert: string; key: string }): Promise<{ socket: TLSSocket; close(): void }> {
  const srv = tls.createServer({ ...server, ca: trusted, requestCert: true, rejectUnauthorized: false });
  const accepted = new Promise<TLSSocket>((resolve) => srv.once('secureConnection', resolve));
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  const c = tls.connect({ host: '127.0.0.1', port, ...client, rejectUnauthorized: false });
  c.on('error', () => undefined);
  const socket = await accepted;
  return { socket, close: () => { c.destroy(); socket.destroy(); srv.close(); } };
}

test('fromServer: a certificate naming the servers passes only when the manual CA signed it, not a Connect root the listener also trusts', async () => {
  const manual = await testCA('Manual CA');
  const connect = await testCA('Connect CA');
  const server = await manual.issue('s1', 'server', ['server.dc1.consul']);
  const rules: ManagedTls = { cert: Buffer.from(server.cert), key: Buffer.from(server.key), ca: [Buffer.from(manual.cert)], verifyIncoming: true, servername: 'server.dc1.consul' };
  // An auto_encrypt client asks for the servers' DNS name in its CSR; the Connect CA signs it.
  const rogue = await serverSide(server, [manual.cert, connect.cert], await connect.issue('c1', 'server', ['server.dc1.consul']));
  const peer = await serverSide(server, [manual.cert, connect.cert], await manual.issue('s2', 'server', ['server.dc1.consul']));
  const client = await serverSide(server, [manual.cert, connect.cert], await manual.issue('c2', 'server', ['client.dc1.consul']));
  try {
    assert.equal(rogue.socket.authorized, true);
    assert.equal(fromServer(rules, rogue.socket), false);
    assert.equal(fromServer(rules, peer.socket), true);
    assert.equal(fromServer(rules, client.socket), false);
  } finally {
    rogue.close();
    peer.close();
    client.close();
  }
});
