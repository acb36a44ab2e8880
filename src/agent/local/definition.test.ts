// Durations in service and check definitions, read as the UnmarshalJSON of Consul's CheckType.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { durationMs } from './definition.ts';

test('a duration is a Go duration string or nanoseconds; other JSON types are ignored, as Consul ignores them', () => {
  assert.equal(durationMs('1m'), 60_000);
  assert.equal(durationMs(2e9), 2000);
  for (const v of [{}, [], true, null, undefined, '']) assert.equal(durationMs(v), 0, JSON.stringify(v));
  assert.throws(() => durationMs('abc'), { message: 'Request decode failed: time: invalid duration "abc"' });
});

test('an integer past 2^53 where a string or a small number belongs is a 400 quoting it, not a 500 from JSON.stringify', async () => {
  const { decodeCheck } = await import('./definition.ts');
  const { parseJSON } = await import('../../http/body.ts');
  const raw = parseJSON(Buffer.from('{"Name":"c","TTL":"30s","ServiceID":18446744073709551616}'));
  assert.throws(() => decodeCheck(raw), { name: 'BadRequestError', message: /^Request decode failed: serviceid: expected a string, got 18446744073709552000$/ });
});

test("a duration with a unit Go does not know, or none, is refused with Go's own words", () => {
  assert.throws(() => durationMs('10x'), { message: 'Request decode failed: time: unknown unit "x" in duration "10x"' });
  assert.throws(() => durationMs('10'), { message: 'Request decode failed: time: missing unit in duration "10"' });
});
