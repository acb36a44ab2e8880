import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTarget } from './target.ts';
import { cleanPath } from './response.ts';

test('parseTarget: the same path, search and query as new URL() for plain and unusual targets', () => {
  const targets = [
    '/', '/v1/catalog/register', '/v1/kv/a/b/?recurse&pretty', '/v1/kv/x?', '/v1/kv/a+b?key=a+b&dc=dc1', '/v1/kv/a:b@c',
    "/v1/kv/it's?q='x'", '/v1/kv/a%20b?x=%zz', '/v1//kv', '/v1/./kv/../agent/self', '/v1/kv/.hidden', '/v1/kv/a b',
    '/v1/kv/é?x=é', '/v1/kv/a#frag?x', '/v1/kv/a?x=1#f', '/v1/kv/a\\b', '/v1/kv/{x}?y=<z>', '/v1/kv/a|b^c`d',
  ];
  for (const url of targets) {
    const u = new URL(url, 'http://agent');
    const t = parseTarget(url);
    assert.ok(t, url);
    assert.equal(t.pathname, u.pathname, url);
    // Dot segments stay in the path (the dispatcher redirects to the cleaned path, as Consul's mux),
    // and a backslash is a character of the path, as for Go, not WHATWG's separator.
    if (!/\/\.\.?(\/|$)|\\/.test(url)) assert.equal(t.path, decodeURIComponent(u.pathname), url);
    assert.equal(t.search, u.search, url);
    assert.deepEqual([...t.query], [...u.searchParams], url);
    if (t.clean) assert.equal(cleanPath(t.path), t.path, url);
  }
  assert.equal(parseTarget('/v1/kv/a')?.clean, true);
  assert.equal(parseTarget('/v1/kv/%zz'), null);
});

test('parseTarget: dot segments, plain or escaped, are kept in the path so the request is redirected, not served elsewhere', () => {
  for (const [url, path] of [
    ['/v1/kv/app/../guard/a', '/v1/kv/app/../guard/a'], ['/v1/kv/app/%2e%2e/guard/a', '/v1/kv/app/../guard/a'],
    ['/v1/kv/app%2F..%2Fguard', '/v1/kv/app/../guard'], ['/v1/./kv/../agent/self?x=1', '/v1/./kv/../agent/self'],
  ]) {
    const t = parseTarget(url);
    assert.equal(t?.path, path, url);
    assert.equal(t.clean, false, url);
    assert.notEqual(cleanPath(t.path), t.path, url);
  }
});
