import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { test } from 'node:test';
import { generateRoot } from '../ca-root.ts';
import { signLeaf } from '../leaf-cert.ts';
import { dialExternal, serverCheck, upstreamTls } from './terminating-upstream.ts';

test('a link without a CAFile is dialled in plain TCP; with one, an unreadable file is an error', () => {
  const read: string[] = [];
  assert.equal(upstreamTls({ CertFile: '/c', KeyFile: '/k', SNI: 'x' }, (p) => (read.push(p), '')), undefined);
  assert.deepEqual(read, []);
  assert.throws(() => upstreamTls({ CAFile: '/ca' }, (p) => { throw new Error(`open ${p}: no such file or directory`); }), /open \/ca/);
});

test('with an SNI the server certificate must name it; without one any certificate passes the name check', () => {
  const cert = { subject: { CN: 'db.example' }, subjectaltname: 'DNS:db.example' } as unknown as tls.PeerCertificate;
  assert.equal(serverCheck('db.example')('127.0.0.1', cert), undefined);
  assert.ok(serverCheck('other.example')('127.0.0.1', cert) instanceof Error);
  assert.equal(serverCheck(undefined)('127.0.0.1', cert), undefined);
});

test('a plain dial connects to the instance; a refused one fails with the address', async () => {
  const server = net.createServer((c) => c.end('hi'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  try {
    const s = await dialExternal({ host: '127.0.0.1', port }, undefined, 2_000);
    const got = await new Promise<string>((r) => { let b = ''; s.on('data', (d) => { b += d; }); s.on('end', () => r(b)); });
    assert.equal(got, 'hi');
  } finally {
    server.close();
  }
  await assert.rejects(dialExternal({ host: '127.0.0.1', port }, undefined, 2_000), new RegExp(`dial 127\\.0\\.0\\.1:${port}: `));
  await assert.rejects(dialExternal({ host: '127.0.0.1', port }, { failed: 'bad CA' }, 2_000), /TLS settings not loaded: bad CA/);
});

test('a TLS dial trusts only the CAFile and checks the SNI: another CA or another name is refused', async () => {
  const ca = await generateRoot({ clusterId: '11111111-2222-3333-4444-555555555555', datacenter: 'dc1', clock: { now: () => Date.now() } });
  const other = await generateRoot({ clusterId: '66666666-2222-3333-4444-555555555555', datacenter: 'dc1', clock: { now: () => Date.now() } });
  const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const leaf = signLeaf({
    spki: keys.publicKey.export({ type: 'spki', format: 'der' }), uris: [], dnsNames: ['db.example'], ipAddresses: ['127.0.0.1'], ttlMs: 3_600_000, nowMs: Date.now(),
  }, ca.root.RootCert, ca.privateKeyPem);
  const server = tls.createServer({ cert: leaf.certPem, key: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string }, (c) => c.end('secret'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  const target = { host: '127.0.0.1', port };
  try {
    const ok = await dialExternal(target, upstreamTls({ CAFile: 'ca', SNI: 'db.example' }, () => ca.root.RootCert), 2_000);
    ok.destroy();
    await assert.rejects(dialExternal(target, upstreamTls({ CAFile: 'ca' }, () => other.root.RootCert), 2_000));
    await assert.rejects(dialExternal(target, upstreamTls({ CAFile: 'ca', SNI: 'web.example' }, () => ca.root.RootCert), 2_000), /web\.example/);
  } finally {
    server.close();
  }
});
