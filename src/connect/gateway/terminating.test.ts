import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, test } from 'node:test';
import type { ConsulClient, RequestSpec } from '../../api/index.ts';
import { createLogger, silentLogger } from '../../log.ts';
import { generateRoot } from '../ca-root.ts';
import { signLeaf } from '../leaf-cert.ts';
import { TerminatingGateway } from './terminating.ts';

const TD = '11111111-2222-3333-4444-555555555555.consul';
const uri = (svc: string) => `spiffe://${TD}/ns/default/dc/dc1/svc/${svc}`;
const sni = (svc: string) => `${svc}.default.dc1.internal.${TD}`;

let roots: { ActiveRootID: string; TrustDomain: string; Roots: { ID: string; Name: string; RootCert: string; Active: boolean }[] };
let caKey = '';
const leaves = new Map<string, { CertPEM: string; PrivateKeyPEM: string; ServiceURI: string }>();
let echo: net.Server;
let echoPort = 0;

function leaf(svc: string): { CertPEM: string; PrivateKeyPEM: string; ServiceURI: string } {
  const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signed = signLeaf({ spki: keys.publicKey.export({ type: 'spki', format: 'der' }), uris: [uri(svc)], dnsNames: [], ipAddresses: [], ttlMs: 3_600_000, nowMs: Date.now() },
    roots.Roots[0].RootCert, caKey);
  return { CertPEM: signed.certPem, PrivateKeyPEM: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, ServiceURI: uri(svc) };
}

/**
 * An agent in miniature: leaves, roots, the gateway's links (changed by `relink`, which answers a
 * blocked read), passing instances, and authorization by `denied` source URIs; blocking reads
 * wait until aborted.
 */
class FakeAgent {
  links: { Service: { Name: string }; GatewayKind: string }[] = [];
  denied = new Set<string>();
  authorized: string[] = [];
  #linksIndex = 1;
  #wake: (() => void)[] = [];

  relink(names: string[]): void {
    this.links = names.map((n) => ({ Service: { Name: n }, GatewayKind: 'terminating-gateway' }));
    this.#linksIndex++;
    for (const w of this.#wake.splice(0)) w();
  }

  client(): ConsulClient {
    return { json: (spec: RequestSpec) => this.#answer(spec) } as unknown as ConsulClient;
  }

  async #answer(spec: RequestSpec): Promise<{ data: unknown; meta: { index: number } }> {
    const index = Number(spec.options?.index ?? 0);
    const signal = spec.options?.signal;
    const ok = (data: unknown, at = 1) => ({ data, meta: { index: at } });
    if (spec.path.startsWith('/v1/catalog/gateway-services/')) {
      if (index >= this.#linksIndex) await new Promise<void>((resolve, reject) => { this.#wake.push(resolve); signal?.addEventListener('abort', () => reject(new Error('aborted'))); });
      return ok(this.links, this.#linksIndex);
    }
    if (spec.path === '/v1/agent/connect/authorize') {
      const body = spec.json as { Target: string; ClientCertURI: string };
      this.authorized.push(`${body.ClientCertURI}->${body.Target}`);
      return ok({ Authorized: !this.denied.has(body.ClientCertURI), Reason: 'test' });
    }
    if (index > 0) return new Promise((_, reject) => signal?.addEventListener('abort', () => reject(new Error('aborted'))));
    if (spec.path === '/v1/agent/connect/ca/roots') return ok(roots);
    const leafOf = /^\/v1\/agent\/connect\/ca\/leaf\/(.+)$/.exec(spec.path);
    if (leafOf) {
      const name = decodeURIComponent(leafOf[1]);
      if (!leaves.has(name)) leaves.set(name, leaf(name));
      return ok(leaves.get(name));
    }
    if (spec.path.startsWith('/v1/health/service/')) return ok([{ Node: { Address: '127.0.0.1' }, Service: { Address: '', Port: echoPort } }]);
    throw new Error(`unexpected ${spec.path}`);
  }
}

before(async () => {
  const root = await generateRoot({ clusterId: '11111111-2222-3333-4444-555555555555', datacenter: 'dc1', clock: { now: () => Date.now() } });
  caKey = root.privateKeyPem;
  roots = { ActiveRootID: 'r1', TrustDomain: TD, Roots: [{ ID: 'r1', Name: 'root', RootCert: root.root.RootCert, Active: true }] };
  echo = net.createServer((c) => c.on('data', (d) => c.write(`ext:${d.toString()}`)).on('error', () => c.destroy()));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
  echoPort = (echo.address() as net.AddressInfo).port;
});

after(() => echo.close());

/** Dials the gateway as `client` with `servername`; the server certificate's URI and the echo of `msg`, or the error. */
function dial(port: number, servername: string, client = 'web', msg = 'hi'): Promise<{ uri: string; got: string } | Error> {
  if (!leaves.has(client)) leaves.set(client, leaf(client));
  const l = leaves.get(client)!;
  return new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername, cert: l.CertPEM, key: l.PrivateKeyPEM, ca: roots.Roots[0].RootCert, checkServerIdentity: () => undefined });
    let got = '';
    let peer = '';
    s.on('secureConnect', () => { peer = s.getPeerCertificate().subjectaltname ?? ''; s.write(msg); });
    s.on('data', (d) => { got += d.toString(); if (got.length >= `ext:${msg}`.length) s.end(); });
    s.on('close', () => resolve({ uri: peer.replace(/^URI:/, ''), got }));
    s.on('error', (e) => resolve(e));
  });
}

async function eventually(what: string, fn: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !fn(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(fn(), what);
}

test('each linked service is served with its own leaf by its SNI, authorized against it, and forwarded to its instance', async () => {
  const agent = new FakeAgent();
  agent.relink(['ext', 'db']);
  const gw = new TerminatingGateway({ client: agent.client(), logger: silentLogger(), service: 'tgw', binds: [{ host: '127.0.0.1', port: 0 }] });
  try {
    await gw.start();
    await eventually('both leaves ready', () => gw.linked().length === 2);
    assert.deepEqual(gw.linked(), ['db', 'ext']);
    const port = Number(gw.addresses[0].split(':')[1]);
    assert.deepEqual(await dial(port, sni('ext')), { uri: uri('ext'), got: 'ext:hi' });
    const db = await dial(port, sni('DB'));
    assert.ok(!(db instanceof Error) && db.uri === uri('db'), 'the SNI matches without case');
    assert.deepEqual(agent.authorized, [`${uri('web')}->ext`, `${uri('web')}->db`]);
    assert.ok(await dial(port, sni('other')) instanceof Error, 'an SNI of no linked service gets no certificate');
    // The same SPIFFE ID from another CA: the chain to the roots refuses it before any authorization.
    const other = await generateRoot({ clusterId: '66666666-2222-3333-4444-555555555555', datacenter: 'dc1', clock: { now: () => Date.now() } });
    const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const forged = signLeaf({ spki: keys.publicKey.export({ type: 'spki', format: 'der' }), uris: [uri('web')], dnsNames: [], ipAddresses: [], ttlMs: 3_600_000, nowMs: Date.now() },
      other.root.RootCert, other.privateKeyPem);
    leaves.set('forged', { CertPEM: forged.certPem, PrivateKeyPEM: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, ServiceURI: uri('web') });
    const refused = await dial(port, sni('ext'), 'forged');
    assert.ok(refused instanceof Error || refused.got === '', 'a client certificate from another CA is refused');
    assert.equal(agent.authorized.length, 2);
    agent.denied.add(uri('web'));
    const denied = await dial(port, sni('ext'));
    assert.ok(denied instanceof Error || denied.got === '', 'a denied client is closed before any byte is forwarded');
  } finally {
    await gw.close();
  }
});

test('unlinking a service closes its open connections and refuses new ones; relinking serves it again', async () => {
  const agent = new FakeAgent();
  agent.relink(['ext']);
  const gw = new TerminatingGateway({ client: agent.client(), logger: silentLogger(), service: 'tgw', binds: [{ host: '127.0.0.1', port: 0 }] });
  try {
    await gw.start();
    await eventually('ext ready', () => gw.linked().includes('ext'));
    const port = Number(gw.addresses[0].split(':')[1]);
    const l = leaves.get('web') ?? leaf('web');
    leaves.set('web', l);
    const open = tls.connect({ host: '127.0.0.1', port, servername: sni('ext'), cert: l.CertPEM, key: l.PrivateKeyPEM, ca: roots.Roots[0].RootCert, checkServerIdentity: () => undefined });
    const first = await new Promise<string>((resolve) => { open.once('secureConnect', () => open.write('a')); open.once('data', (d) => resolve(d.toString())); });
    assert.equal(first, 'ext:a');
    const closed = new Promise<void>((r) => open.once('close', () => r()));
    open.on('error', () => undefined);
    agent.relink([]);
    await closed;
    assert.deepEqual(gw.linked(), []);
    assert.ok(await dial(port, sni('ext')) instanceof Error);
    agent.relink(['ext']);
    await eventually('ext ready again', () => gw.linked().includes('ext'));
    assert.deepEqual(await dial(port, sni('ext')), { uri: uri('ext'), got: 'ext:hi' });
  } finally {
    await gw.close();
  }
});

test('a client that never finishes its handshake is closed at the handshake timeout (and logged); a probe is not logged; close() ends a handshaking connection', async () => {
  const agent = new FakeAgent();
  agent.relink(['ext']);
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', json: true, write: (l) => lines.push(l) });
  const errors = () => lines.map((s) => JSON.parse(s) as Record<string, string>).filter((e) => e['@level'] === 'error');
  const gw = new TerminatingGateway({ client: agent.client(), logger, service: 'tgw', binds: [{ host: '127.0.0.1', port: 0 }], handshakeTimeoutMs: 200 });
  const gw2 = new TerminatingGateway({ client: agent.client(), logger: silentLogger(), service: 'tgw', binds: [{ host: '127.0.0.1', port: 0 }] });
  try {
    await gw.start();
    const port = Number(gw.addresses[0].split(':')[1]);
    const probe = net.connect(port, '127.0.0.1');
    probe.on('error', () => undefined);
    await new Promise((r) => probe.once('connect', r));
    probe.resetAndDestroy();
    const silent = net.connect(port, '127.0.0.1');
    silent.on('error', () => undefined);
    let closed = false;
    silent.once('close', () => { closed = true; });
    await eventually('the silent client closed at the handshake timeout', () => closed);
    await eventually('the timeout logged', () => errors().length > 0);
    assert.deepEqual(errors().map((e) => e.error), ['TLS handshake timeout']);
    // A gateway with the default (10 s) timeout: close() must not wait for a handshaking client.
    await gw2.start();
    const port2 = Number(gw2.addresses[0].split(':')[1]);
    const hanging = net.connect(port2, '127.0.0.1');
    hanging.on('error', () => undefined);
    await new Promise((r) => hanging.once('connect', r));
    let hangingClosed = false;
    hanging.once('close', () => { hangingClosed = true; });
    await gw2.close();
    await eventually('the handshaking client closed by close()', () => hangingClosed);
  } finally {
    await gw.close();
    await gw2.close();
  }
});

test('a gateway-services answer arriving after close() starts no linked service (no leaf or roots watch left running)', async () => {
  const agent = new FakeAgent();
  agent.relink(['ext']);
  const inner = agent.client();
  let late!: (v: unknown) => void;
  const asked: string[] = [];
  let closed = false;
  const client = { json: (spec: RequestSpec) => {
    if (closed) asked.push(spec.path);
    // The second (blocking) read of the links ignores the abort and answers after close().
    if (spec.path.startsWith('/v1/catalog/gateway-services/') && Number(spec.options?.index ?? 0) > 0) {
      return new Promise((resolve) => { late = resolve; });
    }
    return inner.json(spec);
  } } as unknown as ConsulClient;
  const gw = new TerminatingGateway({ client, logger: silentLogger(), service: 'tgw', binds: [{ host: '127.0.0.1', port: 0 }] });
  await gw.start();
  await eventually('ext ready', () => gw.linked().includes('ext'));
  await eventually('the blocking read sent', () => late !== undefined);
  await gw.close();
  closed = true;
  late({ data: [{ Service: { Name: 'db' }, GatewayKind: 'terminating-gateway' }], meta: { index: 99 } });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(asked, []);
  assert.deepEqual(gw.linked(), []);
});
