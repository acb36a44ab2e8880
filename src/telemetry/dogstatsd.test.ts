import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dogstatsdLine } from './dogstatsd.ts';

test('dogstatsd lines: global tags then label tags, hostname spliced out of the name', () => {
  const labels = [{ name: 'method', value: 'GET' }, { name: 'path', value: 'v1_kv_' }];
  assert.equal(dogstatsdLine('ms', ['consul', 'api', 'http'], 1.5, labels, 'host1', ['env:prod', 'dc:dc1']),
    'consul.api.http:1.500000|ms|#env:prod,dc:dc1,method:GET,path:v1_kv_\n');
  assert.equal(dogstatsdLine('g', ['consul', 'host1', 'runtime', 'alloc_bytes'], 123456, [], 'host1', []),
    'consul.runtime.alloc_bytes:123456|g\n');
  // Gauges: the float32 widened and printed shortest; counts: an integer.
  assert.equal(dogstatsdLine('g', ['consul', 'x'], 0.1, [], 'h', []), 'consul.x:0.10000000149011612|g\n');
  assert.equal(dogstatsdLine('c', ['consul', 'x'], 2.9, [], 'h', []), 'consul.x:2|c\n');
});

test('dogstatsd tags: sanitized, an empty value leaves the bare name, newlines dropped from global tags', () => {
  assert.equal(dogstatsdLine('c', ['consul', 'x'], 1, [{ name: 'a b', value: 'c:d' }, { name: 'flag', value: '' }], 'h', ['t\n1']),
    'consul.x:1|c|#t1,a_b:c_d,flag\n');
});
