// Snapshot restore on a shared etcd store: two servers, a restore on one is seen by the other
// in one revision (its blocked query wakes), the election recovers (leader known, both server
// records back) and writes keep working.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { agentUrl, etcdBackedAgents } from './support/etcd-agents.ts';
import { waitFor } from './support/wait.ts';

const agents = etcdBackedAgents();

test('restore on one etcd-backed server: the other wakes, the election recovers, writes continue', async () => {
  const [a, b] = agents;
  await waitFor('two peers', async () => ((await (await fetch(agentUrl(a, '/v1/status/peers'))).json()) as string[]).length === 2, { ms: 15_000, every: 50 });
  await fetch(agentUrl(a, '/v1/kv/app/config'), { method: 'PUT', body: 'saved' });
  const snap = await fetch(agentUrl(a, '/v1/snapshot'));
  assert.equal(snap.status, 200);
  const archive = Buffer.from(await snap.arrayBuffer());
  await fetch(agentUrl(a, '/v1/kv/app/config'), { method: 'PUT', body: 'later' });
  await fetch(agentUrl(a, '/v1/kv/app/extra'), { method: 'PUT', body: 'x' });
  const cur = await fetch(agentUrl(a, '/v1/kv/app/config?consistent'));
  const idx = Number(cur.headers.get('x-consul-index'));
  const blocked = fetch(agentUrl(a, `/v1/kv/app/config?index=${idx}&wait=20s`));
  await new Promise((r) => setTimeout(r, 100));
  const res = await fetch(agentUrl(b, '/v1/snapshot'), { method: 'PUT', body: archive });
  assert.equal(res.status, 200, await res.text());
  const woke = await blocked;
  assert.ok(Number(woke.headers.get('x-consul-index')) > idx);
  const [pair] = (await woke.json()) as { Value: string }[];
  assert.equal(Buffer.from(pair.Value, 'base64').toString(), 'saved');
  assert.equal((await fetch(agentUrl(a, '/v1/kv/app/extra?consistent'))).status, 404);
  for (const s of agents) {
    await waitFor('a leader and two peers again', async () => {
      const leader = (await (await fetch(agentUrl(s, '/v1/status/leader'))).json()) as string;
      const peers = (await (await fetch(agentUrl(s, '/v1/status/peers'))).json()) as string[];
      return leader !== '' && peers.length === 2;
    }, { ms: 15_000, every: 50 });
  }
  assert.equal(await (await fetch(agentUrl(b, '/v1/kv/app/after'), { method: 'PUT', body: 'ok' })).text(), 'true');
  assert.equal(await (await fetch(agentUrl(a, '/v1/kv/app/after?raw&consistent'))).text(), 'ok');
});
