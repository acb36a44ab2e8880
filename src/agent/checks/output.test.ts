// Output capture: tail buffer, Consul's two truncation notices and Go duration text.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { capturedOutput, createTailBuffer, goDuration, truncateHead } from './output.ts';

test('the tail buffer keeps the last bytes and counts all of them', () => {
  const b = createTailBuffer(4);
  for (const s of ['abc', 'defgh', 'ij']) b.write(Buffer.from(s));
  assert.equal(b.bytes().toString(), 'ghij');
  assert.equal(b.total(), 10);
  assert.equal(capturedOutput(b), 'Captured 4 of 10 bytes\n...\nghij');
  const small = createTailBuffer(10);
  small.write(Buffer.from('ok'));
  assert.equal(capturedOutput(small), 'ok');
});

test('TTL output keeps the head with Consul\'s suffix', () => {
  assert.equal(truncateHead('abcdef', 4), 'abcd ... (captured 4 of 6 bytes)');
  assert.equal(truncateHead('abcd', 4), 'abcd');
});

test('goDuration prints like Go', () => {
  assert.equal(goDuration(30_000), '30s');
  assert.equal(goDuration(500), '500ms');
  assert.equal(goDuration(1500), '1.5s');
  assert.equal(goDuration(90_000), '1m30s');
  assert.equal(goDuration(3_600_000), '1h0m0s');
});
