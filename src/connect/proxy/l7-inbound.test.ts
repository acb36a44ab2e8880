import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { test } from 'node:test';
import type tls from 'node:tls';
import { silentLogger } from '../../log.ts';
import { l7Inbound } from './l7-inbound.ts';
import type { InboundPolicy } from './l7-inbound-policy.ts';
import { fixedMeshHttp } from './mesh-http.ts';

/** A policy that allows every request but those to /denied. */
const policy = {
  isHttp: true, isH2: false, settled: true, onProtocolChange: undefined,
  ready: async () => undefined, start: () => undefined, close: () => undefined,
  allows: async (_caller: unknown, req: { path: string }) => req.path !== '/denied',
} as unknown as InboundPolicy;

/**
 * An application that answers the first request of each connection (keep-alive) and resets the
 * connection on the second, as one whose keep-alive timeout fired as the request arrived.
 */
function resettingApp(): Promise<{ port: number; connections: () => number; close: () => void }> {
  let connections = 0;
  const s = net.createServer((c) => {
    connections++;
    let requests = 0;
    c.on('data', (d) => {
      if (!d.toString().includes('\r\n\r\n')) return;
      if (++requests > 1) return void c.resetAndDestroy();
      c.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok');
    });
    c.on('error', () => undefined);
  });
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve({ port: (s.address() as net.AddressInfo).port, connections: () => connections, close: () => s.close() })));
}

async function get(port: number, path: string, agent: http.Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

test('denied requests get 403; a GET meeting a pooled connection the application reset is sent again on a new one', async () => {
  const app = await resettingApp();
  const inbound = l7Inbound({ policy, mesh: fixedMeshHttp(), localAddress: `127.0.0.1:${app.port}`, localConnectTimeoutMs: 1000, identity: () => '', log: silentLogger() });
  const front = net.createServer((s) => inbound.accept(s as tls.TLSSocket));
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
  const port = (front.address() as net.AddressInfo).port;
  const client = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    assert.deepEqual(await get(port, '/denied', client), { status: 403, body: 'RBAC: access denied' });
    assert.deepEqual(await get(port, '/a', client), { status: 200, body: 'ok' });
    assert.deepEqual(await get(port, '/b', client), { status: 200, body: 'ok' });
    assert.equal(app.connections(), 2, 'the second request was reset on the pooled connection and sent on a new one');
  } finally {
    client.destroy();
    inbound.close();
    front.close();
    app.close();
  }
});
