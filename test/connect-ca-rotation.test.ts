// Connect CA root rotation end to end on a dev agent with two `connect proxy` processes (db's
// public listener, web's upstream to db): PUT /v1/connect/ca/configuration with a new PrivateKey,
// then `connect ca set-config` with a new key type, each make a new active root cross-signed by
// the previous one; the old roots stay listed, blocking roots watchers wake, the leaf endpoint
// answers leaves of the new root (which chain to the old root through the cross-signed
// certificate), old leaves keep working, and bytes keep flowing through the proxies throughout.
import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, test } from 'node:test';
import type { Proxy } from '../src/connect/proxy/index.ts';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import { runCliCaptured } from './support/cli.ts';
import { exchange, ProxyRig } from './support/connect-proxy.ts';
import { freePort } from './support/ports.ts';
import { until } from './support/wait.ts';

interface Root { ID: string; RootCert: string; IntermediateCerts: string[] | null; Active: boolean; PrivateKeyType: string; PrivateKeyBits: number; [k: string]: unknown }
interface Roots { ActiveRootID: string; TrustDomain: string; Roots: Root[] }
interface Leaf { CertPEM: string; PrivateKeyPEM: string }

let dev: DevAgent;
let rig: ProxyRig;
let dbPublic = 0;
let webUpstream = 0;
let dbProxy: Proxy;
let webProxy: Proxy;
const dir = mkdtempSync(path.join(tmpdir(), 'proconsul-ca-rotation-'));

async function get<T>(p: string): Promise<{ body: T; index: number }> {
  const r = await fetch(`http://${dev.httpAddr}${p}`, { signal: AbortSignal.timeout(60_000) });
  assert.equal(r.status, 200, p);
  return { body: await r.json() as T, index: Number(r.headers.get('x-consul-index')) };
}

const active = (roots: Roots): Root => roots.Roots.find((r) => r.ID === roots.ActiveRootID)!;
const certs = (pem: string): X509Certificate[] => (pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n?/g) ?? []).map((c) => new X509Certificate(c));
const signedBy = (pem: string, root: Root): boolean => certs(pem)[0].verify(new X509Certificate(root.RootCert).publicKey);

/** Bytes through web's upstream listener to db's echo, via both proxies' mTLS. */
async function traffic(msg: string): Promise<string> {
  const socket = net.connect(webUpstream, '127.0.0.1');
  const got = await exchange(socket, msg, `db:${msg}`.length);
  socket.destroy();
  return got;
}

/** mTLS straight to db's public listener with `leaf`; what came back, or the error. */
function direct(leaf: Leaf): Promise<string | Error> {
  return new Promise((resolve) => {
    let got = '';
    const s = tls.connect({ host: '127.0.0.1', port: dbPublic, cert: leaf.CertPEM, key: leaf.PrivateKeyPEM, rejectUnauthorized: false });
    s.on('secureConnect', () => s.write('direct'));
    s.on('data', (d) => { got += d.toString(); if (got.length >= 'db:direct'.length) { s.destroy(); resolve(got); } });
    s.on('error', (e) => resolve(e));
    s.on('close', () => resolve(got || new Error('closed')));
  });
}

/** Waits until both proxies present a leaf the active root signed. */
async function proxiesOn(root: Root): Promise<void> {
  await until('both proxies to hold a leaf of the new root', 20_000, async () =>
    [dbProxy, webProxy].every((p) => p.service.leafCert && signedBy(p.service.leafCert.CertPEM, root)));
}

before(async () => {
  // random() = 0.01: agents re-sign leaves 0.3 s (not up to 30 s) after the active root changes.
  dev = await startDevAgent({ deps: { random: () => 0.01 } });
  rig = new ProxyRig(dev.httpAddr);
  const dbEcho = await rig.echo('db');
  dbPublic = await freePort();
  webUpstream = await freePort();
  dbProxy = (await rig.proxy(['-service', 'db', '-service-addr', `127.0.0.1:${dbEcho}`, '-listen', `127.0.0.1:${dbPublic}`, '-register'])).proxy;
  webProxy = (await rig.proxy(['-service', 'web', '-upstream', `db:${webUpstream}`])).proxy;
  await until('db-proxy to be a passing connect instance of db', 10_000, async () => (await get<unknown[]>('/v1/health/connect/db?passing')).body.length > 0);
});

after(async () => {
  await rig?.close();
  await dev?.stop();
  rmSync(dir, { recursive: true, force: true });
});

let first: Roots;
let firstLeaf: Leaf;
let second: Roots;

test('before any rotation: one active root, leaves it signed, bytes flow', async () => {
  first = (await get<Roots>('/v1/connect/ca/roots')).body;
  assert.equal(first.Roots.length, 1);
  firstLeaf = (await get<Leaf>('/v1/agent/connect/ca/leaf/web')).body;
  assert.ok(signedBy(firstLeaf.CertPEM, active(first)));
  assert.equal(await traffic('one'), 'db:one');
});

test('PUT with a new PrivateKey rotates: two roots, the new one active and cross-signed, watchers wake, leaves move, traffic flows', async () => {
  const [{ index: rootsIndex }, { index: agentIndex }] = [await get<Roots>('/v1/connect/ca/roots'), await get<Roots>('/v1/agent/connect/ca/roots')];
  const watchRoots = get<Roots>(`/v1/connect/ca/roots?index=${rootsIndex}&wait=30s`);
  const watchAgentRoots = get<Roots>(`/v1/agent/connect/ca/roots?index=${agentIndex}&wait=30s`);
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'sec1', format: 'pem' }) as string;
  const cfg = (await get<{ Config: Record<string, unknown> }>('/v1/connect/ca/configuration')).body;
  const put = await fetch(`http://${dev.httpAddr}/v1/connect/ca/configuration`, { method: 'PUT', body: JSON.stringify({ Provider: 'consul', Config: { ...cfg.Config, PrivateKey: key } }) });
  assert.deepEqual([put.status, await put.text()], [200, '']);

  for (const watch of [watchRoots, watchAgentRoots]) {
    const woke = await watch;
    assert.ok(woke.index > rootsIndex);
    assert.equal(woke.body.Roots.length, 2, 'a blocking roots read answers the rotation');
  }
  second = (await get<Roots>('/v1/connect/ca/roots')).body;
  const [oldRoot, newRoot] = [second.Roots.find((r) => r.ID === first.ActiveRootID)!, active(second)];
  assert.equal(second.Roots.length, 2);
  assert.notEqual(second.ActiveRootID, first.ActiveRootID);
  assert.equal(second.TrustDomain, first.TrustDomain);
  assert.deepEqual([oldRoot.Active, newRoot.Active], [false, true]);
  assert.ok(!('RotatedOutAt' in oldRoot), 'RotatedOutAt is never served');
  assert.ok(new X509Certificate(newRoot.RootCert).checkPrivateKey(createPrivateKey(key)));
  const xc = new X509Certificate(newRoot.IntermediateCerts![0]);
  assert.ok(xc.verify(new X509Certificate(oldRoot.RootCert).publicKey), 'the new root\'s key cross-signed by the old root');

  // A non-blocking leaf read answers a leaf of the new root, sent with the cross-signed certificate.
  const leaf = (await get<Leaf>('/v1/agent/connect/ca/leaf/web')).body;
  const [leafCert, sent] = certs(leaf.CertPEM);
  assert.ok(signedBy(leaf.CertPEM, newRoot));
  assert.ok(leafCert.checkIssued(sent) && leafCert.verify(sent.publicKey) && sent.verify(new X509Certificate(oldRoot.RootCert).publicKey));
  // db's listener trusts both roots: the old leaf and the new one are both let through.
  assert.equal(await direct(firstLeaf), 'db:direct');
  assert.equal(await direct(leaf), 'db:direct');
  assert.equal(await traffic('two'), 'db:two');
  await proxiesOn(newRoot);
  assert.equal(await traffic('three'), 'db:three');
});

test('connect ca set-config with a new key type rotates again; the earlier roots stay listed until pruned', async () => {
  const file = path.join(dir, 'ca.json');
  writeFileSync(file, JSON.stringify({ Provider: 'consul', Config: { LeafCertTTL: '72h', PrivateKeyType: 'rsa', PrivateKeyBits: 2048 } }));
  const res = await runCliCaptured(['connect', 'ca', 'set-config', '-config-file', file], { CONSUL_HTTP_ADDR: dev.httpAddr });
  assert.equal(res.code, 0, res.err);
  assert.match(res.out, /Configuration updated!/);
  const third = (await get<Roots>('/v1/connect/ca/roots')).body;
  const newRoot = active(third);
  assert.equal(third.Roots.length, 3);
  assert.deepEqual([newRoot.PrivateKeyType, newRoot.PrivateKeyBits], ['rsa', 2048]);
  assert.deepEqual(third.Roots.filter((r) => !r.Active).map((r) => r.ID).sort(), [first.ActiveRootID, second.ActiveRootID].sort());
  const xc = new X509Certificate(newRoot.IntermediateCerts![0]);
  assert.ok(xc.verify(new X509Certificate(active(second).RootCert).publicKey), 'cross-signed by the root it replaced');
  assert.equal(await traffic('four'), 'db:four');
  await proxiesOn(newRoot);
  assert.equal(await traffic('five'), 'db:five');
  const leaf = (await get<Leaf>('/v1/agent/connect/ca/leaf/web')).body;
  assert.ok(signedBy(leaf.CertPEM, newRoot));
  assert.equal(await direct(firstLeaf), 'db:direct', 'a leaf of the first root is still trusted while its root is listed');
});
