import assert from 'node:assert/strict';
import { test } from 'node:test';
import { appHeaders, canonicalPath, DEFAULT_NORMALIZATION, normalizeRequest, normalizeRequestPath, type RequestNormalization } from './l7-normalize.ts';
import { DEFAULT_MESH_HTTP, type MeshHttp } from './mesh-http.ts';

const with_ = (n: Partial<RequestNormalization>): RequestNormalization => ({ ...DEFAULT_NORMALIZATION, ...n });
const mesh = (n: Partial<RequestNormalization>, sanitizeXfcc = false): MeshHttp => ({ sanitizeXfcc, normalization: with_(n) });

test("normalize_path: dot segments, '\\' as '/', unreserved escapes decoded, other escapes upper-cased", () => {
  assert.equal(canonicalPath('/public/../admin'), '/admin');
  assert.equal(canonicalPath('/public/%2e%2E/admin'), '/admin');
  assert.equal(canonicalPath('/%61dmin'), '/admin');
  assert.equal(canonicalPath('/public\\..\\admin'), '/admin');
  assert.equal(canonicalPath('/a/./b/'), '/a/b/');
  assert.equal(canonicalPath('//admin//x'), '//admin//x', 'repeated slashes are merge_slashes, not normalize_path');
  assert.equal(canonicalPath('/admin%2fx'), '/admin%2Fx', 'an escaped slash is reserved: it stays');
  assert.equal(canonicalPath('*'), '*');
});

test('the default (no mesh entry): normalized, slashes not merged, escaped slashes kept', () => {
  assert.deepEqual(normalizeRequestPath('//public/../admin', DEFAULT_NORMALIZATION), { action: 'continue', path: '//admin' });
  assert.deepEqual(normalizeRequestPath('/%2Fadmin', DEFAULT_NORMALIZATION), { action: 'continue', path: '/%2Fadmin' });
});

test('each setting, in Envoy order: escaped slashes, then normalize_path, then merge_slashes', () => {
  assert.deepEqual(normalizeRequestPath('//a//b', with_({ mergeSlashes: true })), { action: 'continue', path: '/a/b' });
  assert.deepEqual(normalizeRequestPath('/x/../admin', with_({ normalizePath: false })), { action: 'continue', path: '/x/../admin' });
  assert.deepEqual(normalizeRequestPath('/%2fadmin', with_({ escapedSlashes: 'REJECT_REQUEST' })), { action: 'reject' });
  assert.deepEqual(normalizeRequestPath('/admin', with_({ escapedSlashes: 'REJECT_REQUEST' })), { action: 'continue', path: '/admin' });
  assert.deepEqual(normalizeRequestPath('/%2Fadmin', with_({ escapedSlashes: 'UNESCAPE_AND_FORWARD' })), { action: 'continue', path: '//admin' });
  assert.deepEqual(normalizeRequestPath('/%2Fadmin', with_({ escapedSlashes: 'UNESCAPE_AND_FORWARD', mergeSlashes: true })), { action: 'continue', path: '/admin' });
  assert.deepEqual(normalizeRequestPath('/x%5C..%5Cadmin', with_({ escapedSlashes: 'UNESCAPE_AND_FORWARD' })), { action: 'continue', path: '/admin' });
  assert.deepEqual(normalizeRequestPath('/a%2F%2Fb', with_({ escapedSlashes: 'UNESCAPE_AND_REDIRECT', mergeSlashes: true })), { action: 'redirect', path: '/a/b' });
  assert.deepEqual(normalizeRequestPath('/a/b', with_({ escapedSlashes: 'UNESCAPE_AND_REDIRECT' })), { action: 'continue', path: '/a/b' });
});

test('a request: underscored header names refused or dropped, the redirect keeps the query, RBAC sees the result', () => {
  const raw = ['X_Evil', '1', 'Host', 'api', 'x-ok', '2'];
  assert.deepEqual(normalizeRequest('GET', '/a', raw, undefined, mesh({ underscores: 'REJECT_REQUEST' })), { status: 400, text: 'Bad Request', close: true });
  const dropped = normalizeRequest('GET', '/a', raw, undefined, mesh({ underscores: 'DROP_HEADER' }));
  assert.ok('l7' in dropped);
  assert.deepEqual(dropped.dropped, ['x_evil']);
  assert.equal(dropped.l7.headers['x_evil'], undefined);
  assert.equal(dropped.l7.headers['x-ok'], '2');
  const allowed = normalizeRequest('GET', '/a', raw, undefined, DEFAULT_MESH_HTTP);
  assert.ok('l7' in allowed && allowed.l7.headers['x_evil'] === '1');
  assert.deepEqual(normalizeRequest('GET', '/a%2fb?q=%2F', [], undefined, mesh({ escapedSlashes: 'UNESCAPE_AND_REDIRECT' })),
    { status: 307, text: '', headers: { location: '/a/b?q=%2F' } });
  assert.deepEqual(normalizeRequest('GET', '/a%2fb', [], undefined, mesh({ escapedSlashes: 'REJECT_REQUEST' })), { status: 400, text: '' });
  const n = normalizeRequest('GET', '//x/../admin?q=1', [], 'api', mesh({ mergeSlashes: true }));
  assert.ok('l7' in n);
  assert.deepEqual([n.l7.path, n.l7.url, n.l7.headers[':path'], n.l7.query.get('q')], ['/admin', '/admin?q=1', '/admin?q=1', '1']);
});

test('x-forwarded-client-cert: appended to (APPEND_FORWARD), or stripped when the mesh entry sanitizes it', () => {
  const h = () => ({ 'x-forwarded-client-cert': 'By=a;URI=b', x_y: '1', z: '2' });
  assert.deepEqual(appHeaders(h(), ['x_y'], DEFAULT_MESH_HTTP, 'By=me'), { 'x-forwarded-client-cert': 'By=a;URI=b,By=me', z: '2' });
  assert.deepEqual(appHeaders(h(), [], mesh({}, true), 'By=me'), { x_y: '1', z: '2' });
});

test("Envoy's checks before normalization: a fragment is refused (400) under every setting, a target not starting with '/' is not found (404)", () => {
  for (const m of [DEFAULT_MESH_HTTP, mesh({ normalizePath: false }), mesh({ mergeSlashes: true, escapedSlashes: 'UNESCAPE_AND_FORWARD' })]) {
    for (const url of ['/admin#x', '/x#/../admin', '/a?b#c', 'http://h/admin#', '/admin%2F#']) {
      assert.deepEqual(normalizeRequest('GET', url, [], undefined, m), { status: 400, text: '' }, url);
    }
    for (const url of ['*', 'admin', 'a/../admin']) assert.deepEqual(normalizeRequest('OPTIONS', url, [], undefined, m), { status: 404, text: '' }, url);
  }
  // An absolute-form target without a path is for '/' (its query kept).
  const n = normalizeRequest('GET', 'http://h?x=1', [], undefined, DEFAULT_MESH_HTTP);
  assert.ok('l7' in n);
  assert.deepEqual([n.l7.path, n.l7.url], ['/', '/?x=1']);
});

test("the intentions see x-forwarded-client-cert as the application gets it (Envoy mutates it before its filters): the caller's own dropped when sanitized, ours appended otherwise", () => {
  const raw = ['X-Forwarded-Client-Cert', 'URI=spiffe://td/ns/default/dc/dc1/svc/admin-tool', 'Host', 'api'];
  const sanitized = normalizeRequest('GET', '/a', raw, undefined, mesh({}, true), 'By=me;URI=spiffe://td/ns/default/dc/dc1/svc/web');
  assert.ok('l7' in sanitized);
  assert.equal(sanitized.l7.headers['x-forwarded-client-cert'], undefined);
  const appended = normalizeRequest('GET', '/a', raw, undefined, DEFAULT_MESH_HTTP, 'By=me;URI=spiffe://td/ns/default/dc/dc1/svc/web');
  assert.ok('l7' in appended);
  assert.equal(appended.l7.headers['x-forwarded-client-cert'], 'URI=spiffe://td/ns/default/dc/dc1/svc/admin-tool,By=me;URI=spiffe://td/ns/default/dc/dc1/svc/web');
  const none = normalizeRequest('GET', '/a', ['Host', 'api'], undefined, DEFAULT_MESH_HTTP, 'By=me;URI=x');
  assert.ok('l7' in none);
  assert.equal(none.l7.headers['x-forwarded-client-cert'], 'By=me;URI=x');
});
