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

test('the address a client passes on is the one Consul would parse: a first X-Forwarded-For entry that is no IP gives the peer', async () => {
  const seen: HttpRequest[] = [];
  const h = queryFromThisAgent(async (req) => (seen.push(req), { body: 1 }), 'client-1');
  const req = { method: 'GET', path: '/v1/query/q/execute', params: { rest: 'q/execute' }, query: new URLSearchParams(), headers: {}, remoteAddr: '::ffff:127.0.0.9' } as unknown as HttpRequest;
  for (const [xff, want] of [['garbage, 10.1.1.1', '127.0.0.9'], [' ::ffff:10.1.1.2 ,x', '10.1.1.2'], ['fe80::1%eth0', '127.0.0.9']]) {
    await h({ ...req, headers: { 'x-forwarded-for': xff } });
    assert.equal(seen.at(-1)!.headers['x-forwarded-for'], want, xff);
  }
  // No address at all: nothing is passed on, so the server does not read a stale or bogus one.
  await h({ ...req, remoteAddr: '', headers: { 'x-forwarded-for': 'nope' } });
  assert.equal('x-forwarded-for' in seen.at(-1)!.headers, false);
});
