import { test } from 'node:test';
import assert from 'node:assert/strict';
import { durationSetting, formatGoDuration, goDurationError, parseGoDuration } from './duration.ts';

test('Go durations parse to milliseconds and format back', () => {
  assert.equal(parseGoDuration('1m30s'), 90_000);
  assert.equal(parseGoDuration('0.001s'), 1);
  assert.equal(parseGoDuration('15'), null);
  assert.equal(formatGoDuration(90_000), '1m30s');
});

test('a duration setting takes milliseconds or a Go duration, else the fallback', () => {
  assert.equal(durationSetting(250, 7), 250);
  assert.equal(durationSetting('2s', 7), 2000);
  assert.equal(durationSetting('soon', 7), 7);
  assert.equal(durationSetting(undefined, 7), 7);
  assert.equal(durationSetting(true, 7), 7);
});

test("goDurationError gives Go's time.ParseDuration texts", () => {
  assert.equal(goDurationError('4x'), 'time: unknown unit "x" in duration "4x"');
  assert.equal(goDurationError('4'), 'time: missing unit in duration "4"');
  assert.equal(goDurationError('1.5.5s'), 'time: missing unit in duration "1.5.5s"');
  assert.equal(goDurationError(''), 'time: invalid duration ""');
  assert.equal(goDurationError('s'), 'time: invalid duration "s"');
  assert.equal(goDurationError('-.s'), 'time: invalid duration "-.s"');
  assert.equal(goDurationError('10 s'), 'time: unknown unit " s" in duration "10 s"');
  assert.equal(goDurationError('1"s\\'), 'time: unknown unit "\\"s\\\\" in duration "1\\"s\\\\"');
  assert.equal(goDurationError('5é'), 'time: unknown unit "\\xc3\\xa9" in duration "5\\xc3\\xa9"');
});
