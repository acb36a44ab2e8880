// Agent watch handler plumbing: output kept as Consul's 4 KiB circular buffer, and
// http_handler_config's timeout read as Go's http.Client reads it (zero: none).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import { TailBuffer, runHttpHandler } from './watches.ts';
import { silentLogger } from '../log.ts';

test('a handler printing without end holds only the last 4 KiB, reported as Consul reports a truncation', () => {
  const b = new TailBuffer();
  const chunk = 'x'.repeat(1000);
  for (let i = 0; i < 10_000; i++) b.write(chunk);
  b.write('END');
  assert.ok(b.kept <= 4096 + 1000, `kept ${b.kept}`);
  const s = b.toString();
  assert.ok(s.startsWith('Captured 4096 of 10000003 bytes\n...\n'));
  assert.ok(s.endsWith('xEND'));
  assert.equal(s.length, 'Captured 4096 of 10000003 bytes\n...\n'.length + 4096);
});

test('short output is kept whole', () => {
  const b = new TailBuffer();
  b.write('a');
  b.write(Buffer.from('b'));
  assert.equal(b.toString(), 'ab');
});

test('an http handler with timeout 0 waits for the answer (Go: no timeout)', async () => {
  let got = '';
  const srv = http.createServer((req, res) => {
    req.on('data', (c: Buffer) => { got += c.toString(); });
    req.on('end', () => setTimeout(() => res.end('ok'), 20));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const errors: unknown[] = [];
  const log = silentLogger();
  const spy = Object.assign(Object.create(log) as typeof log, { error: (o: unknown) => { errors.push(o); } });
  try {
    const url = `http://127.0.0.1:${(srv.address() as net.AddressInfo).port}/hook`;
    await runHttpHandler({ path: url, method: 'POST', header: {}, timeoutMs: 0, tlsSkipVerify: false }, 5n, { a: 1 }, spy);
    assert.deepEqual(errors, []);
    assert.equal(got, '{"a":1}\n');
  } finally {
    srv.close();
  }
});
