// Acceptance (issue 4): a service with a real HTTP check and a TCP check against servers the
// test starts; when the HTTP server dies the instance leaves health/service?passing within
// interval + timeout, and comes back when the server returns; a blocking health/service query
// wakes on each transition. Real sockets and the real clock throughout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { startDevAgent } from './support/agent.ts';

const INTERVAL_MS = 1000;
const TIMEOUT_MS = 500;

function listenHttp(port = 0): Promise<http.Server> {
  const srv = http.createServer((_req, res) => res.end('ok'));
  return new Promise((resolve) => srv.listen(port, '127.0.0.1', () => resolve(srv)));
}

function closeServer(srv: http.Server | net.Server): Promise<void> {
  return new Promise((resolve) => {
    srv.close(() => resolve());
    if (srv instanceof http.Server) srv.closeAllConnections();
  });
}

test('an HTTP-checked instance leaves and rejoins health/service?passing as its server dies and returns', async () => {
  const web = await listenHttp();
  const port = (web.address() as AddressInfo).port;
  const tcp = net.createServer((s) => s.end()).listen(0, '127.0.0.1');
  await new Promise((r) => tcp.once('listening', r));
  const tcpPort = (tcp.address() as AddressInfo).port;
  const dev = await startDevAgent();
  const base = `http://${dev.httpAddr}`;
  let current: http.Server | null = web;
  try {
    const reg = await fetch(`${base}/v1/agent/service/register`, {
      method: 'PUT',
      body: JSON.stringify({
        Name: 'shop', Port: port,
        Checks: [
          { CheckID: 'shop-http', HTTP: `http://127.0.0.1:${port}/health`, Interval: `${INTERVAL_MS}ms`, Timeout: `${TIMEOUT_MS}ms` },
          { CheckID: 'shop-tcp', TCP: `127.0.0.1:${tcpPort}`, Interval: `${INTERVAL_MS}ms`, Timeout: `${TIMEOUT_MS}ms` },
        ],
      }),
    });
    assert.equal(reg.status, 200);

    // Blocks until the passing set changes; returns the new set and how long it took.
    const passing = async (index: string): Promise<{ index: string; ids: string[]; ms: number }> => {
      const t0 = Date.now();
      const res = await fetch(`${base}/v1/health/service/shop?passing&index=${index}&wait=10s`);
      const body = (await res.json()) as { Service: { ID: string } }[];
      return { index: res.headers.get('x-consul-index') ?? '0', ids: body.map((e) => e.Service.ID), ms: Date.now() - t0 };
    };
    let state = await passing('0');
    while (state.ids.length === 0) state = await passing(state.index);
    assert.deepEqual(state.ids, ['shop'], 'both checks pass once the first runs complete');

    await closeServer(current);
    current = null;
    const down = Date.now();
    do state = await passing(state.index); while (state.ids.length !== 0);
    const leftAfter = Date.now() - down;
    // The next run starts within one interval and fails within the timeout (plus sync slack).
    assert.ok(leftAfter <= INTERVAL_MS + TIMEOUT_MS + 1000, `left passing after ${leftAfter} ms`);

    const detail = (await (await fetch(`${base}/v1/health/checks/shop`)).json()) as { CheckID: string; Status: string; Output: string }[];
    const httpCheck = detail.find((c) => c.CheckID === 'shop-http')!;
    assert.equal(httpCheck.Status, 'critical');
    assert.match(httpCheck.Output, /connect: connection refused|ECONNREFUSED/);
    assert.equal(detail.find((c) => c.CheckID === 'shop-tcp')!.Status, 'passing');

    current = await listenHttp(port);
    do state = await passing(state.index); while (state.ids.length === 0);
    assert.deepEqual(state.ids, ['shop'], 'back in the passing set once the server returns');
  } finally {
    if (current) await closeServer(current);
    await closeServer(tcp);
    await dev.stop();
  }
});
