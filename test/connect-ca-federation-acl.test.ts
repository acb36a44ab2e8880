// Connect CA federation with ACLs (default deny) on real processes: dc1 (127.0.0.31) is the primary
// with an initial management token; dc2 (127.0.0.32) has it as its replication token, dc3
// (127.0.0.33) has no replication token. The primary signs dc2's intermediate (operator:write) and
// dc2's leaves verify against dc1's root; it refuses dc3's, which logs Consul's warning and keeps
// no active root, so its leaf requests fail as an uninitialized CA's.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { before, test } from 'node:test';
import { call, DcProcs, get, type Proc } from './support/dc-procs.ts';
import { until } from './support/wait.ts';

interface Root { ID: string; SigningKeyID: string; RootCert: string; IntermediateCerts: string[] | null; Active: boolean }
interface Roots { ActiveRootID: string; TrustDomain: string; Roots: Root[] }

const MGMT = '5c2e7a10-93d4-4b6f-8e21-0f9a3c7d5b48';
const dcs = new DcProcs('ca-fed-acl');
const procs = dcs.procs;
const POLL = dcs.poll;

const as = (p: Proc, token: string, method: string, path: string, body?: unknown) => call(p, method, `${path}${path.includes('?') ? '&' : '?'}token=${token}`, body);

before(async () => {
  const acl = { enabled: true, default_policy: 'deny', down_policy: 'extend-cache' };
  const connect = { enabled: true };
  const dc1 = await dcs.add('s1', 'dc1', '127.0.0.31', { primary_datacenter: 'dc1', connect, acl: { ...acl, tokens: { initial_management: MGMT } } });
  const dc2 = await dcs.add('s2', 'dc2', '127.0.0.32', { primary_datacenter: 'dc1', connect, acl: { ...acl, tokens: { replication: MGMT } } });
  const dc3 = await dcs.add('s3', 'dc3', '127.0.0.33', { primary_datacenter: 'dc1', connect, acl });
  dcs.launchServer(dc1);
  for (const p of [dc2, dc3]) dcs.launchServer(p, ['-retry-join-wan', `${dc1.ip}:${dc1.wan}`, '-retry-interval-wan', '1s']);
  await until('dc1 to list every WAN member alive', 30_000, async () => {
    const ms = await get<{ Status: number }[]>(dc1, `/v1/agent/members?wan=1&token=${MGMT}`);
    return ms?.length === 3 && ms.every((m) => m.Status === 1);
  }, POLL);
});

test('the primary signs the intermediate of a secondary whose replication token has operator:write; dc2\'s leaves chain to dc1\'s root', async () => {
  const [dc1, dc2] = procs;
  const { one, two } = await until('dc2 to replicate dc1\'s root', 60_000, async () => {
    const a = (await as(dc1, MGMT, 'GET', '/v1/connect/ca/roots')).json as Roots | undefined;
    const b = (await as(dc2, MGMT, 'GET', '/v1/connect/ca/roots')).json as Roots | undefined;
    return a?.ActiveRootID && b?.ActiveRootID === a.ActiveRootID ? { one: a, two: b } : undefined;
  }, POLL);
  assert.equal(two.TrustDomain, one.TrustDomain);
  const root = new X509Certificate(one.Roots.find((r) => r.Active)!.RootCert);
  const inter = new X509Certificate(two.Roots.find((r) => r.Active)!.IntermediateCerts!.at(-1)!);
  assert.ok(inter.verify(root.publicKey));
  const reg = await as(dc2, MGMT, 'PUT', '/v1/agent/service/register', { Name: 'web', Port: 8080 });
  assert.equal(reg.status, 200, reg.text);
  const leaf = await as(dc2, MGMT, 'GET', '/v1/agent/connect/ca/leaf/web');
  assert.equal(leaf.status, 200, leaf.text);
  assert.ok(new X509Certificate(leaf.json.CertPEM).verify(inter.publicKey));
});

test('without a replication token the primary refuses: dc3 logs Consul\'s warning and has no active root, its leaves fail', async () => {
  const dc3 = procs[2];
  await until('dc3 to be refused by the primary', 60_000, async () => /Primary datacenter refused to sign our intermediate CA certificate/.test(dc3.log) || undefined, POLL);
  assert.match(dc3.log, /Permission denied/);
  const roots = (await as(dc3, MGMT, 'GET', '/v1/connect/ca/roots')).json as Roots;
  assert.equal(roots.ActiveRootID, '');
  assert.deepEqual(roots.Roots, []);
  // The management token, only dc1's, is resolved there (dc3 has no replication token, so no policies yet).
  const reg = await as(dc3, MGMT, 'PUT', '/v1/agent/service/register', { Name: 'web', Port: 8080 });
  assert.equal(reg.status, 200, reg.text);
  const leaf = await as(dc3, MGMT, 'GET', '/v1/agent/connect/ca/leaf/web');
  assert.deepEqual([leaf.status, leaf.text.trim()], [500, 'CA is uninitialized and unable to sign certificates yet: no root certificate']);
});
