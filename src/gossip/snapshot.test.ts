// The user event clock across a restart, as Serf restores it from its snapshot: the next event
// gets a time after the last one recorded (never one already used) and recorded events are not
// delivered again, whether the snapshot was written before 59ee0ae (`eventClock`, the last time
// used) or now (`lastEventClock`, the last event delivered).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BroadcastQueue } from './broadcast-queue.ts';
import type { UserEvent } from './gossip-events.ts';
import { Simulation, type SimNode } from './simulation.ts';
import { lastEventClock, type SnapshotData } from './snapshot.ts';
import { UserEvents } from './user-events.ts';

const dirs: string[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'gossip-snapshot-'));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const userEvents = (n: SimNode): UserEvent[] => n.events.flatMap((e) => (e.type === 'user' ? [e.event] : []));
const readSnapshot = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'local.snapshot'), 'utf8')) as SnapshotData;

test('the recorded event time is read from either format; the new field wins; junk is no time', () => {
  assert.equal(lastEventClock({ peers: [], left: false, lastEventClock: 7 }), 7);
  assert.equal(lastEventClock({ peers: [], left: false, eventClock: 5 }), 5);
  assert.equal(lastEventClock({ peers: [], left: false, eventClock: 9, lastEventClock: 7 }), 7);
  assert.equal(lastEventClock({ peers: [], left: false }), 0);
  assert.equal(lastEventClock({ peers: [], left: false, eventClock: 'x' } as unknown as SnapshotData), 0);
});

test('restore: the next event takes the time after the recorded one; recorded times are not delivered again', () => {
  const got: number[] = [];
  const ev = new UserEvents({ bufferSize: 512, sizeLimit: 512, queue: new BroadcastQueue(() => 4), deliver: (e) => got.push(e.ltime) });
  ev.restore(5);
  assert.equal(ev.clock.time, 6);
  assert.equal(ev.handle({ ltime: 5, name: 'old', payload: '', cc: false }), false, 'an event at the recorded time is one we had');
  ev.fire('new', Buffer.from('x'), false);
  assert.deepEqual(got, [6]);
  assert.equal(ev.lastEventTime, 6);
});

test('an older snapshot (eventClock = the last time used) does not give the next event that time again', async () => {
  // As the clock before 59ee0ae left it after this node fired its fifth event at time 5.
  const dir = tmp();
  fs.writeFileSync(path.join(dir, 'local.snapshot'), JSON.stringify({ peers: [], eventClock: 5, left: false }));
  const sim = new Simulation({ seed: 31 });
  const n = await sim.add('upgraded', { dataDir: dir });
  n.gossip.userEvent('deploy', Buffer.from('v2'), false);
  await sim.run(100);
  assert.deepEqual(userEvents(n).map((e) => e.ltime), [6]);
});

test('the snapshot records each delivered event, and a restart continues after it', async () => {
  const dir = tmp();
  const sim = new Simulation({ seed: 32 });
  const [seed] = await sim.addMany(1);
  const n = await sim.add('phoenix', { dataDir: dir }, '10.0.9.3');
  await sim.joinNow(n, [`${seed.gossip.localMember().addr}:8301`]);
  for (let i = 0; i < 3; i++) seed.gossip.userEvent('e', Buffer.from(String(i)), false);
  await sim.run(1_000);
  n.gossip.userEvent('own', Buffer.from('x'), false);
  await sim.run(1_000);
  assert.deepEqual(userEvents(n).map((e) => e.ltime).sort(), [1, 2, 3, 4]);
  // Written with no membership change after the events: the events alone schedule the write.
  assert.equal(readSnapshot(dir).lastEventClock, 4);
  assert.equal(readSnapshot(dir).eventClock, undefined);
  await sim.kill('phoenix');
  await sim.kill(seed.name);
  const again = await sim.add('phoenix', { dataDir: dir }, '10.0.9.3');
  again.gossip.userEvent('after', Buffer.from('y'), false);
  await sim.run(100);
  assert.deepEqual(userEvents(again).map((e) => [e.name, e.ltime]), [['after', 5]]);
});

test('restarted beside a live peer: events it had are not delivered again, one fired while it was down is delivered once', async () => {
  const dir = tmp();
  const sim = new Simulation({ seed: 33 });
  const [seed] = await sim.addMany(1);
  const n = await sim.add('phoenix', { dataDir: dir }, '10.0.9.4');
  await sim.joinNow(n, [`${seed.gossip.localMember().addr}:8301`]);
  for (let i = 0; i < 3; i++) seed.gossip.userEvent('e', Buffer.from(String(i)), false);
  await sim.run(1_000);
  n.gossip.userEvent('own', Buffer.from('x'), false);
  await sim.run(1_000);
  assert.deepEqual(userEvents(n).map((e) => e.ltime).sort(), [1, 2, 3, 4]);
  await sim.kill('phoenix');
  // The seed keeps every event in its buffer and hands them over in push-pull.
  seed.gossip.userEvent('missed', Buffer.from('m'), false);
  await sim.run(1_000);
  // Back from its snapshot alone (no join asked): Serf's rejoin replays what it missed.
  const again = await sim.add('phoenix', { dataDir: dir }, '10.0.9.4');
  await sim.until(() => userEvents(again).length > 0, 10_000);
  await sim.run(5_000);
  assert.deepEqual(userEvents(again).map((e) => [e.name, e.ltime]), [['missed', 5]]);
  assert.equal(again.gossip.members().find((m) => m.name === seed.name)?.state, 'alive');
});
