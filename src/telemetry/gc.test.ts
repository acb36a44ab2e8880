// Tests for the GC figures: a forced collection shows in runtime.total_gc_runs,
// runtime.total_gc_pause_ns and the runtime.gc_pause_ns samples (nanoseconds).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Telemetry } from './metrics.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const clock = { now: () => Date.now(), setTimer: () => ({ cancel() {} }) } as never;

type Json = { Gauges: { Name: string; Value: number }[]; Samples: { Name: string; Count: number; Sum: number }[] };

test('a garbage collection is counted in the runtime gauges and sampled in nanoseconds', async () => {
  const t = new Telemetry(clock);
  const before = await t.consulJSON() as Json;
  const runs0 = before.Gauges.find((g) => g.Name === 'consul.runtime.total_gc_runs')!.Value;
  gc();
  // GC performance entries are delivered asynchronously (later on a loaded machine): wait for the
  // count to move, for up to 10 s.
  let after = await t.consulJSON() as Json;
  const runsOf = (j: Json) => j.Gauges.find((g) => g.Name === 'consul.runtime.total_gc_runs')!.Value;
  for (let i = 0; i < 500 && runsOf(after) <= runs0; i++) {
    await new Promise((r) => setTimeout(r, 20));
    after = await t.consulJSON() as Json;
  }
  const runs = runsOf(after);
  const pause = after.Gauges.find((g) => g.Name === 'consul.runtime.total_gc_pause_ns')!.Value;
  assert.ok(runs > runs0, `${runs} > ${runs0}`);
  assert.ok(pause > 0);
  const sample = after.Samples.find((s) => s.Name === 'consul.runtime.gc_pause_ns');
  assert.ok(sample && sample.Count >= 1);
  // Nanoseconds: a full collection takes well over a microsecond.
  assert.ok(sample.Sum > 1000, String(sample.Sum));
});
