// Concurrent catalog registrations that name one node (names differing only in case, or different
// names with one node ID) leave exactly one node, as Consul's serialised state store does (one
// re-spelling the node moves its services and checks with it, whichever commits last): on the
// embedded store, and on two servers sharing one etcd. Also per backend (records read back from
// stored bytes): a renamed node and a re-spelled service or check get the moving write's
// CreateIndex (not Consul's kept one: no index is stored in a value, DESIGN.md §4), and no stored
// catalog value holds an index.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import { agentUrl, etcdBackedAgents } from './support/etcd-agents.ts';

const PARALLEL = 24;

/** Every spelling of `name` differing only in case, cycled to `n` entries. */
function spellings(name: string, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    out.push([...name].map((ch, j) => ((i >> (j % 8)) & 1 ? ch.toUpperCase() : ch.toLowerCase())).join(''));
  }
  return out;
}

async function register(a: DevAgent, body: unknown): Promise<number> {
  const res = await fetch(agentUrl(a, '/v1/catalog/register'), { method: 'PUT', body: JSON.stringify(body) });
  await res.text();
  return res.status;
}

async function nodes(a: DevAgent): Promise<{ Node: string; ID: string; CreateIndex: number }[]> {
  return (await fetch(agentUrl(a, '/v1/catalog/nodes?consistent'))).json() as Promise<{ Node: string; ID: string; CreateIndex: number }[]>;
}

function races(servers: () => DevAgent[]): void {
  test('registrations of one node name in many spellings at once make one node', async () => {
    const agents = servers();
    const names = spellings('race-node', PARALLEL);
    const statuses = await Promise.all(names.map((n, i) => register(agents[i % agents.length], { Node: n, Address: `10.5.0.${i + 1}` })));
    assert.deepEqual(statuses, names.map(() => 200));
    const found = (await nodes(agents[0])).filter((n) => n.Node.toLowerCase() === 'race-node');
    assert.equal(found.length, 1, `one node, got ${JSON.stringify(found.map((n) => n.Node))}`);
  });

  test('re-registrations of one node in many spellings, each changing it, leave one node holding all its records', async () => {
    const agents = servers();
    assert.equal(await register(agents[0], {
      Node: 'respell-race', Address: '10.9.1.1', Service: { ID: 'kept', Service: 'kept' }, Check: { CheckID: 'kept-check', ServiceID: 'kept', Status: 'passing' },
    }), 200);
    // Each changes the address, so each stores its own spelling (Consul's ensureNodeTxn) and moves the records.
    const names = spellings('respell-race', PARALLEL);
    const statuses = await Promise.all(names.map((n, i) => register(agents[i % agents.length], { Node: n, Address: `10.9.1.${i + 2}` })));
    assert.deepEqual(statuses, names.map(() => 200));
    const found = (await nodes(agents[0])).filter((n) => n.Node.toLowerCase() === 'respell-race');
    assert.equal(found.length, 1, `one node, got ${JSON.stringify(found.map((n) => n.Node))}`);
    const stored = found[0].Node;
    for (const a of agents) {
      const got = await (await fetch(agentUrl(a, '/v1/catalog/node/RESPELL-RACE?consistent'))).json() as any;
      assert.equal(got.Node.Node, stored);
      assert.deepEqual(Object.keys(got.Services), ['kept']);
      const checks = await (await fetch(agentUrl(a, '/v1/health/node/respell-race?consistent'))).json() as any[];
      assert.deepEqual(checks.map((c) => [c.Node, c.CheckID]), [[stored, 'kept-check']]);
    }
    const keys = (await agents[0].agent.store.range('catalog/')).kvs.map((kv) => decodeURIComponent(kv.key))
      .filter((k) => k.toLowerCase().includes('/respell-race'));
    assert.deepEqual(keys.sort(), [`catalog/check/${stored}/kept-check`, `catalog/node/${stored}`, `catalog/service/${stored}/kept`]);
  });

  test('registrations of one node ID under many names at once make one node', async () => {
    const agents = servers();
    const id = randomUUID();
    // No serfHealth check: each name may take the ID over (a rename), but only one node may hold it.
    const statuses = await Promise.all(Array.from({ length: PARALLEL }, (_, i) =>
      register(agents[i % agents.length], { ID: id, Node: `id-race-${i}`, Address: `10.6.0.${i + 1}` })));
    assert.deepEqual(statuses, statuses.map(() => 200));
    const found = (await nodes(agents[0])).filter((n) => n.ID === id);
    assert.equal(found.length, 1, `one node with the ID, got ${JSON.stringify(found.map((n) => n.Node))}`);
    const leftovers = (await nodes(agents[0])).filter((n) => n.Node.startsWith('id-race-'));
    assert.equal(leftovers.length, 1, 'the renamed names are gone');
  });

  test('/v1/txn node sets in many spellings at once make one node', async () => {
    const agents = servers();
    const names = spellings('txn-race', PARALLEL);
    const statuses = await Promise.all(names.map(async (n, i) => {
      const res = await fetch(agentUrl(agents[i % agents.length], '/v1/txn'), {
        method: 'PUT', body: JSON.stringify([{ Node: { Verb: 'set', Node: { Node: n, Address: `10.7.0.${i + 1}` } } }]),
      });
      await res.text();
      return res.status;
    }));
    assert.deepEqual(statuses, names.map(() => 200));
    const found = (await nodes(agents[0])).filter((n) => n.Node.toLowerCase() === 'txn-race');
    assert.equal(found.length, 1, `one node, got ${JSON.stringify(found.map((n) => n.Node))}`);
  });
}

function movedIndexes(servers: () => DevAgent[]): void {
  test('a renamed node and re-spelled service and check IDs get the moving write\'s CreateIndex, on every server', async () => {
    const agents = servers();
    const id = randomUUID();
    const reg = (node: string, sid: string, cid: string, port: number) => register(agents[0], {
      ID: id, Node: node, Address: '10.8.0.1', Service: { ID: sid, Service: 'moved', Port: port }, Check: { CheckID: cid, ServiceID: sid, Status: 'passing' },
    });
    const health = async (a: DevAgent) => (await (await fetch(agentUrl(a, '/v1/health/service/moved?consistent'))).json() as any[])[0];
    assert.equal(await reg('moved-node', 'Moved-1', 'Moved-Check', 1), 200);
    const first = await health(agents[0]);
    assert.equal(await reg('moved-node', 'moved-1', 'moved-check', 2), 200);
    const respelled = await health(agents[0]);
    const moveIndex = respelled.Service.ModifyIndex;
    assert.ok(moveIndex > first.Service.ModifyIndex);
    assert.equal(await reg('moved-node', 'moved-1', 'moved-check', 3), 200);
    for (const a of agents) {
      const now = await health(a);
      assert.deepEqual([now.Service.ID, now.Service.Port, now.Checks[0].CheckID], ['moved-1', 3, 'moved-check']);
      assert.deepEqual([now.Service.CreateIndex, now.Checks[0].CreateIndex], [moveIndex, moveIndex], 'created by the re-spelling write');
      assert.ok(now.Service.ModifyIndex > moveIndex);
    }
    assert.equal(await register(agents[0], { ID: id, Node: 'moved-node-2', Address: '10.8.0.1' }), 200);
    const renamed = (await nodes(agents[0])).find((n) => n.ID === id)!;
    assert.ok(renamed.CreateIndex > first.Node.ModifyIndex);
    // The renamed node lost its services and checks (Consul's ensureNodeTxn deletes them).
    for (const a of agents) {
      const got = await (await fetch(agentUrl(a, '/v1/catalog/node/moved-node-2?consistent'))).json() as any;
      assert.deepEqual([got.Node.CreateIndex, got.Node.ModifyIndex], [renamed.CreateIndex, renamed.CreateIndex], 'both the renaming write\'s');
      assert.deepEqual(got.Services, {});
    }
    for (const kv of (await agents[0].agent.store.range('catalog/')).kvs) {
      if (kv.value.length === 0) continue;
      const rec = JSON.parse(Buffer.from(kv.value).toString('utf8'));
      assert.deepEqual(['CreateIndex', 'ModifyIndex', 'KeptCreateIndex'].filter((f) => f in rec), [], `${kv.key} stores an index`);
    }
  });
}

describe('embedded store', () => {
  let dir = '';
  let agent: DevAgent | undefined;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'catalog-race-'));
    agent = await startDevAgent({ config: { store: { backend: 'embedded' }, dataDir: dir } });
  });
  after(async () => {
    await agent?.stop();
    await rm(dir, { recursive: true, force: true });
  });
  races(() => [agent!]);
  movedIndexes(() => [agent!]);
});

describe('two servers on one etcd', () => {
  const agents = etcdBackedAgents();
  races(() => agents);
  movedIndexes(() => agents);
});
