import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { test } from 'node:test';
import { createLogger, silentLogger } from '../../log.ts';
import { testCA } from '../../../test/support/tls-cert.ts';
import { waitFor } from '../../../test/support/wait.ts';
import { publicListenerDefaults, upstreamDefaults } from './config.ts';
import { listen, splice, startPublicListener, startUpstreamListener } from './listener.ts';

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

test('the public listener bounds each authorization by the handshake timeout and closes the connection', { timeout: 20_000 }, async () => {
  const ca = await testCA();
  const [server, clientCert] = [await ca.issue('db', 'server'), await ca.issue('web', 'client')];
  let deadlineSeen = false;
  const svc = {
    tlsMaterial: () => ({ cert: server.cert, key: server.key, ca: [ca.cert] }),
    onTlsChange: () => () => true,
    authorize: (_s: unknown, deadline?: AbortSignal) => new Promise<void>((_, reject) => {
      deadline?.addEventListener('abort', () => { deadlineSeen = true; reject(new Error('connect: authz call failed: aborted')); });
    }),
  };
  // The timeout bounds the TLS handshake and the authorization together: 1 s, so that on a loaded
  // machine the handshake itself ends well within it and the authorization is what it cuts.
  const cfg = publicListenerDefaults({ BindAddress: '127.0.0.1', BindPort: 0, LocalServiceAddress: '127.0.0.1:1', HandshakeTimeoutMs: 1000 });
  const l = await startPublicListener(svc, cfg, silentLogger());
  try {
    const i = l.address.lastIndexOf(':');
    const c = tls.connect({ host: '127.0.0.1', port: Number(l.address.slice(i + 1)), cert: clientCert.cert, key: clientCert.key, ca: [ca.cert] });
    c.on('error', () => undefined);
    c.resume();
    await new Promise((r) => c.once('close', r));
    assert.equal(deadlineSeen, true);
  } finally {
    await l.close();
  }
});

test('a connection to the public listener that closes before sending a byte (a TCP health check) is not logged as an error; a bad or timed-out handshake is, and closes it', { timeout: 20_000 }, async () => {
  const ca = await testCA();
  const server = await ca.issue('db', 'server');
  const svc = {
    tlsMaterial: () => ({ cert: server.cert, key: server.key, ca: [ca.cert] }),
    onTlsChange: () => () => true,
    authorize: () => Promise.resolve(),
  };
  const lines: string[] = [];
  const log = createLogger({ level: 'debug', json: true, write: (l) => lines.push(l) });
  const l = await startPublicListener(svc, publicListenerDefaults({ BindAddress: '127.0.0.1', BindPort: 0, LocalServiceAddress: '127.0.0.1:1', HandshakeTimeoutMs: 200 }), log);
  const errors = () => lines.map((s) => JSON.parse(s) as Record<string, string>).filter((e) => e['@level'] === 'error');
  const port = Number(l.address.slice(l.address.lastIndexOf(':') + 1));
  const probe = async (act: (c: net.Socket) => void) => {
    const c = net.connect(port, '127.0.0.1');
    c.on('error', () => undefined);
    await once(c, 'connect');
    act(c);
    await once(c, 'close');
  };
  try {
    await probe((c) => c.end()); // Consul's TCP check: connect, close
    await probe((c) => c.resetAndDestroy());
    // A probe's close is seen on the server a moment after the client's; a bad handshake after them is logged, so once it is, the probes' turn has passed.
    // The first bytes of a ClientHello, then the client closes: a handshake cut short, not a probe.
    await probe((c) => c.end(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x50, 0x01])));
    await waitFor('the cut handshake to be logged', () => errors().length > 0);
    assert.deepEqual(errors().map((e) => e['@message']), ['failed to handshake']);
    // A client that stays silent is closed at the handshake timeout, and that is logged: it is not a probe that closed.
    const silent = net.connect(port, '127.0.0.1');
    silent.on('error', () => undefined);
    let closed = false;
    silent.once('close', () => { closed = true; });
    await waitFor('the silent connection to be closed at the handshake timeout', () => closed);
    await waitFor('the handshake timeout to be logged', () => errors().length > 1);
    assert.equal(errors()[1].error, 'TLS handshake timeout');
  } finally {
    await l.close();
  }
});
