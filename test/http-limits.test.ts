// Connection and write-source limits of the HTTP transport, over real sockets:
// limits.http_max_conns_per_client (429 + close) and http_config.allow_write_http_from (403).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startDevAgent } from './support/agent.ts';
import { devConfig } from './support/agent.ts';
import { createLogger } from '../src/log.ts';

function rawRequest(addr: string, req: string): Promise<string> {
  const [host, port] = addr.split(':');
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(port), host, () => s.write(req));
    let out = '';
    s.on('data', (c) => { out += c.toString(); });
    s.on('close', () => resolve(out));
    s.on('error', reject);
  });
}

test('connections past http_max_conns_per_client get Consul\'s raw 429 and are closed', async () => {
  const dev = await startDevAgent({ config: { limits: { ...devConfig().limits, httpMaxConnsPerClient: 2 } } });
  const [host, port] = dev.httpAddr.split(':');
  const held: net.Socket[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      const s = net.connect(Number(port), host);
      await new Promise((r) => s.once('connect', r));
      held.push(s);
    }
    await new Promise((r) => setTimeout(r, 50));
    const third = await rawRequest(dev.httpAddr, 'GET /v1/status/leader HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(third, /^HTTP\/1\.1 429 Too Many Requests\r\n/);
    assert.match(third, /Your IP is issuing too many concurrent connections, please rate limit your calls\n$/);
    held[0].destroy();
    await new Promise((r) => setTimeout(r, 50));
    const again = await rawRequest(dev.httpAddr, 'GET /v1/status/leader HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(again, /^HTTP\/1\.1 200 OK/);
  } finally {
    for (const s of held) s.destroy();
    await dev.stop();
  }
});

test('allow_write_http_from refuses writes from other sources with 403 Access is restricted; reads pass', async () => {
  const lines: string[] = [];
  const logger = createLogger({ level: 'error', json: true, write: (l) => { lines.push(l); } });
  const dev = await startDevAgent({ config: { http: { ...devConfig().http, allowWriteHttpFrom: ['10.0.0.0/8'] } }, deps: { logger } });
  try {
    const base = `http://${dev.httpAddr}`;
    const put = await fetch(`${base}/v1/kv/x`, { method: 'PUT', body: 'y' });
    assert.equal(put.status, 403);
    assert.equal(await put.text(), 'Access is restricted');
    // Logged as Consul's handleErr logs it.
    const logged = lines.map((l) => JSON.parse(l)).find((r) => r['@message'] === 'Request error' && r.error === 'Access is restricted');
    assert.ok(logged, 'the refusal is logged as a request error');
    assert.equal(logged.method, 'PUT');
    assert.equal((await fetch(`${base}/v1/kv/x`)).status, 404);
    // Consul checks write access inside its endpoint wrapper: an unknown path is still a 404 and
    // a method the endpoint does not take still a 405 with Allow, whoever sends it.
    const unknown = await fetch(`${base}/v1/no-such-endpoint`, { method: 'PUT', body: 'y' });
    assert.equal(unknown.status, 404);
    const wrongMethod = await fetch(`${base}/v1/status/leader`, { method: 'PUT' });
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get('allow'), 'OPTIONS,GET');
  } finally {
    await dev.stop();
  }
  const open = await startDevAgent({ config: { http: { ...devConfig().http, allowWriteHttpFrom: ['127.0.0.0/8'] } } });
  try {
    assert.equal((await fetch(`http://${open.httpAddr}/v1/kv/x`, { method: 'PUT', body: 'y' })).status, 200);
  } finally {
    await open.stop();
  }
});

test('http_config.block_endpoints: paths under a blocked prefix get 403 Endpoint is blocked by agent configuration, whatever the method', async () => {
  const dev = await startDevAgent({ config: { http: { ...devConfig().http, blockEndpoints: ['/v1/acl', '/v1/kv/secret'] } } });
  try {
    const base = `http://${dev.httpAddr}`;
    for (const [method, path] of [['GET', '/v1/acl/policies'], ['PUT', '/v1/acl/bootstrap'], ['PUT', '/v1/kv/secret/x'], ['GET', '/v1/kv/secrets']]) {
      const r = await fetch(`${base}${path}`, { method, body: method === 'PUT' ? 'y' : undefined });
      assert.equal(r.status, 403, `${method} ${path}`);
      assert.equal(await r.text(), 'Endpoint is blocked by agent configuration');
    }
    assert.equal((await fetch(`${base}/v1/kv/public`, { method: 'PUT', body: 'y' })).status, 200);
    assert.equal((await fetch(`${base}/v1/kv/public?raw`)).status, 200);
  } finally {
    await dev.stop();
  }
});
