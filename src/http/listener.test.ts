import { test } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
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
