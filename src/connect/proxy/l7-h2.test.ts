import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { test } from 'node:test';
import { acceptH1OrH2c } from './l7-h2.ts';

/** A listener handing each connection to acceptH1OrH2c, with an HTTP/1.1 and an h2c server answering which one they are. */
async function sniffing() {
  const h1 = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString(); });
    req.on('end', () => res.end(`h1 ${req.method} ${req.url} ${body}`));
  });
  const h2 = http2.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString(); });
    req.on('end', () => res.end(`h2 ${req.method} ${req.url} ${body}`));
  });
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on('session', (s) => sessions.add(s));
  const server = net.createServer((s) => acceptH1OrH2c(s, h1, h2));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const close = () => {
    for (const s of sessions) s.destroy();
    h1.closeAllConnections();
    server.close();
  };
  return { port, close };
}

test('a connection opening with the HTTP/2 preface is served as h2c, any other as HTTP/1.1, each with its first bytes intact', async () => {
  const { port, close } = await sniffing();
  try {
    const h1Answer = await new Promise<string>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/one', agent: false }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => { text += c.toString(); });
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.end('payload');
    });
    assert.equal(h1Answer, 'h1 POST /one payload');

    const session = http2.connect(`http://127.0.0.1:${port}`);
    try {
      const h2Answer = await new Promise<string>((resolve, reject) => {
        const stream = session.request({ ':method': 'POST', ':path': '/two' });
        let text = '';
        stream.on('data', (c: Buffer) => { text += c.toString(); });
        stream.on('end', () => resolve(text));
        stream.on('error', reject);
        stream.end('stream body');
      });
      assert.equal(h2Answer, 'h2 POST /two stream body');
    } finally {
      session.destroy();
    }
  } finally {
    close();
  }
});
