// An agent whose store is an external etcd 3.4 (`-store etcd://…`): KV over real HTTP, CAS and
// blocking queries, and a second server agent on the same etcd seeing the first one's writes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { agentUrl, etcdBackedAgents } from './support/etcd-agents.ts';

const agents = etcdBackedAgents();

test('KV over HTTP on an etcd-backed agent: put, get, CAS, delete', async () => {
  const [a] = agents;
  assert.equal(a.agent.store.kind, 'etcd');
  assert.equal(await (await fetch(agentUrl(a, '/v1/kv/app/config'), { method: 'PUT', body: 'v1' })).text(), 'true');
  const got = await fetch(agentUrl(a, '/v1/kv/app/config'));
  assert.equal(got.status, 200);
  const [pair] = (await got.json()) as { Value: string; ModifyIndex: number; CreateIndex: number }[];
  assert.equal(Buffer.from(pair.Value, 'base64').toString(), 'v1');
  assert.equal(Number(got.headers.get('x-consul-index')), pair.ModifyIndex);
  const stale = await fetch(agentUrl(a, `/v1/kv/app/config?cas=${pair.ModifyIndex - 1}`), { method: 'PUT', body: 'v2' });
  assert.equal(await stale.text(), 'false');
  const fresh = await fetch(agentUrl(a, `/v1/kv/app/config?cas=${pair.ModifyIndex}`), { method: 'PUT', body: 'v2' });
  assert.equal(await fresh.text(), 'true');
  const raw = await fetch(agentUrl(a, '/v1/kv/app/config?raw'));
  assert.equal(await raw.text(), 'v2');
  assert.equal((await fetch(agentUrl(a, '/v1/kv/app/config'), { method: 'DELETE' })).status, 200);
  assert.equal((await fetch(agentUrl(a, '/v1/kv/app/config'))).status, 404);
});

test('a second server on the same etcd sees writes and wakes a blocking query', async () => {
  const [a, b] = agents;
  await fetch(agentUrl(a, '/v1/kv/shared/k'), { method: 'PUT', body: 'one' });
  const first = await fetch(agentUrl(b, '/v1/kv/shared/k?consistent'));
  assert.equal(first.status, 200);
  const idx = Number(first.headers.get('x-consul-index'));
  const blocked = fetch(agentUrl(b, `/v1/kv/shared/k?index=${idx}&wait=10s`));
  await new Promise((r) => setTimeout(r, 100));
  await fetch(agentUrl(a, '/v1/kv/shared/k'), { method: 'PUT', body: 'two' });
  const woke = await blocked;
  assert.ok(Number(woke.headers.get('x-consul-index')) > idx);
  const [pair] = (await woke.json()) as { Value: string }[];
  assert.equal(Buffer.from(pair.Value, 'base64').toString(), 'two');
});
