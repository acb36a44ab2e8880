// /v1/agent/metrics/stream's handler: it writes the stream's summaries while the client stays
// and leaves the stream (and its timer) when the client goes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../clock.ts';
import { LogHub } from '../../log.ts';
import { MetricsStream } from '../../telemetry/metrics-stream.ts';
import { Telemetry } from '../../telemetry/metrics.ts';
import { observeHandlers } from './agent-observe.ts';

test('the metrics stream writes each summary and unsubscribes when the client leaves', async () => {
  const clock = new ManualClock(1_000_000_000);
  const stream = new MetricsStream(clock, async () => ({ Timestamp: 'x' }), 1_000);
  const h = observeHandlers({ telemetry: new Telemetry(clock), hub: new LogHub(), prometheusRetentionMs: 0, stream });
  const res = await h.metricsStream();
  const chunks: string[] = [];
  const ac = new AbortController();
  const ended = res.stream!((c) => chunks.push(String(c)), ac.signal);
  assert.equal(stream.size, 1);
  clock.advance(1_000);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(chunks, ['{\n    "Timestamp": "x"\n}\n']);
  ac.abort();
  await ended;
  assert.equal(stream.size, 0);
  assert.equal(stream.ticking, false);
});
