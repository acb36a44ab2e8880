import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchRoute } from '../proxy/l7-route.ts';
import { compileHttpRoute, filteredHostnames, planApiGateway, type ApiGatewayState } from './api-routes.ts';

const state = (over: Partial<ApiGatewayState>): ApiGatewayState => ({
  gateway: 'gw', entry: { Listeners: [{ Name: 'web', Port: 8080, Protocol: 'http' }, { Name: 'db', Port: 9000, Protocol: 'tcp' }] },
  httpRoutes: [], tcpRoutes: [], certificates: [], ...over,
});

test('routes bind to the listeners their parents name, by section and protocol; an unknown parent binds nothing', () => {
  const plans = planApiGateway(state({
    httpRoutes: [
      { Name: 'r1', Parents: [{ Kind: 'api-gateway', Name: 'gw' }], Rules: [{ Services: [{ Name: 'a' }] }] },
      { Name: 'r2', Parents: [{ Kind: 'api-gateway', Name: 'gw', SectionName: 'db' }], Rules: [{ Services: [{ Name: 'b' }] }] },
      { Name: 'r3', Parents: [{ Kind: 'api-gateway', Name: 'other' }], Rules: [{ Services: [{ Name: 'c' }] }] },
    ],
    tcpRoutes: [{ Name: 't1', Parents: [{ Kind: 'api-gateway', Name: 'gw', SectionName: 'db' }], Services: [{ Name: 'pg' }] }],
  }));
  assert.deepEqual(plans.map((p) => [p.port, p.protocol, p.routes, p.tcpService]), [
    [8080, 'http', ['http-route/r1'], undefined],
    [9000, 'tcp', ['tcp-route/t1'], 'pg'],
  ]);
  // A route without a service is not accepted, so not bound.
  assert.deepEqual(planApiGateway(state({ httpRoutes: [{ Name: 'empty', Parents: [{ Kind: 'api-gateway', Name: 'gw' }], Rules: [{ Services: [] }] }] })), []);
  // A listener without a route bound is not run (Consul's getReadyListeners: only listeners with upstreams become Envoy listeners).
  assert.deepEqual(planApiGateway(state({})), []);
});

test("a route the controller did not accept (its backend's protocol is not the route's) binds nowhere; one not yet judged binds", () => {
  const refused = { Conditions: [{ Type: 'Accepted', Status: 'False', Reason: 'InvalidDiscoveryChain', Resource: { Kind: '', Name: '', SectionName: '' } }] };
  const bound = { Conditions: [{ Type: 'Accepted', Status: 'True', Resource: { Kind: '', Name: '' } }, { Type: 'Bound', Status: 'False', Resource: { Kind: 'api-gateway', Name: 'x' } }] };
  const http = (name: string, Status?: unknown) => ({ Name: name, Status, Parents: [{ Kind: 'api-gateway', Name: 'gw' }], Rules: [{ Services: [{ Name: name }] }] }) as ApiGatewayState['httpRoutes'][number];
  const tcp = (name: string, Status?: unknown) => ({ Name: name, Status, Parents: [{ Kind: 'api-gateway', Name: 'gw', SectionName: 'db' }], Services: [{ Name: name }] }) as ApiGatewayState['tcpRoutes'][number];
  assert.deepEqual(planApiGateway(state({ httpRoutes: [http('h1', refused)], tcpRoutes: [tcp('t1', refused)] })), []);
  assert.deepEqual(planApiGateway(state({ httpRoutes: [http('h1', bound), http('h2')], tcpRoutes: [tcp('t1', refused), tcp('t2', bound)] })).map((p) => p.routes), [
    ['http-route/h1', 'http-route/h2'], ['tcp-route/t2'],
  ]);
});

test('a gateway the controller did not accept (a certificate it names does not exist) runs no listener', () => {
  const httpRoutes = [{ Name: 'r', Parents: [{ Name: 'gw' }], Rules: [{ Services: [{ Name: 'a' }] }] }];
  const entry = (status: string) => ({
    Listeners: [{ Name: 'web', Port: 8080, Protocol: 'http' }],
    Status: { Conditions: [{ Type: 'Accepted', Status: status, Resource: { Kind: '', Name: '', SectionName: '' } }, { Type: 'ResolvedRefs', Status: 'False', Resource: { Kind: 'api-gateway', Name: 'gw' } }] },
  });
  assert.deepEqual(planApiGateway(state({ entry: entry('False'), httpRoutes })), []);
  assert.deepEqual(planApiGateway(state({ entry: entry('True'), httpRoutes })).map((p) => p.routes), [['http-route/r']]);
});

test('a tcp listener with two tcp-routes bound is conflicted and not run (Consul: TCP-based listeners only support binding a single route)', () => {
  const warned: string[] = [];
  const t = (name: string) => ({ Name: name, Parents: [{ Kind: 'api-gateway', Name: 'gw', SectionName: 'db' }], Services: [{ Name: name }] });
  const plans = planApiGateway(state({ tcpRoutes: [t('t1'), t('t2')] }), (m, n) => warned.push(`${n}: ${m}`));
  assert.deepEqual(plans, []);
  assert.deepEqual(warned, ['db: TCP-based listeners currently only support binding a single route']);
  assert.deepEqual(planApiGateway(state({ tcpRoutes: [t('t1')] })).map((p) => p.tcpService), ['t1']);
});

test("hostnames: a route's hostnames within the listener's, its own absent: the listener's", () => {
  assert.deepEqual(filteredHostnames(null, undefined), ['*']);
  assert.deepEqual(filteredHostnames([], 'api.example.com'), ['api.example.com']);
  assert.deepEqual(filteredHostnames(['a.example.com', 'b.other.org'], '*.example.com'), ['a.example.com']);
  assert.deepEqual(filteredHostnames(['a.example.com'], 'b.example.com'), []);
  const plans = planApiGateway(state({
    entry: { Listeners: [{ Name: 'web', Port: 8080, Protocol: 'http', Hostname: '*.example.com' }] },
    httpRoutes: [
      { Name: 'in', Parents: [{ Name: 'gw' }], Hostnames: ['shop.example.com'], Rules: [{ Services: [{ Name: 'a' }] }] },
      { Name: 'out', Parents: [{ Name: 'gw' }], Hostnames: ['shop.other.org'], Rules: [{ Services: [{ Name: 'b' }] }] },
    ],
  }));
  assert.deepEqual(plans.map((p) => [p.routes, [...p.hosts.keys()]]), [[['http-route/in', 'http-route/out'], ['shop.example.com']]]);
  // A route whose hostnames are all outside the listener's is still bound (Consul binds by section and protocol): the listener runs and serves it nothing.
  const outOnly = planApiGateway(state({
    entry: { Listeners: [{ Name: 'web', Port: 8080, Protocol: 'http', Hostname: '*.example.com' }] },
    httpRoutes: [{ Name: 'out', Parents: [{ Name: 'gw' }], Hostnames: ['shop.other.org'], Rules: [{ Services: [{ Name: 'b' }] }] }],
  }));
  assert.deepEqual(outOnly.map((p) => [p.port, p.routes, p.hosts.size]), [[8080, ['http-route/out'], 0]]);
});

test("each match is a route, ordered by Consul's precedence: longer path, then more headers, then more query matches", () => {
  const plans = planApiGateway(state({
    httpRoutes: [
      { Name: 'short', Parents: [{ Name: 'gw' }], Rules: [{ Matches: [{ Path: { Match: 'prefix', Value: '/' } }], Services: [{ Name: 'root' }] }] },
      {
        Name: 'long', Parents: [{ Name: 'gw' }], Rules: [{
          Matches: [
            { Path: { Match: 'prefix', Value: '/api' } },
            { Path: { Match: 'prefix', Value: '/api' }, Headers: [{ Match: 'exact', Name: 'x-v', Value: '2' }] },
          ],
          Services: [{ Name: 'api' }],
        }],
      },
    ],
  }));
  const routes = plans[0].hosts.get('*')!;
  assert.deepEqual(routes.map((r) => [r.services[0].name, r.match.HTTP.PathPrefix, (r.match.HTTP.Header as unknown[]).length]), [['api', '/api', 1], ['api', '/api', 0], ['root', '/', 0]]);
  const req = (path: string, headers: Record<string, string> = {}) => ({ method: 'GET', path, query: new URLSearchParams(), headers });
  assert.ok(matchRoute(routes[0].match, req('/api/x', { 'x-v': '2' })));
  assert.equal(matchRoute(routes[0].match, req('/api/x')), null);
});

test("filters: one service merges its changes over the rule's; a split keeps the rule's last; weights and rewrites carried", () => {
  const [one] = compileHttpRoute({
    Name: 'r', Rules: [{
      Filters: { Headers: [{ Set: { a: 'rule', b: 'rule' } }], URLRewrite: { Path: '/v2' } },
      Matches: [{ Method: 'POST', Query: [{ Match: 'present', Name: 'q' }] }],
      Services: [{ Name: 's', Filters: { Headers: [{ Set: { b: 'svc' }, Remove: ['x'] }] } }],
    }],
  });
  assert.deepEqual(one.match, { HTTP: { PathPrefix: '/', Header: [], QueryParam: [{ Name: 'q', Present: true }], Methods: ['POST'] } });
  assert.deepEqual(one.services, [{ name: 's', weight: 1, request: [{ Add: {}, Set: { a: 'rule', b: 'svc' }, Remove: ['x'] }], response: [], rewrite: '/v2' }]);
  const [split] = compileHttpRoute({
    Name: 'r', Rules: [{ Filters: { Headers: [{ Add: { r: '1' } }] }, Services: [{ Name: 'v1', Weight: 90 }, { Name: 'v2', Weight: 10, Filters: { Headers: [{ Add: { l: '2' } }] } }] }],
  });
  assert.deepEqual(split.services.map((s) => [s.name, s.weight, s.request.map((o) => o.Add)]), [['v1', 90, [{ r: '1' }]], ['v2', 10, [{ l: '2' }, { r: '1' }]]]);
});

test("a TLS listener serves its first certificate that resolves; one whose certificates do not resolve, or with versions only, serves the gateway's leaf", () => {
  const listeners = [{ Name: 'tls', Port: 8443, Protocol: 'http', TLS: { Certificates: [{ Kind: 'inline-certificate', Name: 'missing' }, { Name: 'c' }], MinVersion: 'TLSv1_3' } }];
  const warned: string[] = [];
  const httpRoutes = [{ Name: 'r', Parents: [{ Name: 'gw' }], Rules: [{ Services: [{ Name: 'a' }] }] }];
  const plans = planApiGateway(state({ entry: { Listeners: listeners }, httpRoutes, certificates: [{ Kind: 'inline-certificate', Name: 'c', Certificate: 'CERT', PrivateKey: 'KEY' }] }));
  assert.deepEqual(plans[0].tls, { minVersion: 'TLSv1.3', cert: { cert: 'CERT', key: 'KEY' } });
  assert.deepEqual(planApiGateway(state({ entry: { Listeners: listeners }, httpRoutes }), (m, n) => warned.push(n)).map((p) => p.tls), [{ minVersion: 'TLSv1.3' }]);
  assert.deepEqual(warned, ['tls']);
  const versionsOnly = [{ Name: 'tls', Port: 8443, Protocol: 'http', TLS: { Certificates: null, MinVersion: 'TLSv1_2', MaxVersion: '' } }];
  assert.deepEqual(planApiGateway(state({ entry: { Listeners: versionsOnly }, httpRoutes })).map((p) => p.tls), [{ minVersion: 'TLSv1.2' }]);
  // Cipher suites by their IANA names, served as OpenSSL's.
  const suites = [{ Name: 'tls', Port: 8443, Protocol: 'http', TLS: { MaxVersion: 'TLSv1_2', CipherSuites: ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256'] } }];
  assert.deepEqual(planApiGateway(state({ entry: { Listeners: suites }, httpRoutes })).map((p) => p.tls),
    [{ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers: ['ECDHE-ECDSA-AES128-GCM-SHA256'] }]);
  // Consul's normalized empty TLS block: no TLS.
  const empty = [{ Name: 'tls', Port: 8443, Protocol: 'http', TLS: { Certificates: null, MinVersion: '', MaxVersion: '' } }];
  assert.deepEqual(planApiGateway(state({ entry: { Listeners: empty }, httpRoutes })).map((p) => p.tls), [null]);
});

test("a rule's RetryFilter and TimeoutFilter replace the chain decision's retries and request timeout; none: no change", () => {
  const [r] = compileHttpRoute({ Name: 'r', Rules: [{ Filters: { RetryFilter: { RetryOnConnectFailure: true }, TimeoutFilter: { RequestTimeout: '2s' } }, Services: [{ Name: 's' }] }] });
  const decision = { targets: [], path: '/', requestTimeoutMs: 0, retry: { numRetries: 0, onConnectFailure: false, onStatusCodes: [], on: [] }, requestHeaders: [], responseHeaders: [] };
  r.adjust!(decision);
  // A condition without a count is one retry, as Envoy's default.
  assert.deepEqual([decision.requestTimeoutMs, decision.retry], [2000, { numRetries: 1, onConnectFailure: true, onStatusCodes: [], on: [] }]);
  assert.equal(compileHttpRoute({ Name: 'r', Rules: [{ Services: [{ Name: 's' }] }] })[0].adjust, undefined);
});
