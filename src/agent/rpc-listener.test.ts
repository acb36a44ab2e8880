// The server port's front door with tls.internal_rpc, and the agent's RPC clients over it: the
// Forwarder (forwarding, cross-datacenter names) and the leader liveness probe.
import { test, before, after, mock } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { silentLogger } from '../log.ts';
import { systemClock } from '../clock.ts';
import { Router } from '../http/index.ts';
import { LeaderProbe, LivenessGreeter, livenessAddress } from '../leader/liveness.ts';
import type { RuntimeConfig } from './config/runtime.ts';
import type { TlsConfig, TlsProtocolConfig } from './config/tls.ts';
import { Forwarder } from './forward.ts';
import { RpcListener } from './rpc-listener.ts';
import { createRpcServer } from './rpc-server.ts';
import { TlsConfigurator } from './tls-configurator.ts';
import { testCA } from '../../test/support/tls-cert.ts';
import { tlsProtocol } from '../../test/support/tls-config.ts';
import { waitFor } from '../../test/support/wait.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-rpc-listener-'));
const f = (name: string) => path.join(dir, name);
const cleanup: (() => unknown)[] = [];

before(async () => {
  const ca = await testCA();
  const rogue = await testCA('Rogue CA');
  fs.writeFileSync(f('ca.pem'), ca.cert);
  fs.writeFileSync(f('rogue-ca.pem'), rogue.cert);
  const write = (name: string, c: { cert: string; key: string }) => {
    fs.writeFileSync(f(`${name}.pem`), c.cert);
    fs.writeFileSync(f(`${name}.key`), c.key);
  };
  write('dc1', await ca.issue('s1', 'server', ['server.dc1.consul']));
  write('dc1-renewed', await ca.issue('s1', 'server', ['server.dc1.consul']));
  write('dc2', await ca.issue('s2', 'server', ['server.dc2.consul']));
  write('client', await ca.issue('c1', 'client'));
  write('rogue', await rogue.issue('r1', 'client'));
});
after(async () => {
  for (const c of cleanup.reverse()) await c();
  fs.rmSync(dir, { recursive: true, force: true });
});

const proto = tlsProtocol;
const tlsConfig = (rpc: Partial<TlsProtocolConfig>): TlsConfig => ({
  internalRpc: proto(rpc), https: proto(), grpc: proto(), serverMode: true, serverName: '', nodeName: 'n',
  domain: 'consul.', enableAgentTlsForChecks: false, autoTls: false,
});
/** A configurator with the files named `pair` (.pem/.key) and the CA in `ca` (default ca.pem). */
function conf(rpc: Partial<TlsProtocolConfig> & { pair?: string; ca?: string } = {}, dc = 'dc1'): TlsConfigurator {
  const { pair, ca = 'ca.pem', ...rest } = rpc;
  const t = new TlsConfigurator(dc);
  t.update(tlsConfig({ caFile: f(ca), ...(pair ? { certFile: f(`${pair}.pem`), keyFile: f(`${pair}.key`) } : {}), ...rest }));
  return t;
}

interface Logged { msg: string; obj: Record<string, unknown> }
function capture(): { logger: ReturnType<typeof silentLogger>; lines: Logged[] } {
  const lines: Logged[] = [];
  const base = silentLogger();
  const logger = Object.assign(Object.create(base), {
    warn: (obj: Record<string, unknown>, msg: string) => void lines.push({ obj, msg }),
    child: () => logger,
  }) as ReturnType<typeof silentLogger>;
  return { logger, lines };
}

/** A front door answering `<url> tls|plain` on an ephemeral port. */
async function listener(t: TlsConfigurator, handshakeTimeoutMs?: number): Promise<{ addr: string; port: number; lines: Logged[]; close(): Promise<void> }> {
  const { logger, lines } = capture();
  const l = new RpcListener({
    tls: t, logger, handshakeTimeoutMs,
    serve: (req, res) => res.end(`${req.url} ${(req.socket as tls.TLSSocket).encrypted ? 'tls' : 'plain'}`),
  });
  await l.listen('127.0.0.1', 0);
  cleanup.push(() => l.close());
  const addr = l.addresses()[0];
  return { addr, port: Number(addr.split(':')[1]), lines, close: () => l.close() };
}

const forwarder = (t?: TlsConfigurator): Forwarder => {
  const fw = new Forwarder({ logger: silentLogger(), tls: t });
  cleanup.push(() => fw.close());
  return fw;
};
const get = async (fw: Forwarder, addr: string | string[], datacenter?: string): Promise<string> => {
  const servers = Array.isArray(addr) ? addr : [addr];
  const res = await fw.send({ servers: () => servers, datacenter }, { method: 'GET', url: '/x', headers: {} });
  return `${res.server} ${res.body.toString()}`;
};

/** Whether a plaintext request gets any answer before the server closes the connection. */
function plaintextAnswer(port: number): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const s = net.connect({ host: '127.0.0.1', port }, () => s.write('GET /x HTTP/1.1\r\nHost: x\r\n\r\n'));
    s.on('data', (c) => (text += c.toString()));
    s.on('error', () => undefined);
    s.on('close', () => resolve(text));
  });
}

/** The serial of the certificate a fresh TLS connection is shown (the client's pair offered). */
function presented(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca: fs.readFileSync(f('ca.pem')), cert: fs.readFileSync(f('client.pem')), key: fs.readFileSync(f('client.key')) }, () => {
      resolve(s.getPeerCertificate().serialNumber);
      s.end();
    });
    s.on('error', reject);
  });
}
const serial = (name: string) => new X509Certificate(fs.readFileSync(f(`${name}.pem`))).serialNumber;

test('without verify_incoming one port serves plaintext and TLS; without a key pair TLS is refused', async () => {
  const l = await listener(conf({ pair: 'dc1' }));
  assert.equal(await get(forwarder(), l.addr), `${l.addr} /x plain`);
  assert.equal(await get(forwarder(conf({ pair: 'client', verifyOutgoing: true, verifyServerHostname: true })), l.addr), `${l.addr} /x tls`);
  // Keep-alive reuse over TLS still answers.
  const fw = forwarder(conf({ pair: 'client', verifyOutgoing: true }));
  for (let i = 0; i < 3; i++) assert.equal(await get(fw, l.addr), `${l.addr} /x tls`);

  const bare = await listener(conf({}));
  assert.equal(await get(forwarder(), bare.addr), `${bare.addr} /x plain`);
  await assert.rejects(get(forwarder(conf({ pair: 'client', verifyOutgoing: true })), bare.addr), /rpc error making call/);
  assert.ok(bare.lines.some((l) => l.msg === 'TLS connection attempted, server not configured for TLS'));
});

test('with verify_incoming plaintext is refused and a client certificate from the CA is required', async () => {
  const l = await listener(conf({ pair: 'dc1', verifyIncoming: true }));
  assert.equal(await plaintextAnswer(l.port), '');
  assert.ok(l.lines.some((x) => x.msg === 'Non-TLS connection attempted with VerifyIncoming set' && /^from=127\.0\.0\.1:\d+$/.test(String(x.obj.conn))));
  await assert.rejects(get(forwarder(), l.addr), /rpc error making call/);

  assert.equal(await get(forwarder(conf({ pair: 'client', verifyOutgoing: true })), l.addr), `${l.addr} /x tls`);
  // Another CA's certificate, and none at all: refused, and the server says why.
  await assert.rejects(get(forwarder(conf({ pair: 'rogue', verifyOutgoing: true })), l.addr), /rpc error making call/);
  await assert.rejects(get(forwarder(conf({ verifyOutgoing: true })), l.addr), /rpc error making call/);
  const refused = l.lines.filter((x) => x.msg === 'internal RPC client certificate refused');
  assert.equal(refused.length, 2);
  assert.ok(refused.every((x) => /^from=127\.0\.0\.1:\d+$/.test(String(x.obj.conn)) && String(x.obj.error) !== 'null'));
});

test('the client checks the server\'s chain, and its name for the target datacenter with verify_server_hostname; a failed handshake moves on', async () => {
  const dc1 = await listener(conf({ pair: 'dc1' }));
  const dc2 = await listener(conf({ pair: 'dc2' }, 'dc2'));
  const strict = forwarder(conf({ pair: 'client', verifyOutgoing: true, verifyServerHostname: true }));
  assert.equal(await get(strict, dc1.addr), `${dc1.addr} /x tls`);
  // Cross-datacenter: the dc2 server's name is what counts.
  assert.equal(await get(strict, dc2.addr, 'dc2'), `${dc2.addr} /x tls`);
  await assert.rejects(get(strict, dc2.addr), /ERR_TLS_CERT_ALTNAME_INVALID .*server\.dc1\.consul/);
  // The handshake failed before any request went out: the next server answers.
  assert.equal(await get(strict, [dc2.addr, dc1.addr]), `${dc1.addr} /x tls`);
  // Without verify_server_hostname any name does, but not another CA's chain.
  assert.equal(await get(forwarder(conf({ pair: 'client', verifyOutgoing: true })), dc2.addr), `${dc2.addr} /x tls`);
  await assert.rejects(get(forwarder(conf({ pair: 'client', verifyOutgoing: true, ca: 'rogue-ca.pem' })), dc1.addr), /rpc error making call: \S+ 127\.0\.0\.1:\d+: /);
});

test('an update of the configurator applies to the next connection: a renewed key pair, verify_incoming turned on', async () => {
  const t = conf({ pair: 'dc1' });
  const l = await listener(t);
  assert.equal(await presented(l.port), serial('dc1'));
  t.update(tlsConfig({ caFile: f('ca.pem'), certFile: f('dc1-renewed.pem'), keyFile: f('dc1-renewed.key'), verifyIncoming: true }));
  assert.equal(await presented(l.port), serial('dc1-renewed'));
  assert.equal(await plaintextAnswer(l.port), '');
  await assert.rejects(get(forwarder(conf({ pair: 'rogue', verifyOutgoing: true })), l.addr), /rpc error making call/);
});

test('the leader liveness probe greets over TLS and still proves a refused port', async () => {
  let port = 0;
  const greeter = new LivenessGreeter(() => livenessAddress('127.0.0.1', port));
  const config = { bindAddr: '127.0.0.1', ports: { server: 0 }, acl: { defaultPolicy: 'allow' } } as unknown as RuntimeConfig;
  const dns = { handle: async () => null };
  const { logger, lines } = capture();
  const rpc = createRpcServer({
    config, router: new Router(), dns, dnsFor: () => dns, logger, tls: conf({ pair: 'dc1', verifyIncoming: true }),
    liveness: () => greeter.answer(),
  });
  await rpc.listenRpc();
  cleanup.push(() => rpc.close());
  port = Number(rpc.addresses()[0].split(':')[1]);
  const address = await greeter.listen('n1', () => 7);
  const dead: number[] = [];
  const client = conf({ pair: 'client', verifyOutgoing: true, verifyServerHostname: true });
  const probe = new LeaderProbe({ clock: systemClock, logger: silentLogger(), onDead: (l) => void dead.push(l), retryMs: 50, tls: () => client.outgoingRpc() });
  cleanup.push(() => probe.stop());
  probe.follow({ address, lease: 7 });
  for (let i = 0; i < 200 && !(probe.verified() && greeter.connections() === 1); i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(probe.verified(), true);
  assert.ok(!lines.some((l) => /Non-TLS|refused/.test(l.msg)), 'the probe came over TLS with its certificate');
  await rpc.close();
  for (let i = 0; i < 200 && dead.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(dead, [7]);
});

test('close() also ends connections it took over from a shared listener (a managed store\'s server port)', async () => {
  const { createHttp1Server } = await import('../http/index.ts');
  const server = createHttp1Server((req, res) => res.end('shared'));
  const l = new RpcListener({ server, tls: conf({ pair: 'dc1', verifyIncoming: true }), logger: silentLogger(), insecure: (_req, res) => res.end('insecure') });
  const port = net.createServer((sock) => l.accept(sock));
  await new Promise<void>((r) => port.listen(0, '127.0.0.1', r));
  cleanup.push(() => new Promise((r) => port.close(r)));
  const { port: p } = port.address() as net.AddressInfo;
  // A keep-alive connection without a client certificate, left open after its answer.
  const s = tls.connect({ host: '127.0.0.1', port: p, ca: fs.readFileSync(f('ca.pem')), checkServerIdentity: () => undefined });
  s.on('error', () => undefined);
  const closed = new Promise<boolean>((resolve) => {
    s.on('close', () => resolve(true));
    cleanup.push(() => s.destroy());
  });
  const answered = new Promise<string>((resolve) => s.on('data', (c) => resolve(c.toString())));
  s.write('GET /x HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.match(await answered, /insecure$/);
  await l.close();
  const ended = await Promise.race([closed, new Promise<boolean>((r) => setTimeout(() => r(false), 2000))]);
  assert.equal(ended, true, 'the connection was left open after close()');
});

test('a TLS client that stalls in its handshake is closed at the handshake timeout (it held the connection forever)', { timeout: 30_000 }, async () => {
  const l = await listener(conf({ pair: 'dc1' }));
  const s = net.connect({ host: '127.0.0.1', port: l.port }, () => s.write(Buffer.from([0x16, 0x03, 0x01])));
  s.on('error', () => undefined);
  let closed = false;
  s.once('close', () => { closed = true; });
  try {
    await waitFor('the stalled handshake to be closed', () => closed, { ms: 15_000 });
    assert.ok(l.lines.some((x) => x.msg === 'failed TLS handshake on the internal RPC port'));
  } finally {
    s.destroy();
  }
});

test('limits.rpc_handshake_timeout: a silent connection, then a stalled TLS handshake, each closed at it (default 5 s)', { timeout: 30_000 }, async () => {
  const l = await listener(conf({ pair: 'dc1' }), 150);
  const closedWithin = async (s: net.Socket): Promise<boolean> => {
    s.on('error', () => undefined);
    const closed = new Promise<boolean>((resolve) => s.once('close', () => resolve(true)));
    cleanup.push(() => s.destroy());
    // Well under the 5 s default: only the configured timeout closes it in time.
    return Promise.race([closed, new Promise<boolean>((r) => setTimeout(() => r(false), 2_500))]);
  };
  assert.equal(await closedWithin(net.connect({ host: '127.0.0.1', port: l.port })), true, 'silent connection left open');
  const stalled = net.connect({ host: '127.0.0.1', port: l.port }, () => stalled.write(Buffer.from([0x16, 0x03, 0x01])));
  assert.equal(await closedWithin(stalled), true, 'stalled TLS handshake left open');
});

test('limits.rpc_handshake_timeout = 0 is no limit on the TLS handshake either (node\'s handshakeTimeout 0 would be its 120 s default)', async () => {
  const created = mock.method(tls, 'createServer');
  try {
    const l = await listener(conf({ pair: 'dc1' }), 0);
    const s = net.connect({ host: '127.0.0.1', port: l.port }, () => s.write(Buffer.from([0x16, 0x03, 0x01])));
    s.on('error', () => undefined);
    cleanup.push(() => s.destroy());
    await waitFor('the TLS side to be made', () => created.mock.callCount() > 0, { ms: 5_000 });
    const opts = created.mock.calls[0].arguments[0] as tls.TlsOptions;
    assert.ok((opts.handshakeTimeout ?? 0) > 120_000, `handshakeTimeout ${opts.handshakeTimeout}`);
  } finally {
    created.mock.restore();
  }
});
