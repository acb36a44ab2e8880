// Request bodies captured from node:http's parser (incoming.ts through readBody): whole bodies in
// one or many chunks, empty ones, bodies read late (through the stream), the size limit with the
// connection still answering, and a client leaving mid-body.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import net from 'node:net';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttp1Server } from './listener.ts';
import { readBody } from './response.ts';
import { CapturingMessage } from './incoming.ts';

type Outcome = { body?: string; error?: string; captured: boolean };

/** A server whose handler reads each body (after `delayMs` when set) and reports the outcome. */
async function server(delayMs = 0, limit = 64): Promise<{ port: number; outcomes: Outcome[]; close(): Promise<void> }> {
  const outcomes: Outcome[] = [];
  const srv = createHttp1Server((req: http.IncomingMessage, res: http.ServerResponse) => {
    const read = (): void => {
      readBody(req, limit).then(
        (b) => {
          outcomes.push({ body: b.toString(), captured: req instanceof CapturingMessage });
          res.end(`got ${b.length}`);
        },
        (err: Error) => {
          outcomes.push({ error: `${err.name} ${err.message}`, captured: req instanceof CapturingMessage });
          if (!res.destroyed) res.writeHead(413).end('too large');
        },
      );
    };
    if (delayMs) setTimeout(read, delayMs);
    else read();
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return {
    port: (srv.address() as AddressInfo).port,
    outcomes,
    close: () => new Promise((resolve) => { srv.closeAllConnections(); srv.close(() => resolve()); }),
  };
}

/** Sends raw request parts over one socket (a pause between parts) and collects what comes back. */
async function exchange(port: number, parts: string[], pauseMs = 20): Promise<string> {
  const sock = net.connect(port, '127.0.0.1');
  let got = '';
  sock.on('data', (d) => { got += d.toString(); });
  await new Promise((resolve) => sock.once('connect', resolve));
  for (const p of parts) {
    sock.write(p);
    await new Promise((r) => setTimeout(r, pauseMs));
  }
  await new Promise((r) => setTimeout(r, 50));
  sock.destroy();
  return got;
}

const put = (body: string, length = Buffer.byteLength(body)) => `PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: ${length}\r\n\r\n${body}`;

test('a body in one chunk, in several, and an empty one are captured whole', async () => {
  const s = await server();
  try {
    assert.match(await exchange(s.port, [put('{"a":1}')]), /got 7$/);
    const head = 'PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n';
    assert.match(await exchange(s.port, [head + 'hello', ' ', 'world!']), /got 12$/);
    assert.match(await exchange(s.port, [put('')]), /got 0$/);
    // Two requests on one connection, the second right behind the first.
    assert.match(await exchange(s.port, [put('one') + put('two!')]), /got 3[\s\S]*got 4$/);
    assert.deepEqual(s.outcomes.map((o) => o.body), ['{"a":1}', 'hello world!', '', 'one', 'two!']);
    assert.ok(s.outcomes.every((o) => o.captured));
  } finally {
    await s.close();
  }
});

test('a body read after it arrived comes through the stream', async () => {
  const s = await server(30);
  try {
    assert.match(await exchange(s.port, [put('late body')], 80), /got 9$/);
    assert.deepEqual(s.outcomes.map((o) => o.body), ['late body']);
  } finally {
    await s.close();
  }
});

test('a body over the limit is refused as it passes it, and the connection still answers', async () => {
  const s = await server(0, 10);
  try {
    // Declared within the limit but longer in chunks: refused on the chunk that passes it.
    const head = 'PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: 16\r\n\r\n';
    const got = await exchange(s.port, [head + '12345678', '90abcdef', put('ok')]);
    assert.match(got, /^HTTP\/1\.1 413[\s\S]*too large[\s\S]*got 2$/);
    assert.equal(s.outcomes[0].error, 'TooLargeError Request body too large, max size: 10 bytes');
    assert.equal(s.outcomes[1].body, 'ok');
  } finally {
    await s.close();
  }
});

test('a client that leaves mid-body fails the read', async () => {
  const s = await server(0, 1000);
  try {
    await exchange(s.port, ['PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\npartial']);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(s.outcomes.length, 1);
    assert.match(s.outcomes[0].error ?? '', /aborted/);
  } finally {
    await s.close();
  }
});

test('a captured body read again is empty, as an ended stream gives, and the connection goes on', async () => {
  const seconds: string[] = [];
  const srv = createHttp1Server((req: http.IncomingMessage, res: http.ServerResponse) => {
    void (async () => {
      const first = await readBody(req, 64);
      const again = await readBody(req, 64);
      seconds.push(again.toString());
      res.end(`got ${first.length}/${again.length}`);
    })();
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  try {
    const got = await exchange((srv.address() as AddressInfo).port, [put('abc') + put('defg')]);
    assert.match(got, /got 3\/0[\s\S]*got 4\/0$/);
    assert.deepEqual(seconds, ['', '']);
  } finally {
    await new Promise((resolve) => { srv.closeAllConnections(); srv.close(() => resolve(undefined)); });
  }
});

test('a body read twice at once goes to the first read, and the second (through the stream) ends empty', async () => {
  const srv = createHttp1Server((req: http.IncomingMessage, res: http.ServerResponse) => {
    Promise.all([readBody(req, 64), readBody(req, 64)]).then(
      ([first, second]) => res.end(`got ${first.length}/${second.length}`),
      () => res.destroy(),
    );
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  try {
    const got = await exchange((srv.address() as AddressInfo).port, [put('abc') + put('defg')]);
    assert.match(got, /got 3\/0[\s\S]*got 4\/0$/);
  } finally {
    await new Promise((resolve) => { srv.closeAllConnections(); srv.close(() => resolve(undefined)); });
  }
});
