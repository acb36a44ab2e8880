// Virtual IPs in a 3-server managed datacenter: mesh services registered at once through all three
// servers (each commits to the shared etcd) get distinct VIPs, also while the leader's machine is
// killed mid-stream; the instances of one service deleted at once through different servers free
// its VIP; afterwards new services take exactly the freed VIPs, none from the counter (nothing leaked).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { ManagedDc, getJson, type ManagedServer } from './support/managed-dc.ts';

const dc = new ManagedDc('vips');
after(() => dc.stop());

type Instance = { ServiceTaggedAddresses?: Record<string, { Address: string }> };

/** A request that is retried while the datacenter has no leader (or a server is gone). */
async function put(servers: ManagedServer[], i: number, path: string, body: unknown): Promise<void> {
  for (let attempt = 0; attempt < 60; attempt++) {
    const s = servers[(i + attempt) % servers.length];
    const res = await fetch(`${s.http}${path}`, { method: 'PUT', body: JSON.stringify(body), signal: AbortSignal.timeout(5000) }).catch(() => undefined);
    if (res?.status === 200) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`PUT ${path} never succeeded`);
}

const native = (node: string, name: string, id = name) => ({ Node: node, Address: '10.0.0.1', Service: { ID: id, Service: name, Port: 1, Connect: { Native: true } } });

async function vipOf(s: ManagedServer, name: string): Promise<string | undefined> {
  const rows = await getJson<Instance[]>(`${s.http}/v1/catalog/service/${name}?consistent`);
  return rows?.[0]?.ServiceTaggedAddresses?.['consul-virtual']?.Address;
}

test('VIPs across three managed servers: distinct under concurrency and a leader kill; concurrent last deletes free them', async (t) => {
  dc.stopAfter(t);
  const prepared = await Promise.all(['s1', 's2', 's3'].map((n) => dc.prepare(n)));
  const servers = prepared.map((p) => dc.launch(p, prepared, 3));
  const leaderAddr = await dc.agreedLeader(servers);
  const names = Array.from({ length: 24 }, (_, i) => `m${i}`);
  // Half at once through the three servers, then the rest while the leader's machine is killed.
  await Promise.all(names.slice(0, 12).map((n, i) => put(servers, i, '/v1/catalog/register', native(`node-${n}`, n))));
  const leader = servers.find((s) => s.server === leaderAddr)!;
  const rest = servers.filter((s) => s !== leader);
  const second = Promise.all(names.slice(12).map((n, i) => put(rest, i, '/v1/catalog/register', native(`node-${n}`, n))));
  dc.killHard(leader);
  await second;
  // One service with six instances on six nodes, registered at once.
  await Promise.all([0, 1, 2, 3, 4, 5].map((i) => put(rest, i, '/v1/catalog/register', native(`shared-${i}`, 'shared'))));
  const vips = await Promise.all([...names, 'shared'].map((n) => vipOf(rest[0], n)));
  assert.ok(vips.every((v) => v?.startsWith('240.0.0.')), JSON.stringify(vips));
  assert.equal(new Set(vips).size, vips.length, `no VIP handed out twice: ${JSON.stringify(vips)}`);
  // The six instances of shared, and every m-service's node, deleted at once through both servers.
  await Promise.all([
    ...[0, 1, 2, 3, 4, 5].map((i) => put(rest, i, '/v1/catalog/deregister', { Node: `shared-${i}`, ServiceID: 'shared' })),
    ...names.map((n, i) => put(rest, i, '/v1/catalog/deregister', { Node: `node-${n}` })),
  ]);
  // Every VIP is free again: 25 new services, one after the other, take exactly 240.0.0.1-25.
  const again: string[] = [];
  for (let i = 0; i < vips.length; i++) {
    await put(rest, i, '/v1/catalog/register', native('after', `n${i}`));
    again.push((await vipOf(rest[i % 2], `n${i}`))!);
  }
  assert.deepEqual(again, vips.map((_, i) => `240.0.0.${i + 1}`), 'the freed VIPs lowest first, none from the counter');
});
