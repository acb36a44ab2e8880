// `?near=_agent` through a client agent on real processes: a server (s1) and a client (c1) with
// synthetic coordinates far apart, and catalog nodes near each. Reads sent to the client sort from
// the client's node, as Consul's client names itself in the request before the RPC; the same reads
// sent to the server sort from the server's.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { call, DcProcs, get, type Proc } from './support/dc-procs.ts';
import { until } from './support/wait.ts';

const dcs = new DcProcs('near-client');
const POLL = dcs.poll;
let s1: Proc;
let c1: Proc;

// A coordinate whose estimated RTT to the origin is x plus both minimal heights, as in coordinate.test.ts.
const coord = (x: number) => ({ Vec: [x, 0, 0, 0, 0, 0, 0, 0], Error: 0.2, Adjustment: 0, Height: 10e-6 });
// On one line: s1 at 0, bravo 2 ms, charlie 30 ms, alpha 48 ms, c1 50 ms.
const PLACES: [string, number][] = [['s1', 0], ['bravo', 0.002], ['charlie', 0.030], ['alpha', 0.048], ['c1', 0.050]];

before(async () => {
  // Agents never send their own coordinates during the test (1 h), and the server writes updates at once.
  const quiet = { sync_coordinate_interval_min: '1h' };
  s1 = await dcs.add('s1', 'dc1', '127.0.0.6', { ...quiet, consul: { coordinate: { update_period: '10ms' } } });
  c1 = await dcs.add('c1', 'dc1', '127.0.0.7', quiet, { wan: false });
  dcs.launchServer(s1);
  dcs.launchClient(c1, s1);
  await until('c1 in the catalog', 30_000, async () => (await get<{ Node: string }[]>(s1, '/v1/catalog/nodes'))?.some((n) => n.Node === 'c1'), POLL);
  for (const [i, node] of ['alpha', 'bravo', 'charlie'].entries()) {
    const r = await call(s1, 'PUT', '/v1/catalog/register', {
      Node: node, Address: `10.0.0.${i + 1}`, Service: { Service: 'web', Port: 80 }, Check: { CheckID: 'web-ok', Name: 'web', ServiceID: 'web', Status: 'passing' },
    });
    assert.equal(r.status, 200, r.text);
  }
  for (const [node, x] of PLACES) assert.equal((await call(s1, 'PUT', '/v1/coordinate/update', { Node: node, Coord: coord(x) })).status, 200);
  await until('every coordinate written', 10_000, async () => (await get<unknown[]>(s1, '/v1/coordinate/nodes'))?.length === PLACES.length, POLL);
});

const names = (list: any[], f: (x: any) => string) => list.map(f);

test('catalog and health reads with ?near=_agent sort from the agent asked: the client\'s node through the client', async () => {
  const nodes = (p: Proc, q = '') => get<{ Node: string }[]>(p, `/v1/catalog/nodes?near=_agent${q}`);
  assert.deepEqual(names((await nodes(c1))!, (n) => n.Node), ['c1', 'alpha', 'charlie', 'bravo', 's1']);
  assert.deepEqual(names((await nodes(s1))!, (n) => n.Node), ['s1', 'bravo', 'charlie', 'alpha', 'c1']);
  // Other parameters travel unchanged beside the rewritten one.
  assert.deepEqual(names((await nodes(c1, `&filter=${encodeURIComponent('Node != "alpha"')}`))!, (n) => n.Node), ['c1', 'charlie', 'bravo', 's1']);
  for (const [path, f] of [
    ['/v1/catalog/service/web', (s: any) => s.Node],
    ['/v1/health/service/web', (s: any) => s.Node.Node],
    ['/v1/health/checks/web', (c: any) => c.Node],
  ] as const) {
    assert.deepEqual(names((await get<any[]>(c1, `${path}?near=_agent`))!, f), ['alpha', 'charlie', 'bravo'], `${path} via c1`);
    assert.deepEqual(names((await get<any[]>(s1, `${path}?near=_agent`))!, f), ['bravo', 'charlie', 'alpha'], `${path} via s1`);
  }
  // A named node is passed through as it is.
  assert.deepEqual(names((await get<{ Node: string }[]>(c1, '/v1/catalog/nodes?near=charlie'))!, (n) => n.Node), ['charlie', 'alpha', 'c1', 'bravo', 's1']);
});

test('a prepared query with Near _agent executed through the client sorts from the client too', async () => {
  const q = await call(s1, 'POST', '/v1/query', { Name: 'near-web', Service: { Service: 'web', Near: '_agent' } });
  assert.equal(q.status, 200, q.text);
  const viaClient = await get<{ Nodes: { Node: { Node: string } }[] }>(c1, '/v1/query/near-web/execute');
  assert.deepEqual(viaClient!.Nodes.map((n) => n.Node.Node), ['alpha', 'charlie', 'bravo']);
  const viaServer = await get<{ Nodes: { Node: { Node: string } }[] }>(s1, '/v1/query/near-web/execute?near=_agent');
  assert.deepEqual(viaServer!.Nodes.map((n) => n.Node.Node), ['bravo', 'charlie', 'alpha']);
});
