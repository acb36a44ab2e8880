// Snapshot restore on a shared etcd store: two servers, a restore on one is seen by the other
// in one revision (its blocked query wakes), the election recovers (leader known, both server
// records back) and writes keep working.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { readStore } from '../src/agent/config/build.ts';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import { startEtcd, type EtcdCluster } from './support/etcd.ts';
import { waitFor } from './support/wait.ts';

let etcd: EtcdCluster;
const agents: DevAgent[] = [];

before(async () => {
  etcd = await startEtcd(1);
  const store = readStore(`etcd://${etcd.endpoints.map((u) => new URL(u).host).join(',')}`, false);
  for (const nodeName of ['server-a', 'server-b']) agents.push(await startDevAgent({ config: { store, nodeName } }));
});

after(async () => {
  for (const a of agents) await a.stop();
  await etcd?.stop();
});

const url = (a: DevAgent, path: string) => `http://${a.httpAddr}${path}`;

test('restore on one etcd-backed server: the other wakes, the election recovers, writes continue', async () => {
  const [a, b] = agents;
  await waitFor('two peers', async () => ((await (await fetch(url(a, '/v1/status/peers'))).json()) as string[]).length === 2, { ms: 15_000, every: 50 });
  await fetch(url(a, '/v1/kv/app/config'), { method: 'PUT', body: 'saved' });
  const snap = await fetch(url(a, '/v1/snapshot'));
  assert.equal(snap.status, 200);
  const archive = Buffer.from(await snap.arrayBuffer());
  await fetch(url(a, '/v1/kv/app/config'), { method: 'PUT', body: 'later' });
  await fetch(url(a, '/v1/kv/app/extra'), { method: 'PUT', body: 'x' });
  const cur = await fetch(url(a, '/v1/kv/app/config?consistent'));
  const idx = Number(cur.headers.get('x-consul-index'));
  const blocked = fetch(url(a, `/v1/kv/app/config?index=${idx}&wait=20s`));
  await new Promise((r) => setTimeout(r, 100));
  const res = await fetch(url(b, '/v1/snapshot'), { method: 'PUT', body: archive });
  assert.equal(res.status, 200, await res.text());
  const woke = await blocked;
  assert.ok(Number(woke.headers.get('x-consul-index')) > idx);
  const [pair] = (await woke.json()) as { Value: string }[];
  assert.equal(Buffer.from(pair.Value, 'base64').toString(), 'saved');
  assert.equal((await fetch(url(a, '/v1/kv/app/extra?consistent'))).status, 404);
  for (const s of agents) {
    await waitFor('a leader and two peers again', async () => {
      const leader = (await (await fetch(url(s, '/v1/status/leader'))).json()) as string;
      const peers = (await (await fetch(url(s, '/v1/status/peers'))).json()) as string[];
      return leader !== '' && peers.length === 2;
    }, { ms: 15_000, every: 50 });
  }
  assert.equal(await (await fetch(url(b, '/v1/kv/app/after'), { method: 'PUT', body: 'ok' })).text(), 'true');
  assert.equal(await (await fetch(url(a, '/v1/kv/app/after?raw&consistent'))).text(), 'ok');
});
