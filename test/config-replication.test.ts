// Config entry replication between two datacenters of real processes (primary_datacenter dc1 on
// both; dc2 joined to dc1 over the WAN): entries written in dc1 appear in dc2, writes sent to dc2
// land in dc1 (CAS decided there) and come back through replication, deletes propagate both
// ways, entries of the default partition's namespaces replicate into their namespaces, dc2's
// discovery chains use the replicated entries, an intention created in dc2 is enforced by dc2's intention check, exported services stay
// in the primary, and replication picks up again after dc1's server restarts.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { call, DcProcs, get } from './support/dc-procs.ts';
import { until } from './support/wait.ts';

const dcs = new DcProcs('config-repl');
const procs = dcs.procs;
const POLL = dcs.poll;
const SETTINGS = { primary_datacenter: 'dc1', connect: { enabled: true } };

type Entry = { Kind: string; Name: string; Protocol?: string; ModifyIndex: number };

/** Waits until `p` answers `path` with an entry satisfying `ok`, or 404 when `ok` is null. */
async function untilEntry(p: (typeof procs)[number], path: string, ok: ((e: Entry) => boolean) | null, what: string): Promise<void> {
  await until(what, 20_000, async () => {
    const r = await call(p, 'GET', path);
    return ok === null ? r.status === 404 : r.status === 200 && ok(r.json as Entry);
  }, POLL);
}

before(async () => {
  for (const [node, dc, ip] of [['s1', 'dc1', '127.0.0.2'], ['s2', 'dc2', '127.0.0.3']]) await dcs.add(node, dc, ip, SETTINGS);
  const [dc1, dc2] = procs;
  dcs.launchServer(dc1);
  dcs.launchServer(dc2, ['-retry-join-wan', `${dc1.ip}:${dc1.wan}`, '-retry-interval-wan', '1s']);
  for (const p of procs) {
    await until(`${p.node} to see both datacenters`, 30_000, async () => (await get<string[]>(p, '/v1/catalog/datacenters'))?.length === 2, POLL);
  }
});

test('an entry written in the primary is replicated to the secondary; its delete too', async () => {
  const [dc1, dc2] = procs;
  assert.equal((await call(dc1, 'PUT', '/v1/config', { Kind: 'service-defaults', Name: 'web', Protocol: 'http' })).json, true);
  assert.equal((await call(dc1, 'PUT', '/v1/config', { Kind: 'proxy-defaults', Name: 'global', Config: { protocol: 'http' } })).json, true);
  await untilEntry(dc2, '/v1/config/service-defaults/web', (e) => e.Protocol === 'http', 'service-defaults/web in dc2');
  await untilEntry(dc2, '/v1/config/proxy-defaults/global', () => true, 'proxy-defaults/global in dc2');
  // Replicated as written: dc2 renders the same entry (its own indexes aside).
  const strip = (e: Record<string, unknown>) => ({ ...e, CreateIndex: 0, ModifyIndex: 0 });
  assert.deepEqual(strip((await call(dc2, 'GET', '/v1/config/proxy-defaults/global')).json), strip((await call(dc1, 'GET', '/v1/config/proxy-defaults/global')).json));
  // dc2's discovery chains compile from the replicated entries.
  assert.equal((await call(dc1, 'PUT', '/v1/config', { Kind: 'service-resolver', Name: 'web', ConnectTimeout: '7s' })).json, true);
  type Chain = { Chain: { Protocol: string; Nodes: Record<string, { Resolver?: { ConnectTimeout: string } }> } };
  const chain = await until('dc2\'s chain for web to use the replicated resolver', 20_000, async () => {
    const c = await get<Chain>(dc2, '/v1/discovery-chain/web');
    return c?.Chain.Nodes['resolver:web.default.default.dc2']?.Resolver?.ConnectTimeout === '7s' ? c : undefined;
  }, POLL);
  assert.equal(chain.Chain.Protocol, 'http');
  await call(dc1, 'DELETE', '/v1/config/service-resolver/web');
  // An update in dc1 reaches dc2.
  await call(dc1, 'PUT', '/v1/config', { Kind: 'service-defaults', Name: 'web', Protocol: 'grpc' });
  await untilEntry(dc2, '/v1/config/service-defaults/web', (e) => e.Protocol === 'grpc', 'the update of service-defaults/web in dc2');
  // The replicated index is dc1's (its reads block from it instead of rewriting every entry each round).
  const dc1Index = Number((await call(dc1, 'GET', '/v1/config/service-defaults')).headers.get('x-consul-index'));
  type Metrics = { Gauges: { Name: string; Value: number }[] };
  const gauge = async (name: string) => ((await call(dc2, 'GET', '/v1/agent/metrics')).json as Metrics).Gauges.find((g) => g.Name === `consul.leader.replication.config-entries.${name}`)?.Value;
  await until('dc2\'s replicated index to reach dc1\'s', 20_000, async () => ((await gauge('index')) ?? 0) >= dc1Index, POLL);
  assert.equal(await gauge('status'), 1);
  assert.equal((await call(dc1, 'DELETE', '/v1/config/service-defaults/web')).status, 200);
  await untilEntry(dc2, '/v1/config/service-defaults/web', null, 'service-defaults/web deleted in dc2');
});

test('entries of the default partition\'s namespaces are replicated, each into its namespace; deletes too', async () => {
  const [dc1, dc2] = procs;
  assert.equal((await call(dc1, 'PUT', '/v1/namespace', { Name: 'team-a' })).status, 200);
  assert.equal((await call(dc1, 'PUT', '/v1/config?ns=team-a', { Kind: 'service-defaults', Name: 'web', Protocol: 'http2' })).json, true);
  assert.equal((await call(dc1, 'PUT', '/v1/config', { Kind: 'service-defaults', Name: 'web', Protocol: 'http' })).json, true);
  await untilEntry(dc2, '/v1/config/service-defaults/web?ns=team-a', (e) => e.Protocol === 'http2', 'team-a\'s service-defaults/web in dc2');
  await untilEntry(dc2, '/v1/config/service-defaults/web', (e) => e.Protocol === 'http', 'the default namespace\'s service-defaults/web in dc2');
  const inDc2 = (await call(dc2, 'GET', '/v1/config/service-defaults/web?ns=team-a')).json as Entry & { Namespace: string };
  assert.equal(inDc2.Namespace, 'team-a');
  // A later round leaves both alone (no namespace mixed up with another), then a delete in one namespace reaches dc2.
  assert.equal((await call(dc1, 'DELETE', '/v1/config/service-defaults/web?ns=team-a')).status, 200);
  await untilEntry(dc2, '/v1/config/service-defaults/web?ns=team-a', null, 'team-a\'s service-defaults/web deleted in dc2');
  assert.equal(((await call(dc2, 'GET', '/v1/config/service-defaults/web')).json as Entry).Protocol, 'http');
  assert.equal((await call(dc1, 'DELETE', '/v1/config/service-defaults/web')).status, 200);
  await untilEntry(dc2, '/v1/config/service-defaults/web', null, 'service-defaults/web deleted in dc2');
  // The wildcard namespace's intentions (*/* destinations) replicate too.
  const wild = { Kind: 'service-intentions', Name: '*', Namespace: '*', Sources: [{ Name: '*', Namespace: '*', Action: 'deny' }] };
  assert.equal((await call(dc1, 'PUT', '/v1/config', wild)).json, true);
  await untilEntry(dc2, '/v1/config/service-intentions/*?ns=*', (e) => (e as unknown as { Namespace: string }).Namespace === '*', 'the */* intentions in dc2');
  assert.equal((await call(dc1, 'DELETE', '/v1/config/service-intentions/*?ns=*')).status, 200);
  await untilEntry(dc2, '/v1/config/service-intentions/*?ns=*', null, 'the */* intentions deleted in dc2');
});

test('writes sent to the secondary are applied by the primary (CAS decided there), then replicated back', async () => {
  const [dc1, dc2] = procs;
  const put = await call(dc2, 'PUT', '/v1/config?cas=0', { Kind: 'service-defaults', Name: 'api', Protocol: 'http2' });
  assert.equal(put.json, true, put.text);
  // Answered by the primary: it holds the entry as soon as the write returns.
  const inDc1 = (await call(dc1, 'GET', '/v1/config/service-defaults/api')).json as Entry;
  assert.equal(inDc1.Protocol, 'http2');
  await untilEntry(dc2, '/v1/config/service-defaults/api', (e) => e.Protocol === 'http2', 'service-defaults/api back in dc2');
  // A CAS against the primary's index: dc2's own index of its copy is not what counts.
  const local = (await call(dc2, 'GET', '/v1/config/service-defaults/api')).json as Entry;
  if (local.ModifyIndex !== inDc1.ModifyIndex) {
    assert.equal((await call(dc2, 'PUT', `/v1/config?cas=${local.ModifyIndex}`, { Kind: 'service-defaults', Name: 'api', Protocol: 'tcp' })).json, false);
  }
  assert.equal((await call(dc2, 'PUT', `/v1/config?cas=${inDc1.ModifyIndex}`, { Kind: 'service-defaults', Name: 'api', Protocol: 'tcp' })).json, true);
  assert.equal((await call(dc2, 'PUT', '/v1/config?cas=0', { Kind: 'service-defaults', Name: 'api', Protocol: 'http' })).json, false, 'exists in the primary');
  await untilEntry(dc2, '/v1/config/service-defaults/api', (e) => e.Protocol === 'tcp', 'the CAS update in dc2');
  // ?dc=dc2 sent to dc1 is still the primary's write.
  assert.equal((await call(dc1, 'PUT', '/v1/config?dc=dc2', { Kind: 'service-defaults', Name: 'via-dc', Protocol: 'http' })).json, true);
  assert.equal(((await call(dc1, 'GET', '/v1/config/service-defaults/via-dc')).json as Entry).Protocol, 'http');
  await untilEntry(dc2, '/v1/config/service-defaults/via-dc', () => true, 'service-defaults/via-dc in dc2');
  // A delete sent to dc2 removes the primary's entry at once, then dc2's copy.
  assert.equal((await call(dc2, 'DELETE', '/v1/config/service-defaults/api')).status, 200);
  assert.equal((await call(dc1, 'GET', '/v1/config/service-defaults/api')).status, 404);
  await untilEntry(dc2, '/v1/config/service-defaults/api', null, 'service-defaults/api deleted in dc2');
});

test('an intention created in the secondary lands in the primary and is enforced by the secondary\'s check', async () => {
  const [dc1, dc2] = procs;
  const exact = '/v1/connect/intentions/exact?source=web&destination=db';
  const check = '/v1/connect/intentions/check?source=web&destination=db';
  assert.equal((await call(dc2, 'PUT', exact, { Action: 'deny' })).json, true);
  assert.equal((await call(dc1, 'GET', exact)).json.Action, 'deny');
  await until('dc2 to deny web → db', 20_000, async () => (await get<{ Allowed: boolean }>(dc2, check))?.Allowed === false, POLL);
  await call(dc2, 'PUT', exact, { Action: 'allow' });
  await until('dc2 to allow web → db', 20_000, async () => (await get<{ Allowed: boolean }>(dc2, check))?.Allowed === true, POLL);
  // The config entry behind it is the same in both datacenters.
  await untilEntry(dc2, '/v1/config/service-intentions/db', () => true, 'service-intentions/db in dc2');
  assert.equal((await call(dc2, 'DELETE', exact)).status, 200);
  assert.equal((await call(dc1, 'GET', exact)).status, 404);
  await untilEntry(dc2, '/v1/config/service-intentions/db', null, 'service-intentions/db deleted in dc2');
});

test('exported services are not replicated: they apply to the primary only', async () => {
  const [dc1, dc2] = procs;
  const put = await call(dc1, 'PUT', '/v1/config', { Kind: 'exported-services', Name: 'default', Services: [{ Name: 'web', Consumers: [{ Peer: 'other' }] }] });
  assert.equal(put.json, true, put.text);
  await call(dc1, 'PUT', '/v1/config', { Kind: 'service-defaults', Name: 'marker', Protocol: 'http' });
  await untilEntry(dc2, '/v1/config/service-defaults/marker', () => true, 'service-defaults/marker in dc2');
  assert.equal((await call(dc2, 'GET', '/v1/config/exported-services/default')).status, 404);
  // Written only when the request targets the primary (Consul's gateWriteToSecondary).
  const exported = { Kind: 'exported-services', Name: 'default', Services: [{ Name: 'api', Consumers: [{ Peer: 'other' }] }] };
  for (const [p, path] of [[dc2, '/v1/config'], [dc1, '/v1/config?dc=dc2']] as const) {
    const r = await call(p, 'PUT', path, exported);
    assert.equal(r.status, 500, r.text);
    assert.equal(r.text, 'exported-services writes must not target secondary datacenters.');
  }
  assert.equal((await call(dc2, 'PUT', '/v1/config?dc=dc1', exported)).json, true);
  assert.equal(((await call(dc1, 'GET', '/v1/config/exported-services/default')).json as { Services: { Name: string }[] }).Services[0].Name, 'api');
});

test('replication resumes after the primary\'s server restarts', async () => {
  const [dc1, dc2] = procs;
  const exited = new Promise((resolve) => dc1.child!.once('exit', resolve));
  dc1.child!.kill('SIGKILL');
  await exited;
  // With the primary gone, a write sent to dc2 fails instead of landing in dc2 alone.
  const refused = await call(dc2, 'PUT', '/v1/config', { Kind: 'service-defaults', Name: 'lost', Protocol: 'http' });
  assert.equal(refused.status, 500, refused.text);
  assert.equal((await call(dc2, 'GET', '/v1/config/service-defaults/lost')).status, 404);
  dcs.launchServer(dc1, ['-retry-join-wan', `${dc2.ip}:${dc2.wan}`, '-retry-interval-wan', '1s']);
  await until('dc1 to lead again', 30_000, async () => (await get<string>(dc1, '/v1/status/leader')) || undefined, POLL);
  await until('dc1 to write again', 30_000, async () => {
    const r = await call(dc1, 'PUT', '/v1/config', { Kind: 'service-defaults', Name: 'after-restart', Protocol: 'http' }).catch(() => undefined);
    return r?.json === true;
  }, POLL);
  await call(dc1, 'DELETE', '/v1/config/service-defaults/marker');
  await untilEntry(dc2, '/v1/config/service-defaults/after-restart', () => true, 'service-defaults/after-restart in dc2');
  await untilEntry(dc2, '/v1/config/service-defaults/marker', null, 'service-defaults/marker deleted in dc2');
});
