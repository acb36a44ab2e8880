// Namespaces between two datacenters of real processes (primary_datacenter dc1 on both; dc2 joined
// to dc1 over the WAN), as Consul Enterprise: a namespace written in dc2 is applied by dc1 and
// replicated back to dc2, where data can then be written into it; updates, deletion marks and the
// purge that follows reach dc2; a namespace written in dc1 appears in dc2; the replication gauges.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { call, DcProcs, get } from './support/dc-procs.ts';
import { until } from './support/wait.ts';

const dcs = new DcProcs('ns-repl');
const procs = dcs.procs;
const POLL = dcs.poll;
const SETTINGS = { primary_datacenter: 'dc1' };

type Ns = { Name: string; Description?: string; Meta?: Record<string, string>; DeletedAt?: string; Partition: string; ModifyIndex: number };

/** Waits until `p` answers the namespace with one satisfying `ok`, or 404 when `ok` is null. */
async function untilNs(p: (typeof procs)[number], name: string, ok: ((n: Ns) => boolean) | null, what: string): Promise<void> {
  await until(what, 20_000, async () => {
    const r = await call(p, 'GET', `/v1/namespace/${name}`);
    return ok === null ? r.status === 404 : r.status === 200 && ok(r.json as Ns);
  }, POLL);
}

before(async () => {
  for (const [node, dc, ip] of [['s1', 'dc1', '127.0.0.71'], ['s2', 'dc2', '127.0.0.72']]) await dcs.add(node, dc, ip, SETTINGS);
  const [dc1, dc2] = procs;
  dcs.launchServer(dc1);
  dcs.launchServer(dc2, ['-retry-join-wan', `${dc1.ip}:${dc1.wan}`, '-retry-interval-wan', '1s']);
  for (const p of procs) {
    await until(`${p.node} to see both datacenters`, 30_000, async () => (await get<string[]>(p, '/v1/catalog/datacenters'))?.length === 2, POLL);
  }
});

test('a namespace written in dc2 lands in dc1 and is replicated to dc2; KV into it works in dc2; its delete propagates', async () => {
  const [dc1, dc2] = procs;
  const put = await call(dc2, 'PUT', '/v1/namespace', { Name: 'team-x', Description: 'made in dc2', Meta: { team: 'x' } });
  assert.equal(put.status, 200, put.text);
  // Answered by the primary: it holds the namespace as soon as the write returns.
  const inDc1 = (await call(dc1, 'GET', '/v1/namespace/team-x')).json as Ns;
  assert.equal(inDc1.Description, 'made in dc2');
  assert.equal((put.json as Ns).ModifyIndex, inDc1.ModifyIndex);
  await untilNs(dc2, 'team-x', (n) => n.Description === 'made in dc2', 'team-x in dc2');
  const inDc2 = (await call(dc2, 'GET', '/v1/namespace/team-x')).json as Ns;
  const strip = (n: Ns) => ({ ...n, CreateIndex: 0, ModifyIndex: 0 });
  assert.deepEqual(strip(inDc2), strip(inDc1));
  // dc2's own data goes into the replicated namespace.
  assert.equal((await call(dc2, 'PUT', '/v1/kv/app/cfg?ns=team-x', 'v1')).json, true);
  assert.equal((await call(dc2, 'GET', '/v1/kv/app/cfg?ns=team-x&raw')).text, 'v1');
  assert.equal((await call(dc2, 'GET', '/v1/kv/app/cfg')).status, 404);
  // An update sent to dc2 (PUT /v1/namespace/:name) goes the same way.
  assert.equal((await call(dc2, 'PUT', '/v1/namespace/team-x', { Description: 'updated' })).status, 200);
  assert.equal(((await call(dc1, 'GET', '/v1/namespace/team-x')).json as Ns).Description, 'updated');
  await untilNs(dc2, 'team-x', (n) => n.Description === 'updated', 'the update of team-x in dc2');
  // The delete sent to dc2 marks the primary's namespace; dc2 follows and purges its data.
  assert.equal((await call(dc2, 'DELETE', '/v1/namespace/team-x')).status, 200);
  const marked = await call(dc1, 'GET', '/v1/namespace/team-x');
  assert.ok(marked.status === 404 || (marked.json as Ns).DeletedAt, marked.text);
  await untilNs(dc2, 'team-x', null, 'team-x gone from dc2');
  await untilNs(dc1, 'team-x', null, 'team-x gone from dc1');
  const kv = await call(dc2, 'GET', '/v1/kv/app/cfg?ns=team-x');
  assert.equal(kv.status, 404, kv.text);
  // The name can be used again, and is empty in dc2.
  assert.equal((await call(dc1, 'PUT', '/v1/namespace', { Name: 'team-x' })).status, 200);
  await untilNs(dc2, 'team-x', () => true, 'team-x made again in dc2');
  assert.equal((await call(dc2, 'GET', '/v1/kv/app/cfg?ns=team-x')).status, 404);
});

test('a namespace written in dc1 appears in dc2 (its spelling kept); dc2 lists what dc1 lists; the gauges', async () => {
  const [dc1, dc2] = procs;
  assert.equal((await call(dc1, 'PUT', '/v1/namespace', { Name: 'Team-Y', Description: 'from dc1' })).status, 200);
  await untilNs(dc2, 'team-y', (n) => n.Name === 'Team-Y' && n.Description === 'from dc1', 'Team-Y in dc2');
  const list = async (p: (typeof procs)[number]) => ((await call(p, 'GET', '/v1/namespaces')).json as Ns[]).map((n) => `${n.Name}:${n.Description ?? ''}`);
  await until('dc2 to list what dc1 lists', 20_000, async () => JSON.stringify(await list(dc2)) === JSON.stringify(await list(dc1)), POLL);
  assert.ok((await list(dc2)).includes('default:Builtin Default Namespace'));
  // Namespaces already as the primary has them are not rewritten (dc2's builtin default was never written again).
  const def = (await call(dc2, 'GET', '/v1/namespace/default')).json as Ns & { CreateIndex: number };
  assert.equal(def.ModifyIndex, def.CreateIndex);
  type Metrics = { Gauges: { Name: string; Value: number }[] };
  const gauge = async (name: string) => ((await call(dc2, 'GET', '/v1/agent/metrics')).json as Metrics).Gauges
    .find((g) => g.Name === `consul.leader.replication.namespaces.${name}`)?.Value;
  const dc1Index = Number((await call(dc1, 'GET', '/v1/namespaces')).headers.get('x-consul-index'));
  await until('dc2\'s replicated index to reach dc1\'s', 20_000, async () => ((await gauge('index')) ?? 0) >= dc1Index, POLL);
  assert.equal(await gauge('status'), 1);
  // dc1 is not a secondary: no replication there.
  const dc1Metrics = (await call(dc1, 'GET', '/v1/agent/metrics')).json as Metrics;
  assert.equal(dc1Metrics.Gauges.some((g) => g.Name.startsWith('consul.leader.replication.namespaces.')), false);
});
