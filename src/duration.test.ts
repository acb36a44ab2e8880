import { test } from 'node:test';
import assert from 'node:assert/strict';
import { durationSetting, formatGoDuration, parseGoDuration } from './duration.ts';

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
