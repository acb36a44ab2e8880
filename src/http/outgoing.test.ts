// Responses that release their header block once sent (outgoing.ts): the block is gone from the
// response after end(), node:http still sees the headers as sent, and keep-alive, pipelined and
// HEAD answers on one connection come out byte for byte as before.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import net from 'node:net';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttp1Server } from './listener.ts';
import { ReleasingResponse } from './outgoing.ts';

const header = (res: http.ServerResponse): unknown => (res as unknown as { _header: unknown })._header;

test('pipelined keep-alive answers, a HEAD and a late one, each releasing its header block', async () => {
  const seen: { releasing: boolean; headerAfter: unknown; headersSent: boolean; rewrite: string }[] = [];
  const srv = createHttp1Server((req, res) => {
    const answer = (): void => {
      const body = req.url === '/late' ? 'late body' : `body of ${req.url}`;
      res.writeHead(200, { 'Content-Type': 'text/plain', 'X-Consul-Index': '42', 'Content-Length': String(Buffer.byteLength(body)) });
      res.end(req.method === 'HEAD' ? undefined : body);
      let rewrite = 'none';
      try {
        res.setHeader('X-After', '1');
      } catch (err) {
        rewrite = (err as { code: string }).code;
      }
      seen.push({ releasing: res instanceof ReleasingResponse, headerAfter: header(res), headersSent: res.headersSent, rewrite });
    };
    // The first answer waits, as a blocking query does: the pipelined ones queue behind it.
    if (req.url === '/late') setTimeout(answer, 30);
    else answer();
  });
  srv.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  try {
    const sock = net.connect((srv.address() as AddressInfo).port, '127.0.0.1');
    let got = '';
    sock.on('data', (d) => { got += d.toString(); });
    await new Promise((resolve) => sock.once('connect', resolve));
    sock.write('GET /late HTTP/1.1\r\nHost: x\r\n\r\nHEAD /head HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n');
    const answers = (): string[] => got.split(/(?=HTTP\/1\.1 )/);
    for (let i = 0; i < 200 && !(answers().length === 3 && got.endsWith('body of /b')); i++) await new Promise((r) => setTimeout(r, 10));
    sock.destroy();
    const parts = answers().map((a) => a.replace(/^Date: .*\r\n/m, ''));
    assert.equal(parts.length, 3, got);
    const head = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Consul-Index: 42\r\n';
    assert.equal(parts[0], `${head}Content-Length: 9\r\nConnection: keep-alive\r\nKeep-Alive: timeout=65\r\n\r\nlate body`);
    assert.equal(parts[1], `${head}Content-Length: 13\r\nConnection: keep-alive\r\nKeep-Alive: timeout=65\r\n\r\n`);
    assert.equal(parts[2], `${head}Content-Length: 10\r\nConnection: keep-alive\r\nKeep-Alive: timeout=65\r\n\r\nbody of /b`);
    assert.equal(seen.length, 3);
    for (const s of seen) {
      assert.deepEqual(s, { releasing: true, headerAfter: 'sent', headersSent: true, rewrite: 'ERR_HTTP_HEADERS_SENT' });
    }
  } finally {
    srv.closeAllConnections();
    await new Promise<void>((resolve) => srv.close(() => resolve()));
  }
});
