// Network coordinates over HTTP against a real agent: /v1/coordinate shapes, validation, batching
// and blocking, deletion with the node, ?near sorting on catalog and health reads from
// synthetic coordinates sent through /v1/coordinate/update, and `proconsul rtt` output.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import { runCli } from '../src/cli/registry.ts';
import { memoryIO } from '../src/cli/io.ts';

let dev: DevAgent;
let base: string;

before(async () => {
  // A short batch period keeps updates quick to land; the agent's own sender stays idle (no pool).
  dev = await startDevAgent({ config: { raw: { consul: { coordinate: { update_period: '10ms' } } } } });
  base = `http://${dev.httpAddr}`;
});
after(async () => {
  await dev.stop();
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; index: number; json: any; text: string }> {
  const res = await fetch(`${base}${path}`, { method, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let json: unknown;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, index: Number(res.headers.get('x-consul-index')), json, text };
}
// A coordinate whose estimated RTT to the origin is x plus both minimal heights (20 µs).
const coord = (x: number, y = 0) => ({ Vec: [x, y, 0, 0, 0, 0, 0, 0], Error: 0.2, Adjustment: 0, Height: 10e-6 });
// Sends an update and writes the pending batch now instead of waiting for the batch timer.
async function setCoord(node: string, c: ReturnType<typeof coord>, segment = ''): Promise<void> {
  assert.equal((await call('PUT', '/v1/coordinate/update', { Node: node, Segment: segment, Coord: c })).status, 200);
  await dev.agent.endpoints.coordinate.flush();
}

describe('coordinates', () => {
  before(async () => {
    for (const [n, a] of [['alpha', '10.0.0.1'], ['bravo', '10.0.0.2'], ['charlie', '10.0.0.3'], ['delta', '10.0.0.4']]) {
      const r = await call('PUT', '/v1/catalog/register', { Node: n, Address: a, Service: { Service: 'web', Port: 80 }, Check: { CheckID: 'web-ok', Name: 'web', ServiceID: 'web', Status: 'passing' } });
      assert.equal(r.status, 200);
    }
    // test-node at the origin; bravo 1 ms, alpha 5 ms, charlie 20 ms away; delta has none.
    await setCoord('test-node', coord(0));
    await setCoord('alpha', coord(0.005));
    await setCoord('bravo', coord(0, 0.001));
    await setCoord('charlie', coord(0.020));
  });

  test('nodes and node/:node answer Consul\'s CoordinateEntry shape, sorted by node, with an index', async () => {
    const all = await call('GET', '/v1/coordinate/nodes');
    assert.equal(all.status, 200);
    assert.ok(all.index > 1);
    assert.deepEqual(all.json.map((e: any) => e.Node), ['alpha', 'bravo', 'charlie', 'test-node']);
    assert.deepEqual(Object.keys(all.json[0]), ['Node', 'Segment', 'Coord']);
    assert.deepEqual(all.json[0].Coord, coord(0.005));
    const one = await call('GET', '/v1/coordinate/node/bravo');
    assert.deepEqual(one.json, [{ Node: 'bravo', Segment: '', Coord: coord(0, 0.001) }]);
    const none = await call('GET', '/v1/coordinate/node/delta');
    assert.equal(none.status, 404);
    assert.equal(none.text, '');
    assert.deepEqual((await call('GET', '/v1/coordinate/nodes?segment=other')).json, []);
    assert.equal((await call('GET', '/v1/coordinate/nodes?segment=')).json.length, 4);
  });

  test('datacenters lists this datacenter\'s servers under the wan area', async () => {
    const dcs = await call('GET', '/v1/coordinate/datacenters');
    assert.deepEqual(dcs.json, [{ Datacenter: 'dc1', AreaID: 'wan', Coordinates: [{ Node: 'test-node', Segment: '', Coord: coord(0) }] }]);
  });

  test('update: Consul\'s errors for bad bodies and coordinates; unknown nodes are dropped', async () => {
    assert.equal((await call('PUT', '/v1/coordinate/update', '{nope')).status, 400);
    const missing = await call('PUT', '/v1/coordinate/update', { Node: 'alpha' });
    assert.deepEqual([missing.status, missing.text], [500, 'invalid coordinate']);
    const short = await call('PUT', '/v1/coordinate/update', { Node: 'alpha', Coord: { ...coord(0), Vec: [0, 0] } });
    assert.deepEqual([short.status, short.text], [500, 'incompatible coordinate']);
    assert.equal((await call('PUT', '/v1/coordinate/update', { Node: 'ghost', Coord: coord(1) })).status, 200);
    await dev.agent.endpoints.coordinate.flush();
    assert.equal((await call('GET', '/v1/coordinate/node/ghost')).status, 404);
  });

  test('a blocking nodes query wakes when an update lands; lower-case keys are accepted', async () => {
    const { index } = await call('GET', '/v1/coordinate/nodes');
    const blocked = call('GET', `/v1/coordinate/nodes?index=${index}&wait=5s`);
    await new Promise((r) => setTimeout(r, 50));
    await call('PUT', '/v1/coordinate/update', { node: 'charlie', coord: { vec: coord(0.021).Vec, error: 0.2, adjustment: 0, height: 10e-6 } });
    // The batch timer (10 ms here) writes it; the blocked query wakes on that write.
    const res = await blocked;
    assert.ok(res.index > index);
    assert.deepEqual(res.json.find((e: any) => e.Node === 'charlie').Coord.Vec[0], 0.021);
    await setCoord('charlie', coord(0.020));
  });

  test('?near sorts catalog and health reads by estimated RTT; nodes without coordinates come last', async () => {
    const names = (rows: any[], f: (r: any) => string) => rows.map(f);
    const byName = (await call('GET', '/v1/catalog/nodes')).json.map((n: any) => n.Node);
    assert.deepEqual(byName, ['alpha', 'bravo', 'charlie', 'delta', 'test-node']);
    assert.deepEqual(names((await call('GET', '/v1/catalog/nodes?near=_agent')).json, (n) => n.Node), ['test-node', 'bravo', 'alpha', 'charlie', 'delta']);
    assert.deepEqual(names((await call('GET', '/v1/catalog/nodes?near=charlie')).json, (n) => n.Node), ['charlie', 'alpha', 'test-node', 'bravo', 'delta']);
    assert.deepEqual(names((await call('GET', '/v1/catalog/service/web?near=_agent')).json, (s) => s.Node), ['bravo', 'alpha', 'charlie', 'delta']);
    assert.deepEqual(names((await call('GET', '/v1/health/service/web?near=charlie')).json, (s) => s.Node.Node), ['charlie', 'alpha', 'bravo', 'delta']);
    assert.deepEqual(names((await call('GET', '/v1/health/checks/web?near=alpha')).json, (c) => c.Node), ['alpha', 'bravo', 'charlie', 'delta']);
    const state = (await call('GET', '/v1/health/state/passing?near=charlie')).json.map((c: any) => c.Node);
    assert.deepEqual([...new Set(state)], ['charlie', 'alpha', 'test-node', 'bravo', 'delta']);
    // A source without a coordinate leaves the usual order alone.
    assert.deepEqual(names((await call('GET', '/v1/catalog/nodes?near=delta')).json, (n) => n.Node), byName);
  });

  test('proconsul rtt prints Consul\'s estimate line, defaulting the second node to the agent', async () => {
    const run = async (...args: string[]) => {
      const io = memoryIO();
      const code = await runCli(['rtt', `-http-addr=${dev.httpAddr}`, ...args], io);
      return { code, out: io.out, err: io.err };
    };
    assert.deepEqual(await run('alpha', 'charlie'), { code: 0, out: 'Estimated alpha <-> charlie rtt: 15.020 ms (using LAN coordinates)\n', err: '' });
    assert.deepEqual(await run('BRAVO'), { code: 0, out: 'Estimated BRAVO <-> test-node rtt: 1.020 ms (using LAN coordinates)\n', err: '' });
    const missing = await run('delta', 'alpha');
    assert.deepEqual([missing.code, missing.err], [1, 'Could not find a coordinate for node "delta"\n']);
    // WAN coordinates are the servers' only: alpha is a client node.
    assert.deepEqual(await run('-wan', 'alpha.dc1'), { code: 1, out: '', err: 'Could not find a coordinate for node "alpha.dc1"\n' });
    assert.deepEqual(await run('-wan', 'alpha'), { code: 1, out: '', err: 'Node names must be specified as <node name>.<datacenter> with -wan\n' });
    const none = await run();
    assert.equal(none.code, 1);
    assert.match(none.err, /^One or two node names must be specified\n\n[\s\S]*Usage: proconsul rtt/);
  });

  test('deregistering a node deletes its coordinates', async () => {
    await call('PUT', '/v1/catalog/register', { Node: 'echo', Address: '10.0.0.5' });
    await setCoord('echo', coord(0.003));
    assert.equal((await call('PUT', '/v1/catalog/deregister', { Node: 'echo' })).status, 200);
    assert.equal((await call('GET', '/v1/coordinate/node/echo')).status, 404);
    assert.ok(!(await call('GET', '/v1/coordinate/nodes')).json.some((e: any) => e.Node === 'echo'));
  });

  test('an update naming its node in another spelling lands on the stored node and goes with it', async () => {
    await call('PUT', '/v1/catalog/register', { Node: 'Foxtrot', Address: '10.0.0.6' });
    // Two spellings in one batch are one node's coordinate: the latest wins (one put per key).
    assert.equal((await call('PUT', '/v1/coordinate/update', { Node: 'foxtrot', Segment: '', Coord: coord(0.009) })).status, 200);
    await setCoord('FOXTROT', coord(0.004));
    const got = await call('GET', '/v1/coordinate/node/foxtrot');
    assert.equal(got.status, 200, 'the catalog finds the node case-insensitively, as Consul\'s node index does');
    assert.deepEqual(got.json.map((e: any) => [e.Node, e.Coord.Vec[0]]), [['Foxtrot', 0.004]]);
    assert.equal((await call('PUT', '/v1/catalog/deregister', { Node: 'foxtrot' })).status, 200);
    assert.ok(!(await call('GET', '/v1/coordinate/nodes')).json.some((e: any) => e.Node.toLowerCase() === 'foxtrot'));
  });
});

describe('coordinate batching', () => {
  test('only update_batch_size × update_max_batches updates are written per period; latest per node wins', async () => {
    const raw = { consul: { coordinate: { update_period: '1h', update_batch_size: 1, update_max_batches: 2 } } };
    const b = await startDevAgent({ config: { raw } });
    try {
      const put = (path: string, body: unknown) => fetch(`http://${b.httpAddr}${path}`, { method: 'PUT', body: JSON.stringify(body) });
      for (const n of ['n1', 'n2', 'n3']) await put('/v1/catalog/register', { Node: n, Address: '10.0.0.1' });
      await put('/v1/coordinate/update', { Node: 'n1', Coord: coord(0.9) });
      for (const n of ['n1', 'n2', 'n3']) await put('/v1/coordinate/update', { Node: n, Coord: coord(0.001) });
      await b.agent.endpoints.coordinate.flush();
      const entries = await (await fetch(`http://${b.httpAddr}/v1/coordinate/nodes`)).json() as any[];
      assert.deepEqual(entries.map((e: any) => [e.Node, e.Coord.Vec[0]]), [['n1', 0.001], ['n2', 0.001]]);
    } finally {
      await b.stop();
    }
  });
});

describe('disable_coordinates', () => {
  test('every coordinate route answers 401 Coordinate support disabled', async () => {
    const off = await startDevAgent({ config: { raw: { disable_coordinates: true } } });
    try {
      for (const [method, path] of [['GET', '/v1/coordinate/datacenters'], ['GET', '/v1/coordinate/nodes'], ['GET', '/v1/coordinate/node/x'], ['PUT', '/v1/coordinate/update']]) {
        const res = await fetch(`http://${off.httpAddr}${path}`, { method, body: method === 'PUT' ? '{}' : undefined });
        assert.deepEqual([res.status, await res.text()], [401, 'Coordinate support disabled'], path);
      }
    } finally {
      await off.stop();
    }
  });
});
