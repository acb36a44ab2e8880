// Config entries end to end against a dev agent over HTTP: CRUD with CAS, blocking lists,
// Consul's validation texts, every kind accepted, the gateway views (catalog/gateway-services,
// health/ingress) and the `config` CLI round trip with an HCL file.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DevAgent } from './support/agent.ts';
import { cliAgent } from './support/cli.ts';
import { testCA } from './support/tls-cert.ts';

interface Res { status: number; index: number; body: any; text: string }

/** HTTP calls to the agent: status, X-Consul-Index, the body as JSON (null when it is not JSON) and its text. */
function caller(agent: () => DevAgent) {
  return async (method: string, path: string, body?: unknown): Promise<Res> => {
    const res = await fetch(`http://${agent().httpAddr}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(text);
    } catch { /* error texts are plain */ }
    return { status: res.status, index: Number(res.headers.get('x-consul-index') ?? 0), body: parsed, text };
  };
}

describe('config entries against a dev agent', () => {
  const dev = cliAgent();
  const call = caller(() => dev.agent);

  test('apply, read, list and delete with indexes, case-insensitive keys and a 404 text', async () => {
    assert.equal((await call('PUT', '/v1/config', { kind: 'service-defaults', name: 'web', protocol: 'HTTP', meta: { team: 'a' } })).body, true);
    const got = await call('GET', '/v1/config/service-defaults/web');
    assert.equal(got.status, 200);
    assert.deepEqual(Object.keys(got.body), ['Kind', 'Name', 'Protocol', 'TransparentProxy', 'MeshGateway', 'Expose', 'Meta', 'CreateIndex', 'ModifyIndex']);
    assert.equal(got.body.Protocol, 'http');
    assert.equal(got.body.CreateIndex, got.body.ModifyIndex);
    assert.equal(got.index, got.body.ModifyIndex);
    const list = await call('GET', '/v1/config/service-defaults');
    assert.deepEqual(list.body.map((e: { Name: string }) => e.Name), ['web']);
    const missing = await call('GET', '/v1/config/service-defaults/nope');
    assert.equal(missing.status, 404);
    assert.equal(missing.text, 'Config entry not found for "service-defaults" / "nope"');
    assert.ok(missing.index >= 1);
    assert.deepEqual((await call('DELETE', '/v1/config/service-defaults/web')).body, {});
    assert.equal((await call('GET', '/v1/config/service-defaults/web')).status, 404);
    assert.deepEqual((await call('DELETE', '/v1/config/service-defaults/web')).body, {});
  });

  test('?cas on apply and delete answers true or false', async () => {
    assert.equal((await call('PUT', '/v1/config?cas=0', { Kind: 'service-defaults', Name: 'cas' })).body, true);
    assert.equal((await call('PUT', '/v1/config?cas=0', { Kind: 'service-defaults', Name: 'cas' })).body, false);
    const idx = (await call('GET', '/v1/config/service-defaults/cas')).body.ModifyIndex as number;
    assert.equal((await call('PUT', `/v1/config?cas=${idx + 100}`, { Kind: 'service-defaults', Name: 'cas', Protocol: 'grpc' })).body, false);
    assert.equal((await call('PUT', `/v1/config?cas=${idx}`, { Kind: 'service-defaults', Name: 'cas', Protocol: 'grpc' })).body, true);
    const now = (await call('GET', '/v1/config/service-defaults/cas')).body;
    assert.equal(now.Protocol, 'grpc');
    assert.equal(now.CreateIndex, idx);
    assert.equal((await call('DELETE', `/v1/config/service-defaults/cas?cas=${idx}`)).body, false);
    assert.equal((await call('DELETE', `/v1/config/service-defaults/cas?cas=${now.ModifyIndex}`)).body, true);
    assert.equal((await call('DELETE', `/v1/config/service-defaults/cas?cas=${now.ModifyIndex}`)).body, false);
  });

  test('a blocking list wakes when its kind changes, not when another kind does', async () => {
    await call('PUT', '/v1/config', { Kind: 'service-resolver', Name: 'r1' });
    const first = await call('GET', '/v1/config/service-resolver');
    const started = Date.now();
    const blocked = call('GET', `/v1/config/service-resolver?index=${first.index}&wait=5s`);
    await new Promise((r) => setTimeout(r, 150));
    await call('PUT', '/v1/config', { Kind: 'service-defaults', Name: 'other' });
    await new Promise((r) => setTimeout(r, 150));
    await call('PUT', '/v1/config', { Kind: 'service-resolver', Name: 'r2' });
    const woke = await blocked;
    assert.ok(Date.now() - started < 4000);
    assert.ok(woke.index > first.index);
    assert.deepEqual(woke.body.map((e: { Name: string }) => e.Name), ['r1', 'r2']);
  });

  test('Consul\'s texts for common mistakes', async () => {
    const cases: [unknown, number, string][] = [
      [{ Kind: 'bogus', Name: 'x' }, 400, 'Request decoding failed: invalid config entry kind: bogus'],
      [{ Name: 'x' }, 400, 'Request decoding failed: Payload does not contain a kind/Kind key at the top level'],
      [{ Kind: 7 }, 400, 'Request decoding failed: Kind value in payload is not a string'],
      [{ Kind: 'service-defaults', Name: 'x', Foo: 1 }, 400, 'Request decoding failed: 1 error occurred:\n\t* invalid config key "Foo"\n\n'],
      [{ Kind: 'service-defaults' }, 500, 'Name is required'],
      [{ Kind: 'service-defaults', Name: '*' }, 500, 'service-defaults name must be the name of a service, and not a wildcard'],
      [{ Kind: 'proxy-defaults', Name: 'foo' }, 500, 'invalid name ("foo"), only "global" is supported'],
      [{ Kind: 'service-splitter', Name: 's', Splits: [{ Weight: 90 }] }, 500, 'the sum of all split weights must be 100, not 90.000000'],
      [{ Kind: 'service-splitter', Name: 's' }, 500, 'no splits configured'],
      [{ Kind: 'ingress-gateway', Name: 'ig', Listeners: [{ Port: 1, Protocol: 'udp', Services: [{ Name: 'a' }] }] }, 500,
        "protocol must be 'tcp', 'http', 'http2', or 'grpc'. 'udp' is an unsupported protocol"],
      [{ Kind: 'ingress-gateway', Name: 'ig', Listeners: [{ Port: 1, Services: [{ Name: 'a' }, { Name: 'b' }] }] }, 500,
        "Multiple services per listener are only supported for L7 protocols, 'http', 'grpc' and 'http2' (listener on port 1)"],
      [{ Kind: 'ingress-gateway', Name: 'ig', Listeners: [{ Port: 1, Protocol: 'http', Services: [{ Name: 'a', Hosts: ['example..com'] }] }] }, 500, 'Host "example..com" must be a valid DNS hostname'],
      [{ Kind: 'ingress-gateway', Name: 'ig', Listeners: [{ Port: 1, Protocol: 'http', Services: [{ Name: 'a', Hosts: ['example.*.com'] }] }] }, 500, 'Host "example.*.com" is not valid, a wildcard specifier is only allowed as the leftmost label'],
      [{ Kind: 'ingress-gateway', Name: 'ig', Listeners: [{ Port: 1, Protocol: 'http', Services: [{ Name: 'a', Hosts: ['*-test.example.com'] }] }] }, 500, 'Host "*-test.example.com" is not valid, a wildcard specifier is only allowed as the leftmost label'],
      [{ Kind: 'ingress-gateway', Name: 'ig', TLS: { Enabled: true }, Listeners: [{ Port: 1, Protocol: 'http', Services: [{ Name: 'a', Hosts: ['*'] }] }] }, 500, "Host '*' is not allowed when TLS is enabled, all hosts must be valid DNS records to add as a DNSSAN"],
      [{ Kind: 'terminating-gateway', Name: 'tg', Services: [{ Name: 'a', CertFile: 'c' }] }, 500,
        'Service "a" must have a CertFile, CAFile, and KeyFile specified for TLS origination'],
    ];
    for (const [body, status, text] of cases) {
      const res = await call('PUT', '/v1/config', body);
      assert.deepEqual([res.status, res.text], [status, text], JSON.stringify(body));
    }
    assert.equal((await call('GET', '/v1/config/bogus/x')).text, 'invalid config entry kind: bogus');
    assert.equal((await call('DELETE', '/v1/config/bogus/x')).status, 400);
  });

  test('an integer past 2^53 in an entry is a number, as in Go\'s map[string]interface{} (it was a BigInt: a 500)', async () => {
    const res = await fetch(`http://${dev.agent.httpAddr}/v1/config`, { method: 'PUT', body: '{"Kind":"service-defaults","Name":"big","Protocol":18446744073709551616}' });
    const text = await res.text();
    assert.notEqual(res.status, 500, text);
    assert.doesNotMatch(text, /BigInt/);
  });

  test('every kind is accepted with a minimal valid body and reads back', async () => {
    // Consul parses an inline certificate and its key, and checks that they match.
    const tls = await (await testCA()).issue('k1.example.com', 'server');
    const bodies: Record<string, unknown>[] = [
      // http: Consul refuses a router or splitter on a tcp chain (k1's own defaults decide its protocol).
      { Kind: 'service-defaults', Name: 'k1', Protocol: 'http' },
      { Kind: 'proxy-defaults', Name: 'global', Config: { protocol: 'http' } },
      { Kind: 'service-router', Name: 'k1' },
      { Kind: 'service-splitter', Name: 'k1', Splits: [{ Weight: 50 }, { Weight: 50, Service: 'k2' }] },
      { Kind: 'service-resolver', Name: 'k1', DefaultSubset: 'v1', Subsets: { v1: { Filter: 'Service.Meta.version == v1' } } },
      { Kind: 'ingress-gateway', Name: 'k1', Listeners: [{ Port: 8080, Protocol: 'http', Services: [{ Name: 'k1' }] }] },
      { Kind: 'terminating-gateway', Name: 'k1', Services: [{ Name: 'legacy' }] },
      { Kind: 'service-intentions', Name: 'k1', Sources: [{ Name: 'k2', Action: 'allow' }] },
      { Kind: 'mesh' },
      { Kind: 'exported-services', Name: 'default', Services: [{ Name: 'k1', Consumers: [{ Peer: 'other' }] }] },
      { Kind: 'sameness-group', Name: 'k1', IncludeLocal: true, Members: [{ Peer: 'other' }] },
      { Kind: 'api-gateway', Name: 'k1', Listeners: [{ Name: 'l1', Port: 9000, Protocol: 'http' }] },
      { Kind: 'http-route', Name: 'k1', Parents: [{ Kind: 'api-gateway', Name: 'k1' }] },
      { Kind: 'tcp-route', Name: 'k1', Services: [{ Name: 'k1' }], Parents: [{ Kind: 'api-gateway', Name: 'k1' }] },
      { Kind: 'inline-certificate', Name: 'k1', Certificate: tls.cert, PrivateKey: tls.key },
      { Kind: 'file-system-certificate', Name: 'k1', Certificate: '/c.pem', PrivateKey: '/k.pem' },
      { Kind: 'jwt-provider', Name: 'k1', JSONWebKeySet: { Remote: { URI: 'https://example.com/jwks' } } },
      { Kind: 'control-plane-request-limit', Name: 'k1', Mode: 'permissive' },
    ];
    for (const b of bodies) {
      const res = await call('PUT', '/v1/config', b);
      assert.deepEqual([res.status, res.body], [200, true], `${b.Kind}: ${res.text}`);
      const name = b.Kind === 'mesh' ? 'mesh' : String(b.Name);
      const got = await call('GET', `/v1/config/${b.Kind}/${name}`);
      assert.equal(got.status, 200, String(b.Kind));
      assert.equal(got.body.Kind, b.Kind);
    }
    const intent = (await call('GET', '/v1/config/service-intentions/k1')).body;
    assert.deepEqual(intent.Sources, [{ Name: 'k2', Action: 'allow', Precedence: 9, Type: 'consul' }]);
    const mesh = (await call('GET', '/v1/config/mesh/mesh')).body;
    assert.equal('Name' in mesh, false);
    assert.deepEqual(mesh.TransparentProxy, { MeshDestinationsOnly: false });
  });
});

describe('gateway views and the config CLI', () => {
  const dev = cliAgent();
  const call = caller(() => dev.agent);
  const dir = mkdtempSync(join(tmpdir(), 'proconsul-config-'));

  const register = (node: string, svc: Record<string, unknown>, status = 'passing') => call('PUT', '/v1/catalog/register', {
    Node: node, Address: '10.0.0.1', Service: svc,
    Check: { CheckID: `chk-${String(svc.ID ?? svc.Service)}`, Name: 'c', Status: status, ServiceID: svc.ID ?? svc.Service },
  });

  test('gateway-services lists linked services in Consul\'s GatewayService shape', async () => {
    await register('n1', { Service: 'api', Port: 80 });
    // An http listener needs its named services to speak http (Consul's write-time check).
    await call('PUT', '/v1/config', { Kind: 'service-defaults', Name: 'webui', Protocol: 'http' });
    await call('PUT', '/v1/config', {
      Kind: 'ingress-gateway', Name: 'ig',
      Listeners: [{ Port: 8080, Protocol: 'http', Services: [{ Name: 'webui', Hosts: ['web.example.com'] }, { Name: '*' }] }],
    });
    await call('PUT', '/v1/config', { Kind: 'terminating-gateway', Name: 'tg', Services: [{ Name: 'db', CAFile: '/ca.pem', SNI: 'db.local' }] });
    const ig = await call('GET', '/v1/catalog/gateway-services/ig');
    assert.equal(ig.status, 200);
    const e = ig.body[1];
    assert.deepEqual(ig.body.map((r: { Service: { Name: string } }) => r.Service.Name), ['api', 'webui']);
    assert.deepEqual(Object.keys(e), ['Gateway', 'Service', 'GatewayKind', 'Port', 'Protocol', 'Hosts', 'CreateIndex', 'ModifyIndex']);
    assert.deepEqual([e.Gateway, e.GatewayKind, e.Port, e.Protocol, e.Hosts], [{ Name: 'ig' }, 'ingress-gateway', 8080, 'http', ['web.example.com']]);
    assert.equal(ig.body[0].FromWildcard, true);
    const tg = await call('GET', '/v1/catalog/gateway-services/tg');
    assert.deepEqual(tg.body, [{
      Gateway: { Name: 'tg' }, Service: { Name: 'db' }, GatewayKind: 'terminating-gateway', CAFile: '/ca.pem', SNI: 'db.local',
      CreateIndex: tg.body[0].CreateIndex, ModifyIndex: tg.body[0].ModifyIndex,
    }]);
    assert.deepEqual((await call('GET', '/v1/catalog/gateway-services/none')).body, []);
  });

  test('health/ingress returns the gateway instances fronting a service and blocks on their health', async () => {
    await register('gw1', { ID: 'ig-1', Service: 'ig', Kind: 'ingress-gateway', Port: 8080 });
    const first = await call('GET', '/v1/health/ingress/webui');
    assert.deepEqual(first.body.map((r: { Service: { ID: string } }) => r.Service.ID), ['ig-1']);
    assert.equal(first.body[0].Checks[0].Status, 'passing');
    assert.deepEqual((await call('GET', '/v1/health/ingress/api')).body.length, 1, 'wildcard fronts api');
    assert.equal((await call('GET', '/v1/health/ingress/WEBUI')).body.length, 1, 'the service name matches case-insensitively');
    assert.deepEqual((await call('GET', '/v1/health/ingress/db')).body, []);
    const blocked = call('GET', `/v1/health/ingress/webui?index=${first.index}&wait=5s&passing`);
    await new Promise((r) => setTimeout(r, 150));
    await register('gw1', { ID: 'ig-1', Service: 'ig', Kind: 'ingress-gateway', Port: 8080 }, 'critical');
    const woke = await blocked;
    assert.ok(woke.index > first.index);
    assert.deepEqual(woke.body, []);
    // The config CLI below lists service-defaults: the gateway goes first, as webui's defaults cannot while it fronts webui over http.
    assert.equal((await call('DELETE', '/v1/config/ingress-gateway/ig')).status, 200);
    assert.equal((await call('DELETE', '/v1/config/service-defaults/webui')).status, 200);
  });

  test('health/connect and catalog/connect answer the terminating gateways linking a service after its proxies; a link change wakes a blocked query', async () => {
    await register('gw2', { ID: 'tg-1', Service: 'tg', Kind: 'terminating-gateway', Port: 8443 });
    const ids = (body: { Service: { ID: string } }[]) => body.map((r) => r.Service.ID);
    assert.deepEqual(ids((await call('GET', '/v1/health/connect/db')).body), ['tg-1']);
    assert.deepEqual((await call('GET', '/v1/catalog/connect/db')).body.map((r: { ServiceID: string }) => r.ServiceID), ['tg-1']);
    assert.deepEqual((await call('GET', '/v1/health/connect/api')).body, [], 'api is not linked');
    await register('n1', { ID: 'db-proxy', Service: 'db-sidecar-proxy', Kind: 'connect-proxy', Port: 21000, Proxy: { DestinationServiceName: 'db' } });
    const first = await call('GET', '/v1/health/connect/db');
    assert.deepEqual(ids(first.body), ['db-proxy', 'tg-1']);
    const blocked = call('GET', `/v1/health/connect/db?index=${first.index}&wait=5s`);
    await new Promise((r) => setTimeout(r, 150));
    // A wildcard links every typical service: api (registered above) but not db, which has only a proxy.
    await call('PUT', '/v1/config', { Kind: 'terminating-gateway', Name: 'tg', Services: [{ Name: '*' }] });
    const woke = await blocked;
    assert.ok(woke.index > first.index);
    assert.deepEqual(ids(woke.body), ['db-proxy']);
    assert.deepEqual(ids((await call('GET', '/v1/health/connect/api')).body), ['tg-1']);
  });

  test('with a wildcard link, registering a typical service wakes its blocked health/connect query with the gateway', { timeout: 20_000 }, async () => {
    // The previous test left the tg entry linking '*' and its instance tg-1.
    const first = await call('GET', '/v1/health/connect/ext');
    assert.deepEqual(first.body, []);
    const blocked = call('GET', `/v1/health/connect/ext?index=${first.index}&wait=60s`);
    await new Promise((r) => setTimeout(r, 150));
    await register('n1', { ID: 'ext-1', Service: 'ext', Port: 443 });
    const woke = await blocked;
    assert.ok(woke.index > first.index, 'the index moved');
    assert.deepEqual(woke.body.map((r: { Service: { ID: string } }) => r.Service.ID), ['tg-1']);
  });

  test('a prepared query\'s connect answer appends the terminating gateways linking its service, as health/connect does', async () => {
    const made = await call('POST', '/v1/query', { Name: 'extq', Service: { Service: 'ext' } });
    assert.equal(made.status, 200);
    const ids = (await call('GET', '/v1/query/extq/execute?connect=true')).body.Nodes.map((r: { Service: { ID: string } }) => r.Service.ID);
    assert.deepEqual(ids, ['tg-1']);
    assert.deepEqual((await call('GET', '/v1/query/extq/execute')).body.Nodes.map((r: { Service: { ID: string } }) => r.Service.ID), ['ext-1']);
  });

  test('config write/read/list/delete round trip with an HCL file', async () => {
    const { cli } = dev;
    const file = join(dir, 'web.hcl');
    writeFileSync(file, 'Kind = "service-defaults"\nName = "web"\nProtocol = "http"\nMeta {\n  owner = "team-a"\n}\n');
    assert.deepEqual(await cli(['config', 'write', file]), { code: 0, out: 'Config entry written: service-defaults/web\n', err: '' });
    const read = await cli(['config', 'read', '-kind', 'service-defaults', '-name', 'web']);
    assert.equal(read.code, 0);
    const entry = JSON.parse(read.out);
    assert.deepEqual([entry.Protocol, entry.Meta], ['http', { owner: 'team-a' }]);
    assert.ok(read.out.includes('\n    "Kind": "service-defaults"'));
    assert.deepEqual(await cli(['config', 'list', '-kind', 'service-defaults']), { code: 0, out: 'web\n', err: '' });
    assert.deepEqual(await cli(['config', 'write', '-cas', '-modify-index', '1', file]), { code: 1, out: '', err: 'Config entry not updated: service-defaults/web\n' });
    assert.deepEqual(await cli(['config', 'write', '-cas', '-modify-index', String(entry.ModifyIndex), file]), { code: 0, out: 'Config entry written: service-defaults/web\n', err: '' });
    assert.deepEqual(await cli(['config', 'delete', '-kind', 'service-defaults']), { code: 1, out: '', err: 'Must specify the -name parameter\n' });
    assert.deepEqual(await cli(['config', 'delete', '-kind', 'service-defaults', '-name', 'web']), { code: 0, out: 'Config entry deleted: service-defaults/web\n', err: '' });
    const gone = await cli(['config', 'read', '-kind', 'service-defaults', '-name', 'web']);
    assert.deepEqual([gone.code, gone.err], [1, 'Error reading config entry service-defaults/web: Unexpected response code: 404 (Config entry not found for "service-defaults" / "web")\n']);
    assert.deepEqual(await cli(['config', 'list']), { code: 1, out: '', err: 'Must specify the -kind parameter\n' });
  });
});
