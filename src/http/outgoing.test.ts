// Responses that release their header block once sent (outgoing.ts): the block is gone from the
// response after end(), node:http still sees the headers as sent, and keep-alive, pipelined and
// HEAD answers on one connection come out byte for byte as before.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import net from 'node:net';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttp1Server, HTTP1_TIMEOUTS } from './listener.ts';
import { nodeHttp } from '../node-http.ts';
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

/** One connection's whole answer (the server closes it last), Date lines removed. */
async function converse(srv: http.Server, payload: string): Promise<string> {
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  try {
    const sock = net.connect((srv.address() as AddressInfo).port, '127.0.0.1');
    let got = '';
    sock.on('data', (d) => { got += d.toString('latin1'); });
    sock.on('error', () => undefined);
    const closed = new Promise((resolve) => sock.once('close', resolve));
    sock.write(payload);
    await closed;
    return got.replace(/^Date: .*\r\n/gm, '');
  } finally {
    srv.closeAllConnections();
    await new Promise<void>((resolve) => srv.close(() => resolve()));
  }
}

test('every kind of answer is byte for byte what a plain node:http response writes', async () => {
  const after: Record<string, unknown[]> = { plain: [], releasing: [] };
  const handler = (kind: string) => (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const done = (): void => { after[kind].push([req.url, res.headersSent, res.getHeader('x-a'), res.hasHeader('X-A')]); };
    switch (req.url) {
      case '/chunked':
        res.writeHead(200, { 'Content-Type': 'text/plain', 'X-A': '1' });
        res.write('a');
        setImmediate(() => { res.write('b'); res.end('c'); done(); });
        return;
      case '/none':
        res.statusCode = 204;
        res.end();
        return done();
      case '/flushed':
        res.writeHead(200, { 'X-A': '2' });
        res.flushHeaders();
        setImmediate(() => { res.end('late'); done(); });
        return;
      case '/twice':
        res.end('once', () => undefined);
        res.end();
        return done();
      case '/upload': {
        let body = '';
        req.on('data', (d) => { body += d; });
        req.on('end', () => { res.setHeader('X-A', '3'); res.end(`got ${body}`); done(); });
        return;
      }
      default:
        res.setHeader('Content-Type', 'text/plain');
        res.end(`hello ${req.url}`);
        return done();
    }
  };
  const get = (url: string, extra = ''): string => `GET ${url} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;
  const conversations = [
    // Pipelined behind a streamed answer, the last asking the server to close.
    get('/chunked') + 'HEAD /head HTTP/1.1\r\nHost: x\r\n\r\n' + get('/none') + get('/flushed') + get('/twice') + get('/last', 'Connection: close\r\n'),
    'POST /upload HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc' + get('/after', 'Connection: close\r\n'),
    'GET /old HTTP/1.0\r\n\r\n',
    'GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /old2 HTTP/1.0\r\n\r\n',
    get('/ok') + 'NOT HTTP\r\n\r\n',
  ];
  for (const payload of conversations) {
    const plain = await converse(nodeHttp.createServer({ ...HTTP1_TIMEOUTS }, handler('plain')), payload);
    const releasing = await converse(createHttp1Server(handler('releasing')), payload);
    assert.equal(releasing, plain, payload);
    assert.match(plain, /^HTTP\/1\.1 /);
  }
  assert.deepEqual(after.releasing, after.plain);
  assert.ok(after.plain.length >= 10);
});
