// The agent's coordinate settings, Consul's rate-scaled send interval, the sender loop on a
// manual clock, and the datacenter view built from the pool's servers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../clock.ts';
import { silentLogger } from '../log.ts';
import { newCoordinate, type Member } from '../gossip/index.ts';
import type { CoordinateEndpoint, CoordinateUpdate } from '../endpoint/coordinate.ts';
import type { Replica } from '../state/index.ts';
import type { RuntimeConfig } from './config/runtime.ts';
import type { LanPool } from './lan-pool.ts';
import { CoordinateSync, coordinateSettings, datacenterCoordinates, rateScaledInterval } from './coordinates.ts';

const cfg = (raw: Record<string, unknown>, dev = false) => ({ raw, dev }) as unknown as RuntimeConfig;
const member = (name: string, role: string, state: Member['state'] = 'alive'): Member =>
  ({ name, addr: '10.0.0.1', port: 8301, tags: { role, dc: 'dc1' }, incarnation: 1, state, stateChange: 0 });

function fakePool(members: Member[], coords: Record<string, number>): LanPool {
  const coordinates = {
    local: () => ({ ...newCoordinate(), Vec: [coords.self ?? 0, 0, 0, 0, 0, 0, 0, 0] }),
    cached: (n: string) => (coords[n] === undefined ? undefined : { ...newCoordinate(), Vec: [coords[n], 0, 0, 0, 0, 0, 0, 0] }),
  };
  return { gossip: { coordinates }, members: () => members } as unknown as LanPool;
}

test('settings: Consul\'s defaults, -dev batching, and the configured values', () => {
  const d = coordinateSettings(cfg({}));
  assert.deepEqual(d, { disabled: false, rateTarget: 64, intervalMinMs: 15_000, batching: { updatePeriodMs: 5000, batchSize: 128, maxBatches: 5 } });
  assert.equal(coordinateSettings(cfg({}, true)).batching.updatePeriodMs, 100);
  const set = coordinateSettings(cfg({
    disable_coordinates: true, sync_coordinate_rate_target: 8, sync_coordinate_interval_min: '2s',
    consul: { coordinate: { update_period: '250ms', update_batch_size: 10, update_max_batches: 2 } },
  }));
  assert.deepEqual(set, { disabled: true, rateTarget: 8, intervalMinMs: 2000, batching: { updatePeriodMs: 250, batchSize: 10, maxBatches: 2 } });
});

test('rateScaledInterval: the minimum for small pools, n/rate seconds past it', () => {
  assert.equal(rateScaledInterval(64, 15_000, 10), 15_000);
  assert.equal(rateScaledInterval(64, 15_000, 6400), 100_000);
  assert.equal(rateScaledInterval(0, 15_000, 6400), 15_000);
});

test('the sender sends this node\'s coordinate every interval plus stagger, and stops', () => {
  const clock = new ManualClock();
  const sent: CoordinateUpdate[] = [];
  const endpoint = { update: (u: CoordinateUpdate) => { sent.push(u); } } as unknown as CoordinateEndpoint;
  const sync = new CoordinateSync({
    pool: fakePool([member('a', 'consul')], { self: 0.004 }), endpoint, nodeName: 'a', clock, random: () => 0.5,
    logger: silentLogger(), authz: () => undefined, settings: { ...coordinateSettings(cfg({})), intervalMinMs: 1000 },
  });
  sync.start();
  clock.advance(1499);
  assert.equal(sent.length, 0);
  clock.advance(1);
  assert.deepEqual(sent.map((u) => [u.Node, u.Segment, u.Coord?.Vec[0]]), [['a', '', 0.004]]);
  clock.advance(3000);
  assert.equal(sent.length, 3);
  sync.stop();
  clock.advance(10_000);
  assert.equal(sent.length, 3);
});

test('an update refused by ACLs is logged, not thrown; disabled coordinates never start the loop', () => {
  const clock = new ManualClock();
  let calls = 0;
  const endpoint = { update: () => { calls++; throw Object.assign(new Error('Permission denied'), { code: 'permission_denied' }); } } as unknown as CoordinateEndpoint;
  const deps = {
    pool: fakePool([], {}), endpoint, nodeName: 'a', clock, random: () => 0, logger: silentLogger(), authz: () => undefined,
  };
  new CoordinateSync({ ...deps, settings: coordinateSettings(cfg({})) }).sendNow();
  assert.equal(calls, 1);
  new CoordinateSync({ ...deps, settings: coordinateSettings(cfg({ disable_coordinates: true })) }).start();
  clock.advance(3_600_000);
  assert.equal(calls, 1);
});

test('datacenter view: alive servers of this datacenter with gossip coordinates, store as fallback', () => {
  const pool = fakePool([member('s2', 'consul'), member('s1', 'consul'), member('c1', 'node'), member('s3', 'consul', 'dead'), member('s4', 'consul')], { s1: 0.001, s2: 0.002 });
  const replica = { coordinates: { set: (n: string) => new Map(n === 's4' ? [['', { ...newCoordinate(), Vec: [0.009, 0, 0, 0, 0, 0, 0, 0] }]] : []) } } as unknown as Replica;
  const [dc] = datacenterCoordinates(pool, replica, 'dc1');
  assert.equal(dc.Datacenter, 'dc1');
  assert.equal(dc.AreaID, 'wan');
  assert.deepEqual(dc.Coordinates.map((e) => [e.Node, e.Coord.Vec[0]]), [['s1', 0.001], ['s2', 0.002], ['s4', 0.009]]);
});
