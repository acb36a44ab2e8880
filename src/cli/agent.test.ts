import assert from 'node:assert/strict';
import { test } from 'node:test';
import v8 from 'node:v8';
import { servingV8Flags } from './agent.ts';

test('servingV8Flags: main-thread scavenges once serving, unless the user chose how V8 scavenges', () => {
  assert.deepEqual(servingV8Flags([], {}), ['--no-parallel-scavenge']);
  assert.deepEqual(servingV8Flags(['--max-old-space-size=512'], { NODE_OPTIONS: '--enable-source-maps' }), ['--no-parallel-scavenge']);
  assert.deepEqual(servingV8Flags(['--parallel-scavenge'], {}), []);
  assert.deepEqual(servingV8Flags([], { NODE_OPTIONS: '--max-old-space-size=512 --no-parallel-scavenge' }), []);
});

test('servingV8Flags: the flags leave V8\'s flag hash (and so every compile cache) as it was', () => {
  const before = v8.cachedDataVersionTag();
  for (const flag of servingV8Flags([], {})) v8.setFlagsFromString(flag);
  assert.equal(v8.cachedDataVersionTag(), before);
  v8.setFlagsFromString('--parallel-scavenge');
});
