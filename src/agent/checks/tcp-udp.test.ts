// TCP and UDP checks against real node:net / node:tls / node:dgram sockets on 127.0.0.1.
import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import * as tls from 'node:tls';
import { test } from 'node:test';
import { harness, selfSignedCert } from './test-support.ts';

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test('TCP: a listener is passing, a closed port critical with Go\'s text', async () => {
  const server = net.createServer((c) => c.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const ok = await harness({ TCP: addr, Interval: 1000 });
  assert.deepEqual(await ok.runOnce(), ['passing', `TCP connect ${addr}: Success`]);
  ok.runner.stop();
  server.close();
  const closed = `127.0.0.1:${await freePort()}`;
  const bad = await harness({ TCP: closed, Interval: 1000 });
  assert.deepEqual(await bad.runOnce(), ['critical', `dial tcp ${closed}: connect: connection refused`]);
  bad.runner.stop();
  const noPort = await harness({ TCP: 'localhost', Interval: 1000 });
  assert.deepEqual(await noPort.runOnce(), ['critical', 'dial tcp: address localhost: missing port in address']);
  noPort.runner.stop();
});

test('TCP+TLS: the handshake must verify unless tls_skip_verify', async () => {
  const cert = await selfSignedCert();
  const server = tls.createServer({ cert: cert.cert, key: cert.key }, (c) => c.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const bad = await harness({ TCP: addr, TCPUseTLS: true, Interval: 1000 });
    assert.deepEqual(await bad.runOnce(), ['critical', 'tls: failed to verify certificate: x509: certificate signed by unknown authority']);
    bad.runner.stop();
    const skip = await harness({ TCP: addr, TCPUseTLS: true, TLSSkipVerify: true, Interval: 1000 });
    assert.deepEqual(await skip.runOnce(), ['passing', `TCP+TLS connect ${addr}: Success`]);
    skip.runner.stop();
    const ca = await harness({ TCP: addr, TCPUseTLS: true, TLSServerName: 'check.test', Interval: 1000 }, { tlsCA: cert.cert });
    assert.deepEqual(await ca.runOnce(), ['passing', `TCP+TLS connect ${addr}: Success`]);
    ca.runner.stop();
  } finally {
    server.close();
  }
});

test('UDP: a reply is passing', async () => {
  const server = dgram.createSocket('udp4');
  server.on('message', (_m, rinfo) => server.send('pong', rinfo.port, rinfo.address));
  await new Promise<void>((r) => server.bind(0, '127.0.0.1', r));
  const addr = `127.0.0.1:${server.address().port}`;
  const h = await harness({ UDP: addr, Interval: 1000 });
  assert.deepEqual(await h.runOnce(), ['passing', `UDP connect ${addr}: Success`]);
  h.runner.stop();
  server.close();
});

test('UDP: silence until the timeout is passing; an ICMP refusal is critical', async () => {
  const server = dgram.createSocket('udp4');
  let got = 0;
  server.on('message', () => { got++; });
  await new Promise<void>((r) => server.bind(0, '127.0.0.1', r));
  const addr = `127.0.0.1:${server.address().port}`;
  const quiet = await harness({ UDP: addr, Interval: 1000, Timeout: 200 }, { realClock: true });
  assert.deepEqual(await quiet.next(), ['passing', `UDP connect ${addr}: Success`]);
  assert.equal(got, 1, 'one (empty) datagram was sent');
  quiet.runner.stop();
  server.close();
  const refused = await harness({ UDP: addr, Interval: 1000, Timeout: 2000 }, { realClock: true });
  const [status, output] = await refused.next();
  assert.equal(status, 'critical');
  assert.match(output, new RegExp(`^read udp 127\\.0\\.0\\.1:\\d+->${addr.replace(/\./g, '\\.')}: read: connection refused$`));
  refused.runner.stop();
});
