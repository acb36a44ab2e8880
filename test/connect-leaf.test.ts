// GET /v1/agent/connect/ca/leaf/<service> over HTTP on an in-process dev agent: a leaf for the
// service's SPIFFE ID that chains to the active root of /v1/connect/ca/roots, lasts the stored
// leaf TTL, is kept (X-Cache HIT, same serial), answers a blocking read that times out with the
// same index, and lets two services complete a mutual TLS handshake with the roots as CA.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { after, before, test } from 'node:test';
import { startDevAgent, type DevAgent } from './support/agent.ts';

let dev: DevAgent;

before(async () => {
  dev = await startDevAgent({ config: { connect: { enabled: true, caProvider: 'consul', caConfig: { LeafCertTTL: '2h' } } } });
});
after(() => dev?.stop());

interface Leaf {
  SerialNumber: string; CertPEM: string; PrivateKeyPEM: string; Service: string; ServiceURI: string;
  ValidAfter: string; ValidBefore: string; CreateIndex: number; ModifyIndex: number;
}

async function get(path: string): Promise<{ status: number; headers: Headers; body: any }> {
  const r = await fetch(`http://${dev.httpAddr}${path}`, { signal: AbortSignal.timeout(20_000) });
  const text = await r.text();
  return { status: r.status, headers: r.headers, body: r.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
}

async function activeRoot(): Promise<{ pem: string; trustDomain: string }> {
  const { body } = await get('/v1/connect/ca/roots');
  return { pem: body.Roots.find((r: { Active: boolean }) => r.Active).RootCert, trustDomain: body.TrustDomain };
}

test('a service leaf chains to the active root, names the service\'s SPIFFE ID and lasts the leaf TTL', async () => {
  const res = await get('/v1/agent/connect/ca/leaf/web');
  assert.equal(res.status, 200);
  const leaf = res.body as Leaf;
  assert.deepEqual(Object.keys(leaf), ['SerialNumber', 'CertPEM', 'PrivateKeyPEM', 'Service', 'ServiceURI', 'ValidAfter', 'ValidBefore', 'CreateIndex', 'ModifyIndex']);
  const { pem, trustDomain } = await activeRoot();
  const uri = `spiffe://${trustDomain}/ns/default/dc/dc1/svc/web`;
  assert.equal(leaf.Service, 'web');
  assert.equal(leaf.ServiceURI, uri);
  assert.match(leaf.PrivateKeyPEM, /^-----BEGIN EC PRIVATE KEY-----/);
  assert.equal(res.headers.get('x-consul-index'), String(leaf.ModifyIndex));
  assert.equal(res.headers.get('x-cache'), 'MISS');
  const cert = new X509Certificate(leaf.CertPEM);
  const root = new X509Certificate(pem);
  assert.ok(cert.verify(root.publicKey), 'signed by the active root');
  assert.ok(cert.checkIssued(root));
  assert.equal(cert.subjectAltName, `URI:${uri}`);
  assert.equal(cert.serialNumber.toLowerCase().replace(/^0+/, ''), leaf.SerialNumber.replaceAll(':', '').replace(/^0+/, ''));
  assert.equal(cert.validToDate.getTime() - cert.validFromDate.getTime(), 2 * 3_600_000);
  assert.equal(Date.parse(leaf.ValidBefore), cert.validToDate.getTime());
});

test('a leaf for no service is refused as Consul\'s leafcert refuses it', async () => {
  const res = await get('/v1/agent/connect/ca/leaf/');
  assert.equal(res.status, 500);
  assert.equal(res.body, 'URI must be either service, agent, server, or kind');
});

test('the agent keeps the leaf: the next read is a cache hit with the same certificate', async () => {
  const first = (await get('/v1/agent/connect/ca/leaf/api')).body as Leaf;
  const again = await get('/v1/agent/connect/ca/leaf/api');
  assert.equal(again.headers.get('x-cache'), 'HIT');
  assert.match(again.headers.get('age') ?? '', /^\d+$/);
  assert.equal((again.body as Leaf).SerialNumber, first.SerialNumber);
  // A blocking read past the kept leaf's index answers the same leaf when its wait ends.
  const blocked = await get(`/v1/agent/connect/ca/leaf/api?index=${first.ModifyIndex}&wait=200ms`);
  assert.equal(blocked.status, 200);
  assert.equal((blocked.body as Leaf).SerialNumber, first.SerialNumber);
  assert.equal(blocked.headers.get('x-consul-index'), String(first.ModifyIndex));
});

test('two services\' leaves complete a mutual TLS handshake with the roots as CA', async () => {
  const { pem } = await activeRoot();
  const web = (await get('/v1/agent/connect/ca/leaf/web')).body as Leaf;
  const db = (await get('/v1/agent/connect/ca/leaf/db')).body as Leaf;
  let peerUri = '';
  const server = tls.createServer({ cert: db.CertPEM, key: db.PrivateKeyPEM, ca: pem, requestCert: true, rejectUnauthorized: true }, (s) => {
    peerUri = s.getPeerX509Certificate()?.subjectAltName ?? '';
    s.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const port = (server.address() as { port: number }).port;
    const reply = await new Promise<{ authorized: boolean; server: string; data: string }>((resolve, reject) => {
      const s = tls.connect({
        host: '127.0.0.1', port, cert: web.CertPEM, key: web.PrivateKeyPEM, ca: pem,
        // Connect identities are SPIFFE URIs, not host names: the URI is checked instead.
        checkServerIdentity: (_h, c) => (c.subjectaltname === `URI:${db.ServiceURI}` ? undefined : new Error(`unexpected ${c.subjectaltname}`)),
      }, () => {
        let data = '';
        s.on('data', (d: Buffer) => { data += d.toString(); });
        s.on('end', () => resolve({ authorized: s.authorized, server: s.getPeerX509Certificate()?.subjectAltName ?? '', data }));
      });
      s.on('error', reject);
    });
    assert.equal(reply.authorized, true);
    assert.equal(reply.data, 'ok');
    assert.equal(reply.server, `URI:${db.ServiceURI}`);
    assert.equal(peerUri, `URI:${web.ServiceURI}`);
  } finally {
    server.close();
  }
});
