import assert from 'node:assert/strict';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, test } from 'node:test';
import type { ConsulClient } from '../../api/index.ts';
import { silentLogger } from '../../log.ts';
import { generateRoot } from '../ca-root.ts';
import { signLeaf } from '../leaf-cert.ts';
import type { DiscoveryTarget } from '../discovery-chain/index.ts';
import { attempt } from './l7-forward.ts';
import { TargetInstances } from './l7-targets.ts';

const TD = '11111111-2222-3333-4444-555555555555.consul';
const uri = (svc: string) => `spiffe://${TD}/ns/default/dc/dc1/svc/${svc}`;
let ca: Awaited<ReturnType<typeof generateRoot>>;

function leaf(svc: string): { cert: string; key: string; serial: string } {
  const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const l = signLeaf({
    spki: keys.publicKey.export({ type: 'spki', format: 'der' }), uris: [uri(svc)], dnsNames: [], ipAddresses: [], ttlMs: 3_600_000, nowMs: Date.now(),
  }, ca.root.RootCert, ca.privateKeyPem);
  const key = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  return { cert: l.certPem, key, serial: new X509Certificate(l.certPem).serialNumber };
}

const target: DiscoveryTarget = {
  ID: 'api.default.default.dc1', Service: 'api', Namespace: 'default', Partition: 'default', Datacenter: 'dc1',
  MeshGateway: {}, Subset: {}, TransparentProxy: {}, SNI: '', Name: 'api',
} as DiscoveryTarget;

before(async () => {
  ca = await generateRoot({ clusterId: '11111111-2222-3333-4444-555555555555', datacenter: 'dc1', clock: { now: () => Date.now() } });
});

/**
 * An mTLS server as the api instance: answers with the serial number of the client's certificate.
 * The h2 one is as a sidecar's public listener in front of an h2c application: the TLS
 * connection is spliced to it, and the answer is the serial of the connection's certificate.
 */
async function instance(h2: boolean): Promise<{ port: number; close: () => void }> {
  const api = leaf('api');
  const opts = { cert: api.cert, key: api.key, ca: ca.root.RootCert, requestCert: true, rejectUnauthorized: true };
  const closers: (() => void)[] = [];
  const listen = async (s: net.Server) => {
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    closers.push(() => s.close());
    return (s.address() as net.AddressInfo).port;
  };
  let server: net.Server;
  if (!h2) {
    server = https.createServer(opts, (req, res) => res.end((req.socket as tls.TLSSocket).getPeerCertificate().serialNumber));
  } else {
    const serials = new Map<number, string>();
    const app = http2.createServer((req, res) => res.end(serials.get(req.socket.remotePort ?? 0) ?? ''));
    const appPort = await listen(app);
    server = tls.createServer(opts, (c) => {
      const out = net.connect(appPort, '127.0.0.1', () => {
        serials.set(out.localPort ?? 0, c.getPeerCertificate().serialNumber);
        c.pipe(out).pipe(c);
      });
      c.on('error', () => out.destroy());
      out.on('error', () => c.destroy());
    });
  }
  const port = await listen(server);
  return { port, close: () => { for (const f of closers) f(); } };
}

function context(svc: string): { ctx: tls.SecureContext; serial: string } {
  const l = leaf(svc);
  return { ctx: tls.createSecureContext({ cert: l.cert, key: l.key, ca: ca.root.RootCert }), serial: l.serial };
}

async function send(t: TargetInstances, port: number, ctx: tls.SecureContext): Promise<string> {
  const a = await attempt({
    agent: t.pool(ctx), to: { host: '127.0.0.1', port }, secureContext: ctx, method: 'GET', path: '/', headers: {},
    body: Buffer.alloc(0), deadline: Promise.resolve(Infinity), signal: new AbortController().signal, connectTimeoutMs: 5_000,
  });
  assert.equal(a.kind, 'response');
  if (a.kind !== 'response') throw new Error('no response');
  let text = '';
  for await (const c of a.res) text += c;
  return text;
}

const servers: { close: () => void }[] = [];
after(() => { for (const s of servers) s.close(); });

test('after a leaf rotation the HTTP/1.1 pool makes new connections with the new leaf instead of reusing the old ones', async () => {
  const server = await instance(false);
  servers.push(server);
  const t = new TargetInstances({} as ConsulClient, target, () => TD, silentLogger());
  const [one, two] = [context('web'), context('web')];
  try {
    assert.equal(await send(t, server.port, one.ctx), one.serial);
    assert.equal(await send(t, server.port, one.ctx), one.serial);
    assert.equal(await send(t, server.port, two.ctx), two.serial);
    assert.equal(await send(t, server.port, two.ctx), two.serial);
  } finally {
    t.close();
  }
});

test('after a leaf rotation the h2 session to an instance is replaced by one made with the new leaf', async () => {
  const server = await instance(true);
  servers.push(server);
  const t = new TargetInstances({} as ConsulClient, target, () => TD, silentLogger());
  const [one, two] = [context('web'), context('web')];
  const to = { host: '127.0.0.1', port: server.port };
  const ask = async (ctx: tls.SecureContext) => {
    const s = t.h2.get(to, ctx, 5_000);
    const stream = s.request({ ':path': '/' });
    stream.end();
    let text = '';
    for await (const c of stream) text += c;
    return { s, text };
  };
  try {
    const a = await ask(one.ctx);
    assert.equal(a.text, one.serial);
    assert.equal((await ask(one.ctx)).s, a.s);
    const b = await ask(two.ctx);
    assert.equal(b.text, two.serial);
    assert.notEqual(b.s, a.s);
  } finally {
    t.close();
  }
});

test('a pooled connection is used only for its own target: an instance with another identity is refused', async () => {
  const server = await instance(false);
  servers.push(server);
  const db = new TargetInstances({} as ConsulClient, { ...target, ID: 'db.default.default.dc1', Service: 'db', Name: 'db' }, () => TD, silentLogger());
  const { ctx } = context('web');
  try {
    const a = await attempt({
      agent: db.pool(ctx), to: { host: '127.0.0.1', port: server.port }, secureContext: ctx, method: 'GET', path: '/', headers: {},
      body: Buffer.alloc(0), deadline: Promise.resolve(Infinity), signal: new AbortController().signal, connectTimeoutMs: 5_000,
    });
    assert.equal(a.kind, 'failed');
    assert.match(a.kind === 'failed' ? a.error.message : '', /peer certificate mismatch/);
  } finally {
    db.close();
  }
});

test('a target the chain no longer names drains: a request in flight on its pool finishes, the idle connections close', async () => {
  const api = leaf('api');
  let finish!: () => void;
  const server = https.createServer({ cert: api.cert, key: api.key, ca: ca.root.RootCert, requestCert: true }, (req, res) => {
    if (req.url === '/slow') finish = () => res.end('done');
    else res.end('fast');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  servers.push({ close: () => { server.close(); server.closeAllConnections(); } });
  const port = (server.address() as net.AddressInfo).port;
  const t = new TargetInstances({} as ConsulClient, target, () => TD, silentLogger());
  const { ctx } = context('web');
  const slow = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
    void attempt({
      agent: t.pool(ctx), to: { host: '127.0.0.1', port }, secureContext: ctx, method: 'GET', path: '/slow', headers: {},
      body: Buffer.alloc(0), deadline: Promise.resolve(Infinity), signal: new AbortController().signal, connectTimeoutMs: 5_000,
    }).then((a) => (a.kind === 'response' ? resolve(a.res) : reject(new Error(a.kind))));
    const wait = setInterval(() => { if (finish) { clearInterval(wait); t.close(true); finish(); } }, 5);
  }).catch((err: Error) => err);
  assert.ok(!(slow instanceof Error), String(slow));
  let text = '';
  for await (const c of slow as import('node:http').IncomingMessage) text += c;
  assert.equal(text, 'done');
});
