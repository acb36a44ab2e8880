// CA root rotation with two servers sharing one etcd store: a rotation asked of either server (one
// of them a follower) is stored once in the replicated store, so the other server's blocking roots
// read wakes with the new active root and its leaves are signed under it.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import { etcdBackedAgents, agentUrl } from './support/etcd-agents.ts';
import { until } from './support/wait.ts';
import type { DevAgent } from './support/agent.ts';

const servers = etcdBackedAgents(['server-a', 'server-b']);

interface Roots { ActiveRootID: string; TrustDomain: string; Roots: { ID: string; Active: boolean; RootCert: string; IntermediateCerts: string[] | null }[] }

async function roots(a: DevAgent, index = 0): Promise<{ body: Roots; index: number }> {
  const r = await fetch(agentUrl(a, `/v1/connect/ca/roots${index ? `?index=${index}&wait=30s` : ''}`), { signal: AbortSignal.timeout(60_000) });
  return { body: await r.json() as Roots, index: Number(r.headers.get('x-consul-index')) };
}

async function rotateOn(asked: DevAgent, other: DevAgent, bits: number, count: number): Promise<void> {
  const before = await roots(other);
  const watch = roots(other, before.index);
  const put = await fetch(agentUrl(asked, '/v1/connect/ca/configuration'), { method: 'PUT', body: JSON.stringify({ Provider: 'consul', Config: { PrivateKeyBits: bits } }) });
  assert.equal(put.status, 200, await put.text());
  const woke = await watch;
  assert.equal(woke.body.Roots.length, count, 'the other server\'s blocking read answers the rotation');
  assert.notEqual(woke.body.ActiveRootID, before.body.ActiveRootID);
  assert.equal(woke.body.TrustDomain, before.body.TrustDomain);
  const active = woke.body.Roots.find((r) => r.Active)!;
  const previous = woke.body.Roots.find((r) => r.ID === before.body.ActiveRootID)!;
  assert.equal(previous.Active, false);
  assert.ok(new X509Certificate(active.IntermediateCerts![0]).verify(new X509Certificate(previous.RootCert).publicKey));
  // The other server signs under the new root.
  const leaf = await (await fetch(agentUrl(other, '/v1/agent/connect/ca/leaf/web'))).json() as { CertPEM: string };
  assert.ok(new X509Certificate(leaf.CertPEM).verify(new X509Certificate(active.RootCert).publicKey));
}

test('a rotation asked of either server reaches the other through the store', async () => {
  const [a, b] = servers;
  await until('a CA root on both servers', 20_000, async () => (await roots(a)).body.Roots.length === 1 && (await roots(b)).body.Roots.length === 1);
  await rotateOn(b, a, 384, 2);
  await rotateOn(a, b, 521, 3);
});
