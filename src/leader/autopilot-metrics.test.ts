// The autopilot gauges' leader duty across a quick leadership loss and regain: a refresh still
// reading the store when leadership was lost neither sets the gauges nor schedules a second
// refresh chain next to the new term's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../clock.ts';
import { silentLogger } from '../log.ts';
import { AUTOPILOT_METRICS_INTERVAL_MS, AutopilotMetrics } from './autopilot-metrics.ts';

test('stop then start while a refresh is reading the store: one refresh chain, not two', async () => {
  const clock = new ManualClock();
  const waiting: (() => void)[] = [];
  let reads = 0;
  // Every store read waits until released.
  const store = { get: () => { reads++; return new Promise((r) => waiting.push(() => r(null))); } };
  const election = { leader: () => null, heartbeatMs: () => 0, servers: () => [] };
  const m = new AutopilotMetrics({ store: store as never, election: election as never, clock, logger: silentLogger(), agentConfig: () => ({}) as never });
  const first = m.start();
  await Promise.resolve();
  m.stop();
  const second = m.start();
  const drain = async () => {
    for (let i = 0; i < 20; i++) {
      while (waiting.length) waiting.shift()!();
      await new Promise((r) => setImmediate(r));
    }
  };
  await drain();
  await Promise.all([first, second]);
  const before = reads;
  clock.advance(AUTOPILOT_METRICS_INTERVAL_MS);
  await drain();
  // One refresh reads the store twice (membership, then autopilot config).
  assert.equal(reads - before, 2);
  m.stop();
});
