// The probe loop's pace: a failed probe takes one probe interval, as in memberlist, whose probe
// ticker keeps the tick that came while a probe was still waiting for its deadline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../clock.ts';
import { silentLogger } from '../log.ts';
import { Awareness } from './awareness.ts';
import { BroadcastQueue } from './broadcast-queue.ts';
import { resolveConfig } from './config.ts';
import { Loops } from './maintenance.ts';
import { Membership } from './membership.ts';
import type { PacketMsg } from './messages.ts';
import { Prober } from './probe.ts';
import { seededRandom } from './random.ts';
import type { Wire } from './wire.ts';

test('with every probe failing, a member is probed at each tick: a failed probe costs one interval, not two', () => {
  const clock = new ManualClock();
  const start = clock.now();
  const config = resolveConfig({ name: 'a', bindAddr: '10.0.0.1' });
  // Health is held at 0 (a multiplier of 1), so no probe is stretched.
  const awareness = new Awareness(1);
  const membership = new Membership({
    config, clock, log: silentLogger(), queue: new BroadcastQueue(() => 4), awareness, emit: () => {},
  }, { host: '10.0.0.1', port: 8301 });
  ['b', 'c', 'd'].forEach((n, i) => membership.handleAlive({ t: 'alive', node: n, host: `10.0.0.${i + 2}`, port: 8301, tags: {}, inc: 1 }));
  const pings: number[] = [];
  const wire = { send: (_to: unknown, msgs: PacketMsg[]) => { if (msgs[0].t === 'ping') pings.push(clock.now() - start); } } as unknown as Wire;
  const prober = new Prober({ config, clock, log: silentLogger(), random: seededRandom(1), membership, wire, awareness });
  const loops = new Loops(clock);
  loops.every('probe', () => config.probeIntervalMs, () => prober.tick(), 0);
  for (let t = 0; t < 3500; t += 50) clock.advance(50);
  loops.stop();
  prober.stop();
  assert.deepEqual(pings, [0, 1000, 2000, 3000]);
});
