import { test } from 'node:test';
import assert from 'node:assert/strict';
import { joinHostPort } from './host-port.ts';

test('joinHostPort brackets IPv6 hosts as Go does', () => {
  assert.equal(joinHostPort('127.0.0.1', 8500), '127.0.0.1:8500');
  assert.equal(joinHostPort('::1', 8500), '[::1]:8500');
  assert.equal(joinHostPort('consul.example', '8300'), 'consul.example:8300');
});
