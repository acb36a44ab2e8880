import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { silentLogger } from '../../log.ts';
import { upstreamDefaults } from './config.ts';
import { listen, splice, startUpstreamListener } from './listener.ts';

test('splicing onto a side that already closed closes the other side too (no leaked dial)', () => {
  const closed = new net.Socket();
  closed.destroy();
  const dialled = new net.Socket();
  splice(closed, dialled, silentLogger());
  assert.equal(dialled.destroyed, true);
});

test('a bound listener that fails later (an accept error) logs it instead of ending the process', async () => {
  const server = net.createServer();
  await listen(server, '127.0.0.1', 0, silentLogger());
  try {
    assert.doesNotThrow(() => server.emit('error', Object.assign(new Error('accept EMFILE'), { code: 'EMFILE' })));
  } finally {
    await new Promise((r) => server.close(r));
  }
});

test('an upstream connection whose resolution hangs is closed at the connect timeout, the resolution aborted', { timeout: 20_000 }, async () => {
  let aborted!: () => void;
  const sawAbort = new Promise<void>((r) => { aborted = r; });
  const resolve = (signal: AbortSignal) => new Promise<never>(() => signal.addEventListener('abort', () => aborted()));
  const dial = () => Promise.reject(new Error('dial must not be reached'));
  const cfg = { ...upstreamDefaults({ DestinationName: 'db' }), ConnectTimeoutMs: 50 };
  const l = await startUpstreamListener({ dial }, cfg, resolve, silentLogger());
  try {
    const i = l.address.lastIndexOf(':');
    const c = net.connect(Number(l.address.slice(i + 1)), '127.0.0.1');
    c.on('error', () => undefined);
    c.resume();
    await Promise.all([new Promise((r) => c.once('close', r)), sawAbort]);
  } finally {
    await l.close();
  }
});
