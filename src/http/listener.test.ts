import { test } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import net, { type AddressInfo, type Socket } from 'node:net';
import { createHttp1Server, hostPort, reloadTls } from './listener.ts';

test('hostPort brackets IPv6 hosts', () => {
  assert.equal(hostPort({ address: '127.0.0.1', family: 'IPv4', port: 8500 }), '127.0.0.1:8500');
  assert.equal(hostPort({ address: '::1', family: 'IPv6', port: 8500 }), '[::1]:8500');
});

test('HTTP/1.1 servers keep blocking queries and idle sockets alive', () => {
  const srv = createHttp1Server();
  assert.equal(srv.requestTimeout, 0);
  assert.equal(srv.keepAliveTimeout, 65_000);
});

test('reloadTls sets the client-certificate rule new connections read', () => {
  const srv = tls.createServer({});
  reloadTls(srv, { requestCert: true, rejectUnauthorized: true });
  assert.deepEqual([(srv as unknown as { requestCert: boolean }).requestCert, (srv as unknown as { rejectUnauthorized: boolean }).rejectUnauthorized], [true, true]);
  reloadTls(srv, { requestCert: true, rejectUnauthorized: true }, false);
  assert.equal((srv as unknown as { rejectUnauthorized: boolean }).rejectUnauthorized, false);
});

test('a connection has its keep-alive Timeout from the start, and its first answer arms that one', async () => {
  const timeoutOf = (s: Socket): unknown => (s as unknown as Record<symbol, unknown>)[Object.getOwnPropertySymbols(s).find((k) => k.description === 'timeout')!];
  let atOpen: unknown;
  let server: Socket | undefined;
  const srv = createHttp1Server((_req, res) => res.end('ok'));
  srv.on('connection', (s: Socket) => { server = s; atOpen = timeoutOf(s); });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  try {
    const sock = net.connect((srv.address() as AddressInfo).port, '127.0.0.1');
    const got = new Promise<void>((resolve) => sock.on('data', (d) => { if (d.toString().endsWith('ok')) resolve(); }));
    sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await got;
    assert.ok(atOpen, 'a Timeout when the connection opened');
    const armed = timeoutOf(server!) as { _idleTimeout: number; _destroyed: boolean };
    assert.equal(armed, atOpen);
    assert.deepEqual([armed._idleTimeout, armed._destroyed], [66_000, false]);
    sock.destroy();
  } finally {
    srv.closeAllConnections();
    await new Promise<void>((resolve) => srv.close(() => resolve()));
  }
});
