// The request's abort signal: made on first use, aborted when the client leaves before the
// answer (also when it asks only after the client left) or when the server closes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { silentLogger } from '../log.ts';
import { Router } from './router.ts';
import { HttpServer } from './server.ts';
import type { HttpRequest } from './request.ts';

function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => { resolve = r; });
  return { promise, resolve };
}

function serverWith(router: Router): HttpServer {
  return new HttpServer({ router, logger: silentLogger(), config: { defaultAclPolicy: 'allow', responseHeaders: {} } });
}

async function leaveAfterSending(addr: string, path: string): Promise<void> {
  const [host, port] = addr.split(':');
  const sock = net.connect(Number(port), host);
  await once(sock, 'connect');
  sock.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
  await new Promise((r) => setTimeout(r, 50));
  sock.destroy();
}

test('a client that leaves aborts the signal, whether the handler asked before or after', async () => {
  let early!: AbortSignal;
  let lateAborted: boolean | undefined;
  const left = { early: deferred(), late: deferred() };
  const router = new Router()
    .route('GET', '/early', async (req) => {
      early = req.signal;
      await new Promise<void>((resolve) => early.addEventListener('abort', () => resolve()));
      left.early.resolve();
      return { body: 1 };
    })
    .route('GET', '/late', async (req) => {
      await new Promise((r) => setTimeout(r, 200));
      lateAborted = req.signal.aborted;
      left.late.resolve();
      return { body: 1 };
    })
    .route('GET', '/done', async (req) => ({ body: req.signal.aborted }));
  const srv = serverWith(router);
  await srv.listen([{ kind: 'tcp', host: '127.0.0.1', port: 0 }]);
  const [addr] = srv.addresses();
  try {
    await leaveAfterSending(addr, '/early');
    await left.early.promise;
    assert.equal(early.aborted, true);
    await leaveAfterSending(addr, '/late');
    await left.late.promise;
    assert.equal(lateAborted, true);
    const res = await fetch(`http://${addr}/done`);
    assert.equal(await res.text(), 'false');
  } finally {
    await srv.close();
  }
});

test('closing the server aborts the signals of requests in flight', async () => {
  const seen = deferred<AbortSignal>();
  const router = new Router().route('GET', '/wait', async (req) => {
    seen.resolve(req.signal);
    await new Promise<void>((resolve) => req.signal.addEventListener('abort', () => resolve()));
    return { body: 1 };
  });
  const srv = serverWith(router);
  await srv.listen([{ kind: 'tcp', host: '127.0.0.1', port: 0 }]);
  const pending = fetch(`http://${srv.addresses()[0]}/wait`).catch(() => undefined);
  const signal = await seen.promise;
  await srv.close();
  assert.equal(signal.aborted, true);
  await pending;
});

test("a request's lighter abort (what a blocking query waits on) fires as its signal: client gone, server closed; a signal made after it is aborted with the same reason", async () => {
  const heard = { left: deferred<AbortSignal>(), closed: deferred<AbortSignal>() };
  const waiting = deferred();
  const listen = (req: HttpRequest, done: (s: AbortSignal) => void): Promise<{ body: number }> => new Promise((resolve) => {
    const aborts = req.aborts!;
    assert.equal(aborts.aborted, false);
    const dropped = { handleEvent: () => assert.fail('a removed listener was called') };
    aborts.addEventListener('abort', dropped);
    aborts.addEventListener('abort', {
      handleEvent() {
        assert.equal(aborts.aborted, true);
        done(req.signal); // asked only now
        resolve({ body: 1 });
      },
    });
    aborts.removeEventListener('abort', dropped);
    waiting.resolve();
  });
  const router = new Router()
    .route('GET', '/left', (req) => listen(req, heard.left.resolve))
    .route('GET', '/closed', (req) => listen(req, heard.closed.resolve));
  const srv = serverWith(router);
  await srv.listen([{ kind: 'tcp', host: '127.0.0.1', port: 0 }]);
  const [addr] = srv.addresses();
  await leaveAfterSending(addr, '/left');
  const left = await heard.left.promise;
  assert.equal(left.aborted, true);
  assert.equal((left.reason as DOMException).name, 'AbortError');
  waiting.promise = new Promise<void>((r) => { waiting.resolve = r; });
  const pending = fetch(`http://${addr}/closed`).catch(() => undefined);
  await waiting.promise;
  await srv.close();
  const closed = await heard.closed.promise;
  assert.equal(closed.aborted, true);
  assert.notEqual(closed.reason, left.reason); // a server close: AbortController's own reason, as before
  await pending;
});

test('a client that leaves after its body was read whole aborts the wait of its request; the next request on a kept connection is answered', async () => {
  const bodies: string[] = [];
  const left = deferred();
  const router = new Router().route('PUT', '/hold', async (req) => {
    bodies.push((await req.body()).toString());
    if (req.query.has('answer')) return { body: bodies.length };
    await new Promise<void>((resolve) => req.aborts!.addEventListener('abort', { handleEvent: () => resolve() }));
    left.resolve();
    return { body: 0 };
  });
  const srv = serverWith(router);
  await srv.listen([{ kind: 'tcp', host: '127.0.0.1', port: 0 }]);
  const [host, port] = srv.addresses()[0].split(':');
  const put = (path: string, body: string) => `PUT ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  try {
    const sock = net.connect(Number(port), host);
    let got = '';
    sock.on('data', (d) => { got += d.toString(); });
    await once(sock, 'connect');
    sock.write(put('/hold?answer', 'one') + put('/hold', '{"two":2}'));
    while (!got.includes('\r\n\r\n1')) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50));
    sock.destroy();
    const late = new Promise((_resolve, reject) => setTimeout(() => reject(new Error('the held request was not aborted')), 2000).unref());
    await Promise.race([left.promise, late]);
    assert.deepEqual(bodies, ['one', '{"two":2}']);
  } finally {
    await srv.close();
  }
});

// Node 24's node:http closes queued responses when their socket closes; Node 22's does not. To run
// this file there: npx -y -p node@22.13 node --experimental-strip-types --no-warnings --test src/http/abort.test.ts
test('requests pipelined behind an unanswered one abort when the client leaves: waiting, after reading a body, or asking only after', async () => {
  const ended = { body: deferred<string>(), late: deferred<boolean>(), first: deferred() };
  const started: string[] = [];
  const waitAbort = (req: HttpRequest) => new Promise<void>((resolve) => req.aborts!.addEventListener('abort', { handleEvent: () => resolve() }));
  const router = new Router()
    .route('GET', '/first', async (req) => {
      started.push('first');
      await waitAbort(req);
      ended.first.resolve();
      return { body: 1 };
    })
    .route('PUT', '/body', async (req) => {
      const body = (await req.body()).toString();
      started.push('body');
      await waitAbort(req);
      ended.body.resolve(body);
      return { body: 2 };
    })
    .route('GET', '/late', async (req) => {
      started.push('late');
      await new Promise((r) => setTimeout(r, 200));
      ended.late.resolve(req.signal.aborted);
      return { body: 3 };
    });
  const srv = serverWith(router);
  await srv.listen([{ kind: 'tcp', host: '127.0.0.1', port: 0 }]);
  const [host, port] = srv.addresses()[0].split(':');
  try {
    const sock = net.connect(Number(port), host);
    await once(sock, 'connect');
    sock.write('GET /first HTTP/1.1\r\nHost: x\r\n\r\nPUT /body HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nheldGET /late HTTP/1.1\r\nHost: x\r\n\r\n');
    while (started.length < 3) await new Promise((r) => setTimeout(r, 10));
    sock.destroy();
    const late = new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error('a pipelined request was not aborted')), 2000).unref());
    const all = Promise.all([ended.first.promise, ended.body.promise, ended.late.promise]);
    const [, body, lateAborted] = await Promise.race([all, late]);
    assert.equal(body, 'held');
    assert.equal(lateAborted, true);
  } finally {
    await srv.close();
  }
});
