// StatusHandler: success_before_passing, failures_before_warning and failures_before_critical.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../../log.ts';
import { createStatusHandler } from './status-handler.ts';
import type { CheckStatus } from './types.ts';

function handler(opts: { s?: number; w?: number; c?: number }): { seen: string[]; report(s: CheckStatus): void } {
  const seen: string[] = [];
  const h = createStatusHandler({
    checkID: 'c', successBeforePassing: opts.s, failuresBeforeWarning: opts.w, failuresBeforeCritical: opts.c,
    logger: silentLogger(), update: (status) => seen.push(status),
  });
  return { seen, report: (s) => h.report(s, 'out') };
}

test('without thresholds every result passes straight through', () => {
  const h = handler({});
  for (const s of ['critical', 'passing', 'warning', 'critical'] as const) h.report(s);
  assert.deepEqual(h.seen, ['critical', 'passing', 'warning', 'critical']);
});

test('the first result applies at once; later flips need the configured streaks', () => {
  const h = handler({ s: 2, c: 3 });
  h.report('critical');
  assert.deepEqual(h.seen, ['critical']);
  h.report('passing');
  assert.deepEqual(h.seen, ['critical'], 'one success is not enough');
  h.report('passing');
  assert.deepEqual(h.seen, ['critical', 'passing']);
  h.report('critical');
  h.report('critical');
  assert.deepEqual(h.seen, ['critical', 'passing'], 'two failures are not enough');
  h.report('critical');
  assert.deepEqual(h.seen, ['critical', 'passing', 'critical']);
});

test('counters reset on the opposite result', () => {
  const h = handler({ c: 2 });
  h.report('passing');
  h.report('critical');
  h.report('passing');
  h.report('critical');
  assert.deepEqual(h.seen, ['passing', 'passing'], 'failures never reached 2 in a row');
  h.report('critical');
  assert.deepEqual(h.seen, ['passing', 'passing', 'critical']);
});

test('failures_before_warning reports warning before critical; it defaults to failures_before_critical', () => {
  const h = handler({ w: 1, c: 3 });
  h.report('passing');
  h.report('critical');
  h.report('critical');
  h.report('critical');
  assert.deepEqual(h.seen, ['passing', 'warning', 'warning', 'critical']);
  const d = handler({ c: 2 });
  d.report('passing');
  d.report('critical');
  assert.deepEqual(d.seen, ['passing'], 'no early warning when only failures_before_critical is set');
});

test('warning counts as a success', () => {
  const h = handler({ s: 2 });
  h.report('critical');
  h.report('warning');
  h.report('passing');
  assert.deepEqual(h.seen, ['critical', 'passing']);
});
