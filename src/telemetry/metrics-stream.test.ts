// The metrics stream sends one indented summary per finished interval to every listener, on
// interval boundaries, and keeps its one timer only while someone listens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, type Clock } from '../clock.ts';
import { MetricsStream } from './metrics-stream.ts';

/** A manual clock that counts its armed timers. */
function countingClock(start: number): { clock: ManualClock & Clock; armed: () => number } {
  const clock = new ManualClock(start);
  let armed = 0;
  const setTimer = clock.setTimer.bind(clock);
  clock.setTimer = (ms, fn) => {
    armed++;
    const h = setTimer(ms, () => { armed--; fn(); });
    return { cancel: () => { armed--; h.cancel(); } };
  };
  return { clock, armed: () => armed };
}

const flush = () => new Promise((r) => setImmediate(r));

test('each finished interval is written to every listener as indented JSON and a newline', async () => {
  const { clock, armed } = countingClock(1_000_003_000);
  let n = 0;
  const stream = new MetricsStream(clock, async () => ({ Timestamp: `t${++n}`, Gauges: [] }), 10_000);
  const a: string[] = [];
  const b: string[] = [];
  const offA = stream.subscribe((c) => a.push(c));
  const offB = stream.subscribe((c) => b.push(c));
  assert.equal(armed(), 1, 'one timer for all listeners');
  clock.advance(6_999);
  await flush();
  assert.deepEqual(a, [], 'nothing before the interval boundary');
  clock.advance(1);
  await flush();
  assert.deepEqual(a, ['{\n    "Timestamp": "t1",\n    "Gauges": []\n}\n']);
  assert.deepEqual(b, a, 'rendered once, sent to both');
  clock.advance(10_000);
  await flush();
  assert.equal(a.length, 2);
  assert.match(a[1], /"t2"/);
  offA();
  clock.advance(10_000);
  await flush();
  assert.equal(a.length, 2, 'a listener that left gets nothing more');
  assert.equal(b.length, 3);
  offB();
  assert.equal(armed(), 0, 'the last listener leaving cancels the timer');
  assert.equal(stream.ticking, false);
  clock.advance(60_000);
  await flush();
  assert.equal(n, 3, 'no summaries rendered with nobody listening');
});
