import { test } from 'node:test';
import assert from 'node:assert/strict';
import { queryFromThisAgent } from './client-routes.ts';
import type { HttpRequest } from '../http/index.ts';

test('prepared query reads forwarded by a client name the client node and the asking address', async () => {
  const seen: HttpRequest[] = [];
  const h = queryFromThisAgent(async (req) => (seen.push(req), { body: 1 }), 'client-1');
  const req = { method: 'GET', path: '/v1/query/q/execute', params: { rest: 'q/execute' }, query: new URLSearchParams(), headers: {}, remoteAddr: '::ffff:127.0.0.9' } as unknown as HttpRequest;
  await h(req);
  await h({ ...req, headers: { 'x-forwarded-for': '10.1.1.1' } });
  assert.equal(seen[0].headers['x-proconsul-query-agent'], 'client-1');
  assert.equal(seen[0].headers['x-forwarded-for'], '127.0.0.9');
  assert.equal(seen[1].headers['x-forwarded-for'], '10.1.1.1');
});
