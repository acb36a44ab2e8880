// What the HTTP server reports to the audit log: routed HTTP API calls with their status and
// error text; neither the agent's own calls nor the peer stream (gRPC in Consul, not the HTTP API).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../log.ts';
import { Router } from './router.ts';
import { HttpServer } from './server.ts';
import type { AuditedRequest } from './audit.ts';

function audited() {
  const seen: string[] = [];
  const router = new Router()
    .route('GET', '/v1/kv/*', async () => ({ body: true }))
    .route('POST', '/v1/internal/peering/push', async () => ({ body: true }))
    .route('GET', '/v1/internal/peering/stream', async () => ({ body: true }));
  const audit = {
    begin(req: AuditedRequest) {
      seen.push(`start ${req.method} ${req.path}`);
      return (status: number) => { seen.push(`done ${req.path} ${status}`); };
    },
  };
  const server = new HttpServer({ router, logger: silentLogger(), config: { defaultAclPolicy: 'allow', responseHeaders: {} }, audit });
  return { server, seen };
}

test('an HTTP API call is audited at its start and with its status', async () => {
  const { server, seen } = audited();
  assert.equal((await server.handle({ method: 'GET', url: '/v1/kv/k?token=secret' })).status, 200);
  assert.deepEqual(seen, ['start GET /v1/kv/k', 'done /v1/kv/k 200']);
});

test('the peer stream and the agent\'s own calls are not HTTP API calls: nothing is audited', async () => {
  const { server, seen } = audited();
  assert.equal((await server.handle({ method: 'POST', url: '/v1/internal/peering/push', body: '{}' })).status, 200);
  assert.equal((await server.handle({ method: 'GET', url: '/v1/internal/peering/stream' })).status, 200);
  assert.equal((await server.handle({ method: 'GET', url: '/v1/kv/k', internal: true })).status, 200);
  assert.deepEqual(seen, []);
});
