import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newCoordinate, type Coordinate, type Member } from '../gossip/index.ts';
import { computeDistance, datacenterMaps, datacentersByDistance, serversOf, wanServer } from './wan-datacenters.ts';

const server = (node: string, dc: string, state: Member['state'] = 'alive', role = 'consul'): Member => ({
  name: `${node}.${dc}`, addr: '127.0.0.1', port: 8302, tags: { role, dc, port: '8300' }, incarnation: 1, state, stateChange: 0,
});

/** A coordinate `ms` milliseconds from the origin along the first axis. */
const at = (ms: number): Coordinate => {
  const c = newCoordinate();
  c.Vec[0] = ms / 1000;
  c.Height = 0;
  return c;
};

test('datacenters sort by the median RTT to their servers, the local one first at zero', () => {
  const members = [server('a', 'dc1'), server('b', 'dc3'), server('c', 'dc3'), server('d', 'dc3'), server('e', 'dc2'), server('f', 'dc2')];
  // dc3: 90, 10, 30 ms → median 30; dc2: 20, 200 → median (upper) 200.
  const coords: Record<string, Coordinate> = {
    'b.dc3': at(90), 'c.dc3': at(10), 'd.dc3': at(30), 'e.dc2': at(20), 'f.dc2': at(200),
  };
  assert.deepEqual(datacentersByDistance(members, 'dc1', at(0), (n) => coords[n]), ['dc1', 'dc3', 'dc2']);
  // Seen from dc3's side, dc3 is local (zero) whatever its coordinates say.
  assert.deepEqual(datacentersByDistance(members, 'dc3', at(0), (n) => coords[n] ?? at(500)), ['dc3', 'dc2', 'dc1']);
});

test('equal distances keep name order; unknown coordinates sort last as +Inf', () => {
  const members = [server('x', 'zeta'), server('y', 'alpha'), server('z', 'mid'), server('me', 'local')];
  assert.deepEqual(datacentersByDistance(members, 'local', at(0), () => undefined), ['local', 'alpha', 'mid', 'zeta']);
  assert.deepEqual(datacentersByDistance(members, 'local', undefined, (n) => at(n === 'z.mid' ? 5 : 1)), ['local', 'alpha', 'mid', 'zeta']);
  assert.deepEqual(datacentersByDistance(members, 'zeta', at(0), (n) => (n === 'z.mid' ? at(5) : undefined)), ['zeta', 'mid', 'alpha', 'local']);
  // A tie at zero with the local datacenter: names decide, as in Consul's stable sort.
  assert.deepEqual(datacentersByDistance([server('p', 'b'), server('q', 'a')], 'b', at(0), () => at(0)), ['a', 'b']);
});

test('non-servers are ignored; failed servers still name their datacenter', () => {
  const members = [server('a', 'dc1'), server('c', 'dc9', 'dead'), server('n', 'dc7', 'alive', 'node')];
  assert.deepEqual(datacentersByDistance(members, 'dc1', at(0), () => undefined), ['dc1', 'dc9']);
  assert.equal(wanServer(members[2]), null);
  assert.equal(wanServer(members[1])?.shortName, 'c');
});

test('ComputeDistance: +Inf without a coordinate, the estimate in seconds otherwise', () => {
  assert.equal(computeDistance(undefined, at(1)), Infinity);
  assert.equal(computeDistance(at(0), undefined), Infinity);
  assert.ok(Math.abs(computeDistance(at(0), at(25)) - 0.025) < 1e-9);
});

test('coordinate maps per datacenter strip the dc suffix and skip servers without a coordinate', () => {
  const members = [server('b', 'dc2'), server('a', 'dc2'), server('s', 'dc1'), server('nc', 'dc1')];
  const maps = datacenterMaps(members, (n) => (n === 'nc.dc1' ? undefined : at(1)));
  assert.deepEqual(maps.map((m) => [m.Datacenter, m.AreaID, m.Coordinates.map((c) => c.Node)]), [['dc1', 'wan', ['s']], ['dc2', 'wan', ['a', 'b']]]);
  assert.equal(maps[0].Coordinates[0].Segment, '');
});

test('the servers to forward to are the alive ones of that datacenter', () => {
  const members = [server('a', 'dc2'), server('b', 'dc2', 'dead'), server('c', 'dc2'), server('d', 'dc1')];
  const names = serversOf(members, 'dc2', () => 0.5).map((s) => s.shortName).sort();
  assert.deepEqual(names, ['a', 'c']);
  assert.deepEqual(serversOf(members, 'nowhere', Math.random), []);
});
