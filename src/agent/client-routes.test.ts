import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inAgentPartition, queryFromThisAgent } from './client-routes.ts';
import { forwardedRequest } from './forward.ts';
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

test('a client agent in a partition names it on forwarded requests that name none; in the default partition nothing changes', async () => {
  const seen: HttpRequest[] = [];
  const forward = async (req: HttpRequest) => (seen.push(req), { body: 1 });
  // The default partition (unset, or spelled default in any case): the forwarder itself, so every request is sent as it came.
  assert.equal(inAgentPartition(forward, undefined), forward);
  assert.equal(inAgentPartition(forward, ''), forward);
  assert.equal(inAgentPartition(forward, 'Default'), forward);

  const h = inAgentPartition(forward, 'p1');
  const req = (url: string, headers: Record<string, string> = {}, method = 'GET') => {
    const [path, q = ''] = url.split('?');
    return { method, path: decodeURIComponent(path), url, params: {}, query: new URLSearchParams(q), headers, body: async () => Buffer.from('{"Kind":"mesh"}') } as unknown as HttpRequest;
  };
  const sent = async (r: HttpRequest) => {
    await h(r);
    return (await forwardedRequest(seen.at(-1)!)).url;
  };
  assert.equal(await sent(req('/v1/kv/a%20b?recurse=')), '/v1/kv/a%20b?recurse=&partition=p1');
  assert.equal(await sent(req('/v1/config/service-defaults/web')), '/v1/config/service-defaults/web?partition=p1');
  // An empty ?partition= names none (and Go reads the first value): replaced.
  assert.equal(await sent(req('/v1/kv/k?partition=&ns=a')), '/v1/kv/k?partition=p1&ns=a');
  // A request naming a partition, by query (default included) or header, is passed on as it came.
  for (const r of [req('/v1/kv/k?partition=default'), req('/v1/kv/k?partition=p2'), req('/v1/kv/k', { 'x-consul-partition': 'default' })]) {
    await h(r);
    assert.equal(seen.at(-1), r);
  }
  // The body reaches the server unchanged (a Partition it names wins there).
  await h(req('/v1/config', {}, 'PUT'));
  const fwd = await forwardedRequest(seen.at(-1)!);
  assert.deepEqual([fwd.url, fwd.body?.toString()], ['/v1/config?partition=p1', '{"Kind":"mesh"}']);
});
