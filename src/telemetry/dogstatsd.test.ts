import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DOGSTATSD_MAX_PACKET, dogstatsdLine, resolveDogstatsdAddr } from './dogstatsd.ts';
import { PacketBuffer } from './statsd.ts';

test('dogstatsd lines: global tags then label tags, hostname spliced out of the name', () => {
  const labels = [{ name: 'method', value: 'GET' }, { name: 'path', value: 'v1_kv_' }];
  assert.equal(dogstatsdLine('ms', ['consul', 'api', 'http'], 1.5, labels, 'host1', ['env:prod', 'dc:dc1']),
    'consul.api.http:1.500000|ms|#env:prod,dc:dc1,method:GET,path:v1_kv_');
  assert.equal(dogstatsdLine('g', ['consul', 'host1', 'runtime', 'alloc_bytes'], 123456, [], 'host1', []),
    'consul.runtime.alloc_bytes:123456|g');
  // Gauges: the float32 widened and printed shortest; counts: an integer.
  assert.equal(dogstatsdLine('g', ['consul', 'x'], 0.1, [], 'h', []), 'consul.x:0.10000000149011612|g');
  assert.equal(dogstatsdLine('c', ['consul', 'x'], 2.9, [], 'h', []), 'consul.x:2|c');
});

test('dogstatsd tags: sanitized, an empty value leaves the bare name, newlines dropped from global tags', () => {
  assert.equal(dogstatsdLine('c', ['consul', 'x'], 1, [{ name: 'a b', value: 'c:d' }, { name: 'flag', value: '' }], 'h', ['t\n1']),
    'consul.x:1|c|#t1,a_b:c_d,flag');
});

test('dogstatsd packets: lines joined by newlines, none after the last, at most 1432 bytes', () => {
  const b = new PacketBuffer({ max: DOGSTATSD_MAX_PACKET, dropOversize: true, separator: '\n' });
  const line = dogstatsdLine('c', ['consul', 'x'], 1, [], 'h', ['env:test']);
  let first: Buffer | undefined;
  for (let i = 0; i < 200 && !first; i++) first = b.add(line);
  assert.ok(first);
  const n = Math.floor((DOGSTATSD_MAX_PACKET + 1) / (line.length + 1));
  assert.equal(first.toString(), Array(n).fill(line).join('\n'));
  assert.ok(first.length <= DOGSTATSD_MAX_PACKET);
  assert.equal(b.add('x'.repeat(DOGSTATSD_MAX_PACKET + 1)), undefined, 'an oversize line is dropped');
});

test("the dogstatsd host is resolved up front; a failure is Go's resolver error naming the first nameserver", async () => {
  const asked: string[] = [];
  const fail = (code: string) => async (host: string) => {
    asked.push(host);
    throw Object.assign(new Error(`getaddrinfo ${code} ${host}`), { code });
  };
  await assert.rejects(resolveDogstatsdAddr('nonexistent.invalid:8125', fail('ENOTFOUND'), ['10.0.0.2', '10.0.0.3']),
    { message: 'lookup nonexistent.invalid on 10.0.0.2:53: no such host' });
  await assert.rejects(resolveDogstatsdAddr('dd.example:8125', fail('EAI_AGAIN'), ['fd00::1']), { message: 'lookup dd.example on [fd00::1]:53: i/o timeout' });
  await assert.rejects(resolveDogstatsdAddr('dd.example:8125', fail('ENOTFOUND'), ['[fd00::1]:5353']), { message: 'lookup dd.example on [fd00::1]:5353: no such host' });
  await assert.rejects(resolveDogstatsdAddr('dd.example:8125', fail('ENOTFOUND'), []), { message: 'lookup dd.example on 127.0.0.1:53: no such host' });
  await assert.rejects(resolveDogstatsdAddr('nohost', fail('ENOTFOUND'), []), { message: 'address nohost: missing port in address' });
  assert.deepEqual(asked, ['nonexistent.invalid', 'dd.example', 'dd.example', 'dd.example']);
  // IP literals and an empty host need no lookup; a name that resolves is accepted.
  asked.length = 0;
  await resolveDogstatsdAddr('127.0.0.1:8125', fail('ENOTFOUND'));
  await resolveDogstatsdAddr('[::1]:8125', fail('ENOTFOUND'));
  await resolveDogstatsdAddr(':8125', fail('ENOTFOUND'));
  assert.deepEqual(asked, []);
  await resolveDogstatsdAddr('dd.local:8125', async () => ({ address: '10.1.1.1', family: 4 }));
});
