import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CompiledDiscoveryChain, DiscoverySplit } from '../discovery-chain/index.ts';
import { applyHeaderOps, backtrackSafe, compileSafe, matchRoute, pickSplit, retryBackoffMs, routeRequest, type L7Request } from './l7-route.ts';

function req(path: string, headers: Record<string, string> = {}, method = 'GET'): L7Request {
  const q = path.indexOf('?');
  return { method, path: q === -1 ? path : path.slice(0, q), query: new URLSearchParams(q === -1 ? '' : path.slice(q)), headers };
}

test('path matches: exact, prefix (reporting what it consumed), full-string regex, case-insensitive', () => {
  assert.deepEqual(matchRoute({ HTTP: { PathExact: '/a' } }, req('/a')), { matched: '/a' });
  assert.equal(matchRoute({ HTTP: { PathExact: '/a' } }, req('/a/b')), null);
  assert.deepEqual(matchRoute({ HTTP: { PathPrefix: '/api' } }, req('/api/v1')), { matched: '/api' });
  assert.equal(matchRoute({ HTTP: { PathPrefix: '/api' } }, req('/API/v1')), null);
  assert.deepEqual(matchRoute({ HTTP: { PathPrefix: '/api', CaseInsensitive: true } }, req('/API/v1')), { matched: '/API' });
  assert.ok(matchRoute({ HTTP: { PathRegex: '/v[0-9]+/.*' } }, req('/v2/x')));
  assert.equal(matchRoute({ HTTP: { PathRegex: '/v[0-9]+' } }, req('/v2/x')), null, 'a regex must match the whole path');
  assert.ok(matchRoute(undefined, req('/anything')), 'no match block matches everything');
});

test('header matches: present, exact, prefix, suffix, contains, regex, ignore case, invert', () => {
  const h = (m: Record<string, unknown>, headers: Record<string, string>) => matchRoute({ HTTP: { Header: [{ Name: 'X-Canary', ...m }] } }, req('/', headers)) !== null;
  assert.equal(h({ Present: true }, { 'x-canary': '' }), true);
  assert.equal(h({ Present: true }, {}), false);
  assert.equal(h({ Present: true, Invert: true }, {}), true);
  assert.equal(h({ Exact: '1' }, { 'x-canary': '1' }), true);
  assert.equal(h({ Exact: '1' }, { 'x-canary': '2' }), false);
  assert.equal(h({ Exact: '1' }, {}), false);
  assert.equal(h({ Exact: '1', Invert: true }, { 'x-canary': '2' }), true);
  assert.equal(h({ Prefix: 'ab' }, { 'x-canary': 'abc' }), true);
  assert.equal(h({ Suffix: 'bc' }, { 'x-canary': 'abc' }), true);
  assert.equal(h({ Contains: 'b' }, { 'x-canary': 'abc' }), true);
  assert.equal(h({ Regex: 'a.c' }, { 'x-canary': 'abc' }), true);
  assert.equal(h({ Regex: 'a' }, { 'x-canary': 'abc' }), false);
  assert.equal(h({ Exact: 'ABC', IgnoreCase: true }, { 'x-canary': 'abc' }), true);
  assert.equal(h({ exact: '1' }, { 'x-canary': '1' }), true, 'snake/lower-case field names as stored');
});

test('query parameter and method matches; all conditions must hold', () => {
  const m = { HTTP: { PathPrefix: '/', QueryParam: [{ Name: 'beta', Exact: 'yes' }], Methods: ['GET', 'HEAD'] } };
  assert.ok(matchRoute(m, req('/x?beta=yes')));
  assert.equal(matchRoute(m, req('/x?beta=no')), null);
  assert.equal(matchRoute(m, req('/x')), null);
  assert.equal(matchRoute(m, req('/x?beta=yes', {}, 'POST')), null);
  assert.ok(matchRoute({ HTTP: { QueryParam: [{ Name: 'a', Present: true }] } }, req('/?a=')));
  assert.ok(matchRoute({ HTTP: { QueryParam: [{ Name: 'a', Regex: '[0-9]+' }] } }, req('/?a=42')));
  assert.equal(matchRoute({ HTTP: { QueryParam: [{ Name: 'a', Regex: '[0-9]+' }] } }, req('/?a=4x')), null);
});

const splits = (...w: number[]): DiscoverySplit[] => w.map((Weight, i) => ({ Weight, NextNode: `n${i}`, Definition: {} }));

test('a split leg is chosen in proportion to its weight, by the injected random source', () => {
  const s = splits(90, 10);
  assert.equal(pickSplit(s, () => 0)!.NextNode, 'n0');
  assert.equal(pickSplit(s, () => 0.8999)!.NextNode, 'n0');
  assert.equal(pickSplit(s, () => 0.9)!.NextNode, 'n1');
  assert.equal(pickSplit(s, () => 0.99999)!.NextNode, 'n1');
  assert.equal(pickSplit(splits(0, 100), () => 0)!.NextNode, 'n1', 'a zero weight is never chosen');
  assert.equal(pickSplit(splits(33.33, 33.33, 33.34), () => 0.5)!.NextNode, 'n1');
  // Envoy's integer weights are Consul's truncated: 0.009 % is 0, never chosen.
  assert.equal(pickSplit(splits(0.009, 99.991), () => 0)!.NextNode, 'n1');
  assert.equal(pickSplit(splits(0, 0), () => 0.5), null);
});

function chain(): CompiledDiscoveryChain {
  const target = (id: string, subset: string) => ({
    ID: id, Service: 'api', ServiceSubset: subset, Namespace: 'default', Partition: 'default', Datacenter: 'dc1',
    MeshGateway: {}, Subset: { Filter: `Service.Meta.version == ${subset}` }, TransparentProxy: {}, SNI: '', Name: id,
  });
  return {
    ServiceName: 'api', Namespace: 'default', Partition: 'default', Datacenter: 'dc1', Protocol: 'http', StartNode: 'router:api',
    Nodes: {
      'router:api': {
        Type: 'router', Name: 'api', Routes: [
          {
            Definition: {
              Match: { HTTP: { PathPrefix: '/old', Header: [{ Name: 'x-canary', Exact: '1' }] } },
              Destination: { ServiceSubset: 'v2', PrefixRewrite: '/new', RequestTimeout: '2s', NumRetries: 2, RetryOnStatusCodes: [503], RequestHeaders: { Set: { 'x-route': 'canary' } } },
            },
            NextNode: 'resolver:v2.api.default.default.dc1',
          },
          { Definition: { Match: { HTTP: { PathPrefix: '/' } }, Destination: { Service: 'api' } }, NextNode: 'splitter:api' },
        ],
      },
      'splitter:api': {
        Type: 'splitter', Name: 'api', Splits: [
          { Weight: 90, NextNode: 'resolver:v1.api.default.default.dc1', Definition: { Weight: 90, RequestHeaders: { Add: { 'x-split': 'v1' } } } },
          { Weight: 10, NextNode: 'resolver:v2.api.default.default.dc1', Definition: { Weight: 10 } },
        ],
      },
      'resolver:v1.api.default.default.dc1': {
        Type: 'resolver', Name: 'v1.api.default.default.dc1',
        Resolver: { Target: 'v1.api.default.default.dc1', RequestTimeout: 3e9, Failover: { Targets: ['v2.api.default.default.dc1'] } },
      },
      'resolver:v2.api.default.default.dc1': { Type: 'resolver', Name: 'v2.api.default.default.dc1', Resolver: { Target: 'v2.api.default.default.dc1' } },
    },
    Targets: { 'v1.api.default.default.dc1': target('v1.api.default.default.dc1', 'v1'), 'v2.api.default.default.dc1': target('v2.api.default.default.dc1', 'v2') },
  };
}

test('a request walks router, splitter and resolver: targets in failover order, rewrite, timeout, retries, headers', () => {
  const canary = routeRequest(chain(), req('/old/x?q=1', { 'x-canary': '1' }), () => 0)!;
  assert.deepEqual(canary.targets.map((t) => t.ID), ['v2.api.default.default.dc1']);
  assert.equal(canary.path, '/new/x');
  assert.equal(canary.requestTimeoutMs, 2000);
  assert.deepEqual(canary.retry, { numRetries: 2, onConnectFailure: false, onStatusCodes: [503], on: [] });
  assert.deepEqual(canary.requestHeaders, [{ Add: undefined, Set: { 'x-route': 'canary' }, Remove: [] }]);
  const main = routeRequest(chain(), req('/old/x'), () => 0.5)!;
  assert.deepEqual(main.targets.map((t) => t.ID), ['v1.api.default.default.dc1', 'v2.api.default.default.dc1']);
  assert.equal(main.path, '/old/x', 'the catch-all route does not rewrite');
  assert.equal(main.requestTimeoutMs, 0, "a resolver's timeout does not apply below a router");
  assert.deepEqual(main.requestHeaders, [{ Add: { 'x-split': 'v1' }, Set: undefined, Remove: [] }]);
  assert.deepEqual(routeRequest(chain(), req('/'), () => 0.95)!.targets.map((t) => t.ID), ['v2.api.default.default.dc1']);
});

test("a resolver's request timeout applies when the chain starts at it", () => {
  const c = chain();
  c.StartNode = 'resolver:v1.api.default.default.dc1';
  const d = routeRequest(c, req('/'), () => 0)!;
  assert.equal(d.requestTimeoutMs, 3000);
  assert.deepEqual(d.targets.map((t) => t.ID), ['v1.api.default.default.dc1', 'v2.api.default.default.dc1']);
});

test('a retry condition without NumRetries gets one retry', () => {
  const c = chain();
  c.Nodes!['router:api'].Routes![0].Definition.Destination = { ServiceSubset: 'v2', RetryOnConnectFailure: true };
  assert.deepEqual(routeRequest(c, req('/old', { 'x-canary': '1' }), () => 0)!.retry, { numRetries: 1, onConnectFailure: true, onStatusCodes: [], on: [] });
});

test('header changes: Remove, then Add (appending), then Set (replacing), names without case; later levels win', () => {
  const h: Record<string, string | string[] | undefined> = { 'x-a': '1', 'x-b': '2', 'x-c': '3' };
  applyHeaderOps(h, [{ Remove: ['X-A'], Set: { 'X-B': 'set', 'X-A': 'again' }, Add: { 'x-c': 'more', 'x-d': 'new', 'x-b': 'added' } }]);
  assert.deepEqual(h, { 'x-a': 'again', 'x-b': 'set', 'x-c': ['3', 'more'], 'x-d': 'new' });
  applyHeaderOps(h, [{ Set: { 'x-d': 'split' } }, { Set: { 'x-d': 'route' } }]);
  assert.equal(h['x-d'], 'route');
});

test('matchers with no condition are skipped; methods match with case', () => {
  assert.ok(matchRoute({ HTTP: { Header: [{ Name: 'x-none' }], QueryParam: [{ Name: 'none' }] } }, req('/')));
  assert.ok(matchRoute({ HTTP: { Header: [{ Name: 'x-none', Invert: true }] } }, req('/')));
  assert.equal(matchRoute({ HTTP: { Methods: ['GET'] } }, req('/', {}, 'get')), null);
});

test("retry backoff is Envoy's: fully jittered, 25 ms base doubling, capped at 250 ms", () => {
  assert.deepEqual([1, 2, 3, 4, 5].map((n) => retryBackoffMs(n, () => 0.999)), [24, 74, 174, 249, 249]);
  assert.equal(retryBackoffMs(3, () => 0), 0);
});

test('a route regex that would backtrack catastrophically on a hostile value matches nothing instead of hanging the proxy', () => {
  // Without the linear engine (tests leave V8's flags alone) only patterns safe to backtrack are used.
  const hostile = `/${'a'.repeat(40)}!`;
  assert.equal(matchRoute({ HTTP: { PathRegex: '/(a+)+b' } }, req(hostile)), null);
  assert.equal(matchRoute({ HTTP: { Header: [{ Name: 'x', Regex: '(a|a)*b' }] } }, req('/', { x: 'a'.repeat(40) })), null);
  assert.equal(matchRoute({ HTTP: { QueryParam: [{ Name: 'q', Regex: '(\\w+\\s?)*$' }] } }, req(`/?q=${'a'.repeat(40)}!`)), null);
  for (const p of ['(a+)+b', '(a|a)*b', '((a+))*', '.*.*.*x', '(a)\\1', '(?=x)x', '(?<!y)x']) assert.equal(backtrackSafe(p), false, p);
  for (const p of ['/api/v[0-9]+/.*', '(https?://)?[a-z]+', '[0-9a-f]{32}', '\\d{1,20}', '(?:ab){2}', '[(]a+[)]+']) {
    assert.equal(backtrackSafe(p), true, p);
    assert.ok(compileSafe(p), p);
  }
  assert.equal(compileSafe('('), null, 'an invalid pattern');
});

test('Envoy ignores case-insensitivity for regex matchers: CaseInsensitive and IgnoreCase do not fold a regex', () => {
  assert.equal(matchRoute({ HTTP: { PathRegex: '/api/.*', CaseInsensitive: true } }, req('/API/x')), null);
  assert.ok(matchRoute({ HTTP: { PathRegex: '/api/.*', CaseInsensitive: true } }, req('/api/x')));
  assert.equal(matchRoute({ HTTP: { Header: [{ Name: 'x', Regex: 'abc', IgnoreCase: true }] } }, req('/', { x: 'ABC' })), null);
});
