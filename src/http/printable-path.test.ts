// Consul's filter of request paths with unprintable characters (go-cleanhttp's
// PrintablePathCheckHandler around the whole mux) and disable_http_unprintable_char_filter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../log.ts';
import { Router } from './router.ts';
import { HttpServer } from './server.ts';

const router = new Router().route('GET', '/v1/kv/*', async (r) => ({ body: r.params.rest }));
const serve = (allowUnprintablePaths?: boolean) => new HttpServer({
  router, logger: silentLogger(), config: { defaultAclPolicy: 'allow', responseHeaders: { 'X-Custom': 'v' }, allowUnprintablePaths },
});
const get = async (s: HttpServer, url: string) => {
  const r = await s.handle({ method: 'GET', url });
  return { status: r.status, body: r.body.toString(), custom: r.headers['X-Custom'] };
};

test('a decoded path with a control, format or non-ASCII space character is a bare 400', async () => {
  const s = serve();
  for (const url of ['/v1/kv/a%00b', '/v1/kv/a%0Ab', '/v1/kv/a%7Fb', '/v1/kv/a%C2%A0b', '/v1/kv/a%E2%80%8Bb', '/v1/kv/a%C2%ADb']) {
    assert.deepEqual(await get(s, url), { status: 400, body: '', custom: undefined }, url);
  }
  // Before the mux cleans the path: no 301 to the cleaned path either.
  assert.equal((await get(s, '/v1/kv//a%01')).status, 400);
});

test('printable paths pass: ASCII space, letters of any script, symbols; the query is not checked', async () => {
  const s = serve();
  assert.deepEqual(await get(s, '/v1/kv/a%20b'), { status: 200, body: '"a b"', custom: 'v' });
  assert.deepEqual(await get(s, '/v1/kv/%C3%A9t%C3%A9%E2%82%AC'), { status: 200, body: '"été€"', custom: 'v' });
  assert.equal((await get(s, '/v1/kv/a?x=%00')).status, 200);
});

test('disable_http_unprintable_char_filter serves them', async () => {
  assert.deepEqual(await get(serve(true), '/v1/kv/a%00b'), { status: 200, body: '"a\\u0000b"', custom: 'v' });
});
