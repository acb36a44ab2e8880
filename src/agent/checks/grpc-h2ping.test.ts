// gRPC health checks against a tiny @grpc/grpc-js health server, and H2PING against node:http2
// servers over TLS and cleartext (h2c), all on 127.0.0.1.
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import * as net from 'node:net';
import { test } from 'node:test';
import { decodeHealthStatus, encodeHealthResponse, HEALTH_CHECK_PATH } from './grpc.ts';
import { harness, selfSignedCert } from './test-support.ts';

const statusByService: Record<string, number> = { '': 1, web: 1, db: 2 };

function decodeService(buf: Buffer): string {
  return buf.length > 2 && buf[0] === 0x0a ? buf.subarray(2, 2 + buf[1]).toString() : '';
}

async function healthServer(creds: grpc.ServerCredentials): Promise<{ addr: string; server: grpc.Server }> {
  const server = new grpc.Server();
  const def: grpc.ServiceDefinition = {
    Check: {
      path: HEALTH_CHECK_PATH, requestStream: false, responseStream: false,
      requestSerialize: (v: Buffer) => v, requestDeserialize: (b: Buffer) => b,
      responseSerialize: (s: number) => encodeHealthResponse(s), responseDeserialize: decodeHealthStatus,
    },
  };
  server.addService(def, {
    Check: (call: grpc.ServerUnaryCall<Buffer, number>, cb: grpc.sendUnaryData<number>) => {
      const svc = decodeService(call.request);
      if (!(svc in statusByService)) cb({ code: grpc.status.NOT_FOUND, details: 'unknown service' });
      else cb(null, statusByService[svc]);
    },
  });
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', creds, (e, p) => (e ? rej(e) : res(p))));
  return { addr: `127.0.0.1:${port}`, server };
}

test('gRPC: SERVING is passing; other statuses and errors are critical', async () => {
  const { addr, server } = await healthServer(grpc.ServerCredentials.createInsecure());
  try {
    const cases: Array<[string, string, string]> = [
      [addr, 'passing', `gRPC check ${addr}: success`],
      [`${addr}/web`, 'passing', `gRPC check ${addr}/web: success`],
      [`${addr}/db`, 'critical', `gRPC ${addr}/db serving status: NOT_SERVING`],
      [`${addr}/nope`, 'critical', 'rpc error: code = NotFound desc = unknown service'],
    ];
    for (const [target, status, output] of cases) {
      const h = await harness({ GRPC: target, Interval: 1000 });
      assert.deepEqual(await h.runOnce(), [status, output]);
      h.runner.stop();
    }
  } finally {
    server.forceShutdown();
  }
});

test('gRPC: an unreachable server is critical (Unavailable)', async () => {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const addr = `127.0.0.1:${(s.address() as AddressInfo).port}`;
  await new Promise<void>((r) => s.close(() => r()));
  const h = await harness({ GRPC: addr, Interval: 1000 });
  const [status, output] = await h.runOnce();
  assert.equal(status, 'critical');
  assert.match(output, /^rpc error: code = Unavailable desc = /);
  h.runner.stop();
});

test('gRPC over TLS with grpc_use_tls: verified by CA and server name, or skip verify', async () => {
  const cert = await selfSignedCert();
  const creds = grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(cert.cert), private_key: Buffer.from(cert.key) }]);
  const { addr, server } = await healthServer(creds);
  try {
    const ca = await harness({ GRPC: addr, GRPCUseTLS: true, TLSServerName: 'check.test', Interval: 1000 }, { tlsCA: cert.cert });
    assert.deepEqual(await ca.runOnce(), ['passing', `gRPC check ${addr}: success`]);
    ca.runner.stop();
    const skip = await harness({ GRPC: addr, GRPCUseTLS: true, TLSSkipVerify: true, Interval: 1000 });
    assert.deepEqual(await skip.runOnce(), ['passing', `gRPC check ${addr}: success`]);
    skip.runner.stop();
    const plain = await harness({ GRPC: addr, Interval: 1000 });
    assert.equal((await plain.runOnce())[0], 'critical', 'cleartext against a TLS server fails');
    plain.runner.stop();
  } finally {
    server.forceShutdown();
  }
});

test('H2PING over TLS (the default) and h2c', async () => {
  const cert = await selfSignedCert();
  const secure = http2.createSecureServer({ cert: cert.cert, key: cert.key });
  const clear = http2.createServer();
  await new Promise<void>((r) => secure.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => clear.listen(0, '127.0.0.1', r));
  const tlsAddr = `127.0.0.1:${(secure.address() as AddressInfo).port}`;
  const h2cAddr = `127.0.0.1:${(clear.address() as AddressInfo).port}`;
  try {
    const t = await harness({ H2PING: tlsAddr, TLSSkipVerify: true, Interval: 1000 });
    assert.deepEqual(await t.runOnce(), ['passing', 'HTTP2 ping was successful']);
    t.runner.stop();
    const v = await harness({ H2PING: tlsAddr, Interval: 1000 });
    assert.deepEqual(await v.runOnce(), ['critical', `Failed to dial to ${tlsAddr}: tls: failed to verify certificate: x509: certificate signed by unknown authority`]);
    v.runner.stop();
    const c = await harness({ H2PING: h2cAddr, H2PingUseTLS: false, Interval: 1000 });
    assert.deepEqual(await c.runOnce(), ['passing', 'HTTP2 ping was successful']);
    c.runner.stop();
  } finally {
    secure.close();
    clear.close();
  }
  const refused = await harness({ H2PING: h2cAddr, H2PingUseTLS: false, Interval: 1000 });
  assert.deepEqual(await refused.runOnce(), ['critical', `Failed to dial to ${h2cAddr}: dial tcp ${h2cAddr}: connect: connection refused`]);
  refused.runner.stop();
});

test('H2PING: a server that never answers the ping times out on the clock', async () => {
  const silent = net.createServer(() => { /* accepts and never speaks HTTP/2 */ });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const addr = `127.0.0.1:${(silent.address() as AddressInfo).port}`;
  const h = await harness({ H2PING: addr, H2PingUseTLS: false, Interval: 1000, Timeout: 3000 });
  h.manual!.advance(0);
  await new Promise((r) => setTimeout(r, 100));
  h.manual!.advance(3000);
  assert.deepEqual(await h.next(), ['critical', 'HTTP2 ping failed: context deadline exceeded']);
  h.runner.stop();
  silent.close();
});
