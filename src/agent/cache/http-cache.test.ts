import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../clock.ts';
import type { HttpRequest } from '../../http/index.ts';
import type { ForwardRequest, ForwardResponse } from '../forward.ts';
import { HttpCache } from './http-cache.ts';

function request(url: string, headers: Record<string, string> = {}): HttpRequest {
  const u = new URL(url, 'http://agent');
  return {
    method: 'GET', path: u.pathname, url, params: { rest: '' }, query: u.searchParams, headers, remoteAddr: '127.0.0.1',
    signal: new AbortController().signal, body: async () => Buffer.alloc(0),
  };
}

function setup(answer: (req: ForwardRequest) => ForwardResponse | Promise<ForwardResponse>) {
  const sent: ForwardRequest[] = [];
  const cache = new HttpCache({
    clock: new ManualClock(), send: async (r) => (sent.push(r), answer(r)), defaultToken: () => 'dflt',
    defaultQueryTimeMs: 300_000, maxQueryTimeMs: 600_000,
  });
  const forwarded: HttpRequest[] = [];
  const forward = async (req: HttpRequest) => (forwarded.push(req), { body: 'forwarded' });
  return { cache, sent, forwarded, forward };
}

const ok = (index: number, body = '[]'): ForwardResponse => ({
  status: 200, headers: { 'Content-Type': 'application/json', 'X-Consul-Index': String(index), 'X-Consul-Effective-Consistency': 'stale' }, body: Buffer.from(body), server: 's',
});

test('reads without ?cached are forwarded; a cached read is fetched stale without the cache flag, then a refresh blocks at its index', async () => {
  const { cache, sent, forwarded, forward } = setup((r) => (r.url.includes('index=') ? new Promise(() => {}) : ok(7)));
  const h = cache.handler('catalog_services', forward);
  assert.deepEqual(await h(request('/v1/catalog/service/web?tag=a')), { body: 'forwarded' });
  assert.equal(forwarded.length, 1);
  const miss = await h(request('/v1/catalog/service/web?cached&tag=a', { 'cache-control': 'max-age=5' }));
  assert.equal(miss.headers?.['X-Cache'], 'MISS');
  assert.equal(miss.headers?.['X-Consul-Effective-Consistency'], 'leader');
  assert.equal(miss.contentType, 'application/json');
  assert.equal(sent[0].url, '/v1/catalog/service/web?tag=a&stale=');
  assert.equal(sent[0].headers['x-consul-token'], 'dflt', 'the agent default token');
  assert.equal(sent[0].headers['cache-control'], undefined);
  await new Promise((r) => setImmediate(r));
  assert.equal(sent[1].url, '/v1/catalog/service/web?tag=a&stale=&index=7&wait=600s');
  const hit = await h(request('/v1/catalog/service/web?tag=a&cached'));
  assert.deepEqual([hit.headers?.['X-Cache'], hit.headers?.Age], ['HIT', '0']);
  assert.equal(sent.length, 2, 'a hit sends nothing');
  cache.close();
});

test('entries are per token; a server error is answered as the server gave it, with no cache headers', async () => {
  const { cache, sent, forward } = setup((r) => (r.headers['x-consul-token'] === 'bad'
    ? { status: 403, headers: { 'Content-Type': 'text/plain' }, body: Buffer.from('Permission denied'), server: 's' }
    : ok(3)));
  const h = cache.handler('prepared_query', forward);
  await h(request('/v1/query/q/execute?cached', { 'x-consul-token': 'a' }));
  await h(request('/v1/query/q/execute?cached', { 'x-consul-token': 'b' }));
  assert.equal(sent.length, 2);
  assert.equal((await h(request('/v1/query/q/execute?cached', { 'x-consul-token': 'a' }))).headers?.['X-Cache'], 'HIT');
  const denied = await h(request('/v1/query/q/execute?cached', { 'x-consul-token': 'bad' }));
  assert.equal(denied.status, 403);
  assert.equal(String(denied.raw), 'Permission denied');
  assert.equal(denied.headers?.['X-Cache'], undefined);
  cache.close();
});

test('bad ?index, ?wait and ?cached&consistent are 400s with Consul texts', async () => {
  const { cache, forward } = setup(() => ok(1));
  const h = cache.handler('health_services', forward);
  await assert.rejects(h(request('/v1/health/service/web?cached&index=x')), { message: 'Invalid index' });
  await assert.rejects(h(request('/v1/health/service/web?cached&wait=soon')), { message: 'Invalid wait time' });
  await assert.rejects(h(request('/v1/health/service/web?cached&consistent')), { message: 'Cannot specify ?cached with ?consistent, conflicting semantics.' });
  await assert.rejects(h(request('/v1/health/service/web?cached&max_stale=abc')), { message: 'Invalid max_stale value "abc"' });
  await assert.rejects(h(request('/v1/health/service/web?cached&stale&consistent')), { message: 'Cannot specify ?stale with ?consistent, conflicting semantics.' });
  await assert.rejects(h(request('/v1/health/service/web?cached&index=x', { 'cache-control': 'max-age=x' })), { message: 'Invalid Cache-Control header.' });
  cache.close();
});

const denied = (text: string): ForwardResponse => ({ status: 403, headers: { 'Content-Type': 'text/plain' }, body: Buffer.from(text), server: 's' });
const tick = () => new Promise((r) => setImmediate(r));

for (const text of ['ACL not found', 'Permission denied: token with AccessorID \'x\' lacks permission \'service:read\' on "web"']) {
  test(`a refresh entry whose background query is refused (${text.slice(0, 17)}) is no longer answered to that token`, async () => {
    const pending: ((r: ForwardResponse) => void)[] = [];
    let refused = false;
    const { cache, sent, forward } = setup((r) => (refused ? denied(text) : r.url.includes('index=') ? new Promise((resolve) => pending.push(resolve)) : ok(7, '["web"]')));
    const h = cache.handler('catalog_services', forward);
    const read = () => h(request('/v1/catalog/service/web?cached', { 'x-consul-token': 't' }));
    assert.equal((await read()).headers?.['X-Cache'], 'MISS');
    await tick();
    assert.equal(pending.length, 1, 'the background query runs');
    // The token is deleted or loses its access: the background query's answer is a 403.
    refused = true;
    pending[0](denied(text));
    await tick();
    const after = await read();
    assert.equal(after.status, 403, 'the refused token is not answered the value it read before');
    assert.equal(String(after.raw), text);
    assert.equal(after.headers?.['X-Cache'], undefined);
    assert.ok(sent.length >= 3);
    cache.close();
  });
}

test('a cached prepared query is kept per caller address (Near "_ip" sorts by it) and fetched with it, on a server too', async () => {
  const { cache, sent, forward } = setup(() => ok(3));
  const h = cache.handler('prepared_query', forward);
  const from = (addr: string, headers: Record<string, string> = {}) => h({ ...request('/v1/query/q/execute?cached&near=_ip', headers), remoteAddr: addr });
  assert.equal((await from('10.0.0.1')).headers?.['X-Cache'], 'MISS');
  assert.equal(sent[0].headers['x-forwarded-for'], '10.0.0.1', 'the server sorts from the caller, not from this agent');
  assert.equal((await from('10.0.0.2')).headers?.['X-Cache'], 'MISS', 'another caller is not answered the first one\'s order');
  assert.equal(sent[1].headers['x-forwarded-for'], '10.0.0.2');
  assert.equal((await from('127.0.0.1', { 'x-forwarded-for': '10.0.0.1' })).headers?.['X-Cache'], 'HIT', 'X-Forwarded-For names the caller');
  cache.close();
});

test('key parts cannot run into each other: token "a/b" and token "a" with Authorization "b/" are different entries', async () => {
  const { cache, sent, forward } = setup(() => ok(3));
  const h = cache.handler('catalog_datacenters', forward);
  await h(request('/v1/catalog/datacenters?cached', { 'x-consul-token': 'a/b' }));
  assert.equal((await h(request('/v1/catalog/datacenters?cached', { 'x-consul-token': 'a', authorization: 'b/' }))).headers?.['X-Cache'], 'MISS');
  assert.equal(sent.length, 2);
  cache.close();
});

test('a read the servers refuse as malformed (400) is not retried in the background', async () => {
  const { cache, sent, forward } = setup(() => ({ status: 400, headers: { 'Content-Type': 'text/plain' }, body: Buffer.from('Failed to create boolean expression evaluator'), server: 's' }));
  const h = cache.handler('health_services', forward);
  const r = await h(request('/v1/health/service/web?cached&filter=%3D%3D'));
  assert.equal(r.status, 400);
  for (let i = 0; i < 5; i++) await tick();
  assert.equal(sent.length, 1, 'one fetch, no background retries');
  assert.equal((await h(request('/v1/health/service/web?cached&filter=%3D%3D'))).status, 400, 'the next read asks again');
  assert.equal(sent.length, 2);
  cache.close();
});

test('every option that changes the answer makes its own entry; blocking and consistency options share one', async () => {
  const { cache, sent, forward } = setup((r) => (r.url.includes('index=') ? new Promise(() => {}) : ok(3)));
  const h = cache.handler('health_services', forward);
  const base = '/v1/health/service/web?cached';
  const distinct = ['', '&dc=dc2', '&filter=Node%3D%3Da', '&tag=a', '&tag=b', '&node-meta=k:v', '&near=n1', '&passing', '&peer=p',
    '&merge-central-config', '&ns=x', '&partition=y', '&pretty'];
  for (const q of distinct) assert.equal((await h(request(base + q))).headers?.['X-Cache'], 'MISS', q);
  for (const q of ['&stale', '&max_stale=5s', '&leader', '&index=1&wait=1s']) assert.equal((await h(request(base + q))).headers?.['X-Cache'], 'HIT', q);
  assert.equal(sent.filter((r) => !r.url.includes('index=')).length, distinct.length);
  cache.close();
});

test('a ?cached POST of the discovery chain is cached with its body in the key, and refreshed as a blocking POST', async () => {
  const { cache, sent, forwarded, forward } = setup((r) => (r.url.includes('index=') ? new Promise(() => {}) : ok(5, `{"Chain":${JSON.stringify(r.body?.toString() ?? null)}}`)));
  const post = (url: string, body: string): HttpRequest => ({ ...request(url, { 'content-type': 'application/json' }), method: 'POST', body: async () => Buffer.from(body) });
  const h = cache.handler('compiled_discovery_chain', forward);
  const local = '{"OverrideMeshGateway":{"Mode":"local"}}';
  const miss = await h(post('/v1/discovery-chain/web?cached', local));
  assert.equal(miss.headers?.['X-Cache'], 'MISS');
  assert.deepEqual([sent[0].method, sent[0].url, sent[0].body?.toString()], ['POST', '/v1/discovery-chain/web?stale=', local]);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual([sent[1].method, sent[1].url, sent[1].body?.toString()], ['POST', '/v1/discovery-chain/web?stale=&index=5&wait=600s', local]);
  const hit = await h(post('/v1/discovery-chain/web?cached', local));
  assert.deepEqual([hit.headers?.['X-Cache'], hit.raw?.toString()], ['HIT', JSON.stringify({ Chain: local })]);
  // Other overrides, and the GET without any, are entries of their own.
  const remote = await h(post('/v1/discovery-chain/web?cached', '{"OverrideMeshGateway":{"Mode":"remote"}}'));
  assert.equal(remote.headers?.['X-Cache'], 'MISS');
  const get = await h(request('/v1/discovery-chain/web?cached'));
  assert.equal(get.headers?.['X-Cache'], 'MISS');
  assert.equal(sent.at(-1)?.method, 'GET');
  assert.equal(sent.at(-1)?.body, undefined);
  // Without ?cached a POST is forwarded; other types never cache a POST.
  await h(post('/v1/discovery-chain/web', local));
  await cache.handler('catalog_services', forward)(post('/v1/catalog/service/web?cached', '{}'));
  assert.equal(forwarded.length, 2);
  cache.close();
});

test('entries are per namespace and partition named by header as by query parameter', async () => {
  const { cache, sent: all, forward } = setup((r) => (r.url.includes('index=') ? new Promise(() => {}) : ok(3, JSON.stringify(r.headers['x-consul-namespace'] ?? 'default'))));
  const sent = { get length() { return all.filter((r) => !r.url.includes('index=')).length; } };
  const h = cache.handler('compiled_discovery_chain', forward);
  const read = async (headers: Record<string, string>) => String((await h(request('/v1/discovery-chain/web?cached', headers))).raw ?? '');
  assert.equal(await read({}), '"default"');
  assert.equal(await read({ 'x-consul-namespace': 'team-a' }), '"team-a"', 'not the default namespace\'s chain');
  assert.equal(await read({ 'x-consul-namespace': 'team-a', 'x-consul-partition': 'ap1' }), '"team-a"');
  assert.equal(sent.length, 3);
  assert.equal(await read({ 'x-consul-namespace': 'team-a' }), '"team-a"');
  assert.equal(sent.length, 3, 'the same namespace is a hit');
  cache.close();
});
