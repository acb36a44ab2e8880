// Connect CA across two datacenters on real processes: dc1 (127.0.0.2) is the primary, dc2
// (127.0.0.3, primary_datacenter dc1) joins it over the WAN. dc2 makes no root of its own: it lists
// dc1's roots (same IDs and trust domain) with an intermediate dc1 signed in its active root, its
// leaves (SPIFFE URIs naming dc2) verify with openssl against dc1's root through that intermediate,
// a rotation in dc1 reaches dc2 as a new intermediate under the new root and re-issued leaves, and
// a CA configuration written in dc2 changes its intermediate only when the key settings change,
// and the built-in proxy in dc2 reaches a service in dc1 over mTLS (each side's leaf from its own
// datacenter, both trusting dc1's root).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { call, DcProcs, get, type Proc } from './support/dc-procs.ts';
import { exchange, ProxyRig } from './support/connect-proxy.ts';
import { freePort } from './support/ports.ts';
import { until } from './support/wait.ts';

interface Root { ID: string; Name: string; SigningKeyID: string; RootCert: string; IntermediateCerts: string[] | null; Active: boolean }
interface Roots { ActiveRootID: string; TrustDomain: string; Roots: Root[] }
interface Leaf { CertPEM: string; ServiceURI: string; SerialNumber: string }

const dcs = new DcProcs('ca-fed');
const procs = dcs.procs;
const POLL = dcs.poll;

const active = (r: Roots): Root => r.Roots.find((x) => x.ID === r.ActiveRootID)!;
const pems = (text: string): string[] => text.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n?/g) ?? [];

/** openssl's verdict on `leafChain` (leaf first, then intermediates) trusting only `rootPem`. */
function opensslVerify(leafChain: string, rootPem: string, name: string): string {
  const [leaf, ...inters] = pems(leafChain);
  const at = (f: string) => path.join(dcs.dir, `${name}-${f}`);
  fs.writeFileSync(at('root.pem'), rootPem);
  fs.writeFileSync(at('leaf.pem'), leaf);
  fs.writeFileSync(at('chain.pem'), inters.join(''));
  const untrusted = inters.length > 0 ? ['-untrusted', at('chain.pem')] : [];
  try {
    return execFileSync('openssl', ['verify', '-CAfile', at('root.pem'), ...untrusted, at('leaf.pem')], { encoding: 'utf8', stdio: 'pipe' });
  } catch (err) {
    return String((err as { stderr?: string }).stderr ?? err);
  }
}

/** dc2's roots once its active root is dc1's active one. */
async function replicated(dc1: Proc, dc2: Proc, what: string): Promise<{ one: Roots; two: Roots }> {
  return until(what, 30_000, async () => {
    const one = await get<Roots>(dc1, '/v1/connect/ca/roots');
    const two = await get<Roots>(dc2, '/v1/connect/ca/roots');
    return one && two && one.ActiveRootID && two.ActiveRootID === one.ActiveRootID ? { one, two } : undefined;
  }, POLL);
}

const rigs: ProxyRig[] = [];
after(async () => {
  for (const r of rigs) await r.close();
});

before(async () => {
  const common = { primary_datacenter: 'dc1', connect: { enabled: true } };
  await dcs.add('s1', 'dc1', '127.0.0.2', common);
  await dcs.add('s2', 'dc2', '127.0.0.3', common);
  const [dc1, dc2] = procs;
  dcs.launchServer(dc1);
  dcs.launchServer(dc2, ['-retry-join-wan', `${dc1.ip}:${dc1.wan}`, '-retry-interval-wan', '1s']);
  for (const p of procs) {
    await until(`${p.node} to answer`, 30_000, async () => (await get<string>(p, '/v1/status/leader')) ? true : undefined, POLL);
    const svc = await call(p, 'PUT', '/v1/agent/service/register', { Name: p.dc === 'dc1' ? 'api' : 'web', Port: 8080 });
    assert.equal(svc.status, 200, svc.text);
  }
});

test('dc2 lists dc1\'s roots (IDs, trust domain, certificates) with its own intermediate, signed by dc1', async () => {
  const [dc1, dc2] = procs;
  const { one, two } = await replicated(dc1, dc2, 'dc2 to replicate dc1\'s root');
  assert.equal(two.TrustDomain, one.TrustDomain);
  assert.match(two.TrustDomain, /^[0-9a-f-]{36}\.consul$/);
  assert.deepEqual(two.Roots.map((r) => r.ID).sort(), one.Roots.map((r) => r.ID).sort());
  const [a, b] = [active(one), active(two)];
  assert.equal(b.RootCert, a.RootCert);
  assert.equal(a.IntermediateCerts, null, 'the primary signs with its root');
  assert.equal(b.IntermediateCerts?.length, 1);
  assert.notEqual(b.SigningKeyID, a.SigningKeyID, 'dc2 signs with the intermediate\'s key');
  const inter = new X509Certificate(b.IntermediateCerts![0]);
  assert.ok(inter.ca);
  assert.ok(inter.checkIssued(new X509Certificate(a.RootCert)) && inter.verify(new X509Certificate(a.RootCert).publicKey));
  assert.equal(inter.subjectAltName, `URI:spiffe://${one.TrustDomain}`);
  assert.match(inter.subject, /^CN=sec-/);
  // ?dc=dc2 asked in dc1 answers dc2's view.
  const viaDc1 = await get<Roots>(dc1, '/v1/connect/ca/roots?dc=dc2');
  assert.equal(active(viaDc1!).SigningKeyID, b.SigningKeyID);
});

test('a dc2 leaf names dc2 and verifies with openssl against dc1\'s root through dc2\'s intermediate', async () => {
  const [dc1, dc2] = procs;
  const { one } = await replicated(dc1, dc2, 'dc2 to replicate dc1\'s root');
  const leaf = (await get<Leaf>(dc2, '/v1/agent/connect/ca/leaf/web'))!;
  assert.equal(leaf.ServiceURI, `spiffe://${one.TrustDomain}/ns/default/dc/dc2/svc/web`);
  assert.equal(pems(leaf.CertPEM).length, 2, 'the leaf and dc2\'s intermediate');
  // The agent keeps it: the intermediate that signed it is the active root's signing key (Consul's SigningKeyID check).
  const again = await call(dc2, 'GET', '/v1/agent/connect/ca/leaf/web');
  assert.equal(again.json.SerialNumber, leaf.SerialNumber);
  assert.equal(again.headers.get('x-cache'), 'HIT');
  assert.match(opensslVerify(leaf.CertPEM, active(one).RootCert, 'dc2'), /leaf\.pem: OK/);
  // The leaf alone does not chain to the root: its issuer is the intermediate.
  assert.ok(!new X509Certificate(pems(leaf.CertPEM)[0]).checkIssued(new X509Certificate(active(one).RootCert)));
  const api = (await get<Leaf>(dc1, '/v1/agent/connect/ca/leaf/api'))!;
  assert.equal(api.ServiceURI, `spiffe://${one.TrustDomain}/ns/default/dc/dc1/svc/api`);
  assert.match(opensslVerify(api.CertPEM, active(one).RootCert, 'dc1'), /leaf\.pem: OK/);
});

test('a CA configuration written in dc2 keeps its intermediate for a leaf TTL, and gets a new one for a new key type', async () => {
  const [dc1, dc2] = procs;
  const before = active((await replicated(dc1, dc2, 'dc2 to replicate dc1\'s root')).two);
  const ttl = await call(dc2, 'PUT', '/v1/connect/ca/configuration', { Provider: 'consul', Config: { LeafCertTTL: '48h' } });
  assert.equal(ttl.status, 200, ttl.text);
  const cfg = (await get<{ Config: Record<string, unknown> }>(dc2, '/v1/connect/ca/configuration'))!;
  assert.equal(cfg.Config.LeafCertTTL, '48h');
  assert.equal(active((await get<Roots>(dc2, '/v1/connect/ca/roots'))!).SigningKeyID, before.SigningKeyID);
  const dc1Cfg = (await get<{ Config: Record<string, unknown> }>(dc1, '/v1/connect/ca/configuration'))!;
  assert.notEqual(dc1Cfg.Config.LeafCertTTL, '48h', 'each datacenter has its own configuration');

  const key = await call(dc2, 'PUT', '/v1/connect/ca/configuration', { Provider: 'consul', Config: { LeafCertTTL: '48h', PrivateKeyType: 'ec', PrivateKeyBits: 384 } });
  assert.equal(key.status, 200, key.text);
  const after = (await get<Roots>(dc2, '/v1/connect/ca/roots'))!;
  assert.equal(after.ActiveRootID, before.ID, 'still dc1\'s root');
  const b = active(after);
  assert.notEqual(b.SigningKeyID, before.SigningKeyID);
  const inter = new X509Certificate(b.IntermediateCerts!.at(-1)!);
  assert.equal(inter.publicKey.asymmetricKeyDetails?.namedCurve, 'secp384r1');
  // The agent's leaf follows the new signing key.
  await until('dc2\'s leaf from the new intermediate', 30_000, async () => {
    const l = await get<Leaf>(dc2, '/v1/agent/connect/ca/leaf/web');
    return l && new X509Certificate(pems(l.CertPEM)[0]).verify(inter.publicKey) ? true : undefined;
  }, POLL);
});

test('a root rotation in dc1 reaches dc2: a new intermediate under the new root, and dc2 re-issues its leaves', async () => {
  const [dc1, dc2] = procs;
  const { one: was, two: wasTwo } = await replicated(dc1, dc2, 'dc2 to replicate dc1\'s root');
  const oldLeaf = (await get<Leaf>(dc2, '/v1/agent/connect/ca/leaf/web'))!;
  const rotate = await call(dc1, 'PUT', '/v1/connect/ca/configuration', { Provider: 'consul', Config: { PrivateKeyType: 'rsa', PrivateKeyBits: 2048 } });
  assert.equal(rotate.status, 200, rotate.text);
  const { one, two } = await until('dc2 to follow the new root', 30_000, async () => {
    const r = await replicated(dc1, dc2, 'dc2 to follow');
    return r.one.ActiveRootID !== was.ActiveRootID ? r : undefined;
  }, POLL);
  assert.deepEqual(two.Roots.map((r) => r.ID).sort(), one.Roots.map((r) => r.ID).sort(), 'the old root stays listed in both');
  assert.equal(two.Roots.find((r) => r.ID === was.ActiveRootID)?.Active, false);
  const b = active(two);
  assert.notEqual(b.SigningKeyID, active(wasTwo).SigningKeyID);
  // dc1's cross-signature comes first, dc2's intermediate last.
  assert.equal(b.IntermediateCerts?.length, 2);
  assert.equal(b.IntermediateCerts![0], active(one).IntermediateCerts![0]);
  const leaf = await until('dc2\'s leaf to be re-issued under the new root', 30_000, async () => {
    const l = await get<Leaf>(dc2, '/v1/agent/connect/ca/leaf/web');
    return l && l.SerialNumber !== oldLeaf.SerialNumber ? l : undefined;
  }, POLL);
  assert.match(opensslVerify(leaf.CertPEM, active(one).RootCert, 'rotated'), /leaf\.pem: OK/);
  // The old root still verifies it through dc1's cross-signature (clients that have not seen the new root yet).
  assert.match(opensslVerify(leaf.CertPEM, was.Roots.find((r) => r.ID === was.ActiveRootID)!.RootCert, 'cross'), /leaf\.pem: OK/);
});

test('the built-in proxy in dc2 reaches a service in dc1 over mTLS (an upstream with Datacenter dc1)', async () => {
  const [dc1, dc2] = procs;
  await replicated(dc1, dc2, 'dc2 to replicate dc1\'s root');
  const [one, two] = [new ProxyRig(dc1.http), new ProxyRig(dc2.http)];
  rigs.push(one, two);
  const echo = await one.echo('api');
  const pub = await freePort();
  await one.proxy(['-service', 'api', '-service-addr', `127.0.0.1:${echo}`, '-listen', `127.0.0.1:${pub}`, '-register']);
  const up = await freePort();
  const reg = await call(dc2, 'PUT', '/v1/agent/service/register', {
    Kind: 'connect-proxy', Name: 'web-sidecar-proxy', ID: 'web-sidecar-proxy', Address: '127.0.0.1', Port: await freePort(),
    Proxy: { DestinationServiceName: 'web', DestinationServiceID: 'web', LocalServiceAddress: '127.0.0.1', LocalServicePort: 8080, Upstreams: [{ DestinationName: 'api', Datacenter: 'dc1', LocalBindPort: up }] },
  });
  assert.equal(reg.status, 200, reg.text);
  await two.proxy(['-sidecar-for', 'web']);
  const got = await until('bytes from dc1\'s api through both proxies', 30_000, async () => {
    const socket = net.connect(up, '127.0.0.1');
    const answer = await exchange(socket, 'hello', 'api:hello'.length);
    socket.destroy();
    return answer === 'api:hello' ? answer : undefined;
  }, POLL);
  assert.equal(got, 'api:hello');
  // dc1's proxy authorizes dc2's identity: a deny intention for web closes new connections.
  const deny = await call(dc1, 'PUT', '/v1/connect/intentions/exact?source=web&destination=api', { Action: 'deny' });
  assert.equal(deny.status, 200, deny.text);
  await until('dc1\'s proxy to refuse web', 30_000, async () => {
    const socket = net.connect(up, '127.0.0.1');
    const answer = await exchange(socket, 'again', 'api:again'.length);
    socket.destroy();
    return answer === '' ? true : undefined;
  }, POLL);
});
