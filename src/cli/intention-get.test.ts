import { test } from 'node:test';
import assert from 'node:assert/strict';
import { intentionTable, rfc850 } from './intention-get.ts';
import { parseIntentionTarget } from './intention-create.ts';

test('times print in Go\'s RFC850; a missing one is Go\'s zero time', () => {
  assert.equal(rfc850('2026-11-26T06:41:50.123Z'), 'Thursday, 26-Nov-26 06:41:50 UTC');
  assert.equal(rfc850(undefined), 'Monday, 01-Jan-01 00:00:00 UTC');
});

test('the get table: aligned labels, optional rows, meta sorted by key', () => {
  const table = intentionTable({ SourceName: 'web', DestinationName: 'db', DestinationNS: 'default', Action: 'allow', Meta: { b: '2', a: '1' } });
  assert.deepEqual(table.split('\n'), [
    'Source:       web', 'Destination:  db', 'Action:       allow', 'Meta[a]:      1', 'Meta[b]:      2', 'Created At:   Monday, 01-Jan-01 00:00:00 UTC',
  ]);
});

test('CLI targets: up to partition/namespace/name', () => {
  assert.deepEqual(parseIntentionTarget('web'), { name: 'web', ns: '', partition: '' });
  assert.deepEqual(parseIntentionTarget('ns/web'), { name: 'web', ns: 'ns', partition: '' });
  assert.deepEqual(parseIntentionTarget('part/ns/web'), { name: 'web', ns: 'ns', partition: 'part' });
  assert.throws(() => parseIntentionTarget('a/b/c/d'), { message: "input can contain at most two '/'" });
});
