import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { test } from 'node:test';
import { MAX_HELLO_RECORDS, peekSni } from './sni.ts';

/** The first bytes Node's TLS client sends with `servername` (a real ClientHello). */
async function clientHello(servername?: string): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const got = new Promise<Buffer>((resolve) => server.once('connection', (s) => s.once('data', (b: Buffer) => { resolve(b); s.destroy(); })));
  const c = tls.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, ...(servername ? { servername } : {}), rejectUnauthorized: false });
  c.on('error', () => undefined);
  const hello = await got;
  c.destroy();
  server.close();
  return hello;
}

test('peekSni reads the server name of a real ClientHello, asking for more until it is whole', async () => {
  const name = 'db.default.dc1.internal.11111111-2222-3333-4444-555555555555.consul';
  const hello = await clientHello(name);
  assert.deepEqual(peekSni(hello), { sni: name });
  for (const cut of [0, 3, 5, 40, hello.length - 1]) assert.deepEqual(peekSni(hello.subarray(0, cut)), { more: true }, `cut at ${cut}`);
});

test('peekSni reassembles a ClientHello split over two handshake records', async () => {
  const hello = await clientHello('web.default.dc2.internal.td.consul');
  const body = hello.subarray(5);
  const rec = (b: Buffer) => Buffer.concat([Buffer.from([0x16, 3, 1, b.length >> 8, b.length & 0xff]), b]);
  const split = Buffer.concat([rec(body.subarray(0, 7)), rec(body.subarray(7))]);
  assert.deepEqual(peekSni(split), { sni: 'web.default.dc2.internal.td.consul' });
  assert.deepEqual(peekSni(split.subarray(0, 20)), { more: true });
});

test('peekSni: a hello without SNI gives an empty name; non-TLS bytes an error', async () => {
  // Node sends no server_name for an IP host.
  assert.deepEqual(peekSni(await clientHello()), { sni: '' });
  assert.ok('error' in peekSni(Buffer.from('GET / HTTP/1.1\r\n\r\n')));
  assert.ok('error' in peekSni(Buffer.from([0x16, 3, 1, 0, 4, 2, 0, 0, 0])), 'a ServerHello is not a ClientHello');
  assert.ok('error' in peekSni(Buffer.from([0x16, 3, 1, 0, 6, 1, 0, 0, 2, 3, 3])), 'a truncated hello body');
});

test('peekSni refuses a ClientHello cut into more records than a real client uses (each packet re-parses them all)', async () => {
  const hello = await clientHello('web.default.dc2.internal.td.consul');
  const body = hello.subarray(5);
  const rec = (b: Buffer) => Buffer.concat([Buffer.from([0x16, 3, 1, b.length >> 8, b.length & 0xff]), b]);
  const cut = (n: number) => {
    const size = Math.ceil(body.length / n);
    const recs: Buffer[] = [];
    for (let i = 0; i < body.length; i += size) recs.push(rec(body.subarray(i, i + size)));
    return { buf: Buffer.concat(recs), count: recs.length };
  };
  const ok = cut(MAX_HELLO_RECORDS);
  assert.ok(ok.count <= MAX_HELLO_RECORDS);
  assert.deepEqual(peekSni(ok.buf), { sni: 'web.default.dc2.internal.td.consul' });
  const many = cut(body.length);
  assert.ok(many.count > MAX_HELLO_RECORDS);
  assert.deepEqual(peekSni(many.buf), { error: 'ClientHello split over too many records' });
  assert.deepEqual(peekSni(many.buf.subarray(0, 6 * (MAX_HELLO_RECORDS + 1))), { error: 'ClientHello split over too many records' }, 'as soon as the records are there');
});
