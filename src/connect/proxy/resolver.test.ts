import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConsulClient } from '../../api/index.ts';
import { upstreamDefaults } from './config.ts';
import { dialTargetOf, resolveUpstream, upstreamTenancy } from './resolver.ts';

function fakeClient(entries: unknown[], seen: string[]): ConsulClient {
  return { json: async (spec: { path: string; query?: Record<string, unknown> }) => {
    seen.push(`${spec.path}?${Object.entries(spec.query ?? {}).map(([k, v]) => `${k}=${String(v)}`).join('&')}`);
    const data = spec.path.startsWith('/v1/query/') ? { Service: 'db', Nodes: entries, Datacenter: 'dc1' } : entries;
    return { data, meta: { index: 1, knownLeader: true, lastContact: 0 } };
  } } as unknown as ConsulClient;
}

test('an upstream resolves to a passing proxy\'s address and its destination\'s SPIFFE ID', async () => {
  const seen: string[] = [];
  const entries = [{
    Node: { Node: 'n1', Address: '10.0.0.1', Datacenter: 'dc2' },
    Service: { ID: 'db-sidecar-proxy', Service: 'db-sidecar-proxy', Kind: 'connect-proxy', Address: '', Port: 21000, Proxy: { DestinationServiceName: 'db' } },
  }];
  const t = await resolveUpstream(fakeClient(entries, seen), upstreamDefaults({ DestinationName: 'db' }), 'td.consul', 'dc1');
  assert.deepEqual(t, { host: '10.0.0.1', port: 21000, certUri: 'spiffe://td.consul/ns/default/dc/dc2/svc/db', sni: 'db.default.dc2.internal.td.consul' });
  assert.deepEqual(seen, ['/v1/health/connect/db?passing=true']);
});

test('a native service is dialled at its own address; no instance is an error', async () => {
  const native = [{ Node: { Node: 'n1', Address: '10.0.0.1' }, Service: { ID: 'db', Service: 'db', Address: '10.0.0.9', Port: 5432 } }];
  const t = await resolveUpstream(fakeClient(native, []), upstreamDefaults({ DestinationName: 'db' }), 'td.consul', 'dc1');
  assert.deepEqual(t, { host: '10.0.0.9', port: 5432, certUri: 'spiffe://td.consul/ns/default/dc/dc1/svc/db', sni: 'db.default.dc1.internal.td.consul' });
  await assert.rejects(resolveUpstream(fakeClient([], []), upstreamDefaults({ DestinationName: 'db' }), 'td.consul', 'dc1'), { message: 'no healthy instances found' });
});

test('a prepared-query upstream resolves from the query\'s connect answer', async () => {
  const seen: string[] = [];
  const entries = [{ Node: { Node: 'n1', Address: '10.0.0.1', Datacenter: 'dc1' }, Service: { ID: 'db', Service: 'db', Address: '', Port: 5432 } }];
  const t = await resolveUpstream(fakeClient(entries, seen), upstreamDefaults({ DestinationName: 'dbq', DestinationType: 'prepared_query' }), 'td.consul', 'dc1');
  assert.deepEqual(t, { host: '10.0.0.1', port: 5432, certUri: 'spiffe://td.consul/ns/default/dc/dc1/svc/db', sni: 'db.default.dc1.internal.td.consul' });
  assert.deepEqual(seen, ['/v1/query/dbq/execute?connect=true']);
});

test('a terminating gateway instance is dialled for the linked service: its identity and SNI, the gateway\'s address', async () => {
  const gw = [{ Node: { Node: 'n1', Address: '10.0.0.1', Datacenter: 'dc1' }, Service: { ID: 'tgw', Service: 'tgw', Kind: 'terminating-gateway', Address: '10.0.0.5', Port: 8443 } }];
  const t = await resolveUpstream(fakeClient(gw, []), upstreamDefaults({ DestinationName: 'billing' }), 'td.consul', 'dc1');
  assert.deepEqual(t, { host: '10.0.0.5', port: 8443, certUri: 'spiffe://td.consul/ns/default/dc/dc1/svc/billing', sni: 'billing.default.dc1.internal.td.consul' });
});

test('a target in another datacenter goes through a mesh gateway by the mode: local at the local gateway\'s LAN address, remote at the target datacenter\'s WAN address', async () => {
  const seen: string[] = [];
  const client = { json: async (spec: { path: string; options?: { datacenter?: string } }) => {
    const dc = spec.options?.datacenter ?? '';
    seen.push(`${spec.path}@${dc}`);
    const data = spec.path === '/v1/catalog/services' ? { mgw: [] }
      : [{ Node: { Address: '10.0.0.1' }, Service: { Kind: 'mesh-gateway', Address: '10.0.0.1', Port: 8443, TaggedAddresses: { lan: { Address: `10.${dc || 'here'}`, Port: 1 }, wan: { Address: `wan.${dc || 'here'}`, Port: 2 } } } }];
    return { data, meta: { index: 1 } };
  } } as unknown as ConsulClient;
  const want = { certUri: 'spiffe://td.consul/ns/default/dc/dc2/svc/db', sni: 'db.default.dc2.internal.td.consul' };
  const local = await resolveUpstream(client, upstreamDefaults({ DestinationName: 'db', Datacenter: 'dc2', MeshGatewayMode: 'local' }), 'td.consul', 'dc1');
  assert.deepEqual(local, { host: '10.here', port: 1, ...want });
  assert.deepEqual(seen.splice(0), ['/v1/catalog/services@', '/v1/health/service/mgw@']);
  const remote = await resolveUpstream(client, upstreamDefaults({ DestinationName: 'db', Datacenter: 'dc2', MeshGatewayMode: 'remote' }), 'td.consul', 'dc1');
  assert.deepEqual(remote, { host: 'wan.dc2', port: 2, ...want });
  assert.deepEqual(seen.splice(0), ['/v1/catalog/services@dc2', '/v1/health/service/mgw@dc2']);
  // The local datacenter's targets and mode none are dialled directly.
  for (const u of [{ Datacenter: 'dc1', MeshGatewayMode: 'local' }, { Datacenter: 'dc2', MeshGatewayMode: 'none' }]) {
    await resolveUpstream(client, upstreamDefaults({ DestinationName: 'db', ...u }), 'td.consul', 'dc1').catch(() => undefined);
    assert.equal(seen.splice(0)[0], `/v1/health/connect/db@${u.Datacenter === 'dc1' ? 'dc1' : 'dc2'}`);
  }
});

test('a terminating gateway in a prepared query\'s connect answer is dialled for the query\'s service', async () => {
  const gw = [{ Node: { Node: 'n1', Address: '10.0.0.1', Datacenter: 'dc1' }, Service: { ID: 'tgw', Service: 'tgw', Kind: 'terminating-gateway', Address: '10.0.0.5', Port: 8443 } }];
  const t = await resolveUpstream(fakeClient(gw, []), upstreamDefaults({ DestinationName: 'dbq', DestinationType: 'prepared_query' }), 'td.consul', 'dc1');
  assert.deepEqual(t, { host: '10.0.0.5', port: 8443, certUri: 'spiffe://td.consul/ns/default/dc/dc1/svc/db', sni: 'db.default.dc1.internal.td.consul' });
});

test('an upstream in another namespace reads that namespace\'s instances and expects their SPIFFE ID and SNI in it (and their partition\'s)', async () => {
  const seen: string[] = [];
  const specs: unknown[] = [];
  const entries = [{
    Node: { Node: 'n1', Address: '10.0.0.1', Datacenter: 'dc1' },
    Service: { ID: 'api-sidecar-proxy', Service: 'api-sidecar-proxy', Kind: 'connect-proxy', Address: '', Port: 21000, Namespace: 'team-b', Partition: 'default', Proxy: { DestinationServiceName: 'api' } },
  }];
  const c = fakeClient(entries, seen);
  const json = c.json.bind(c);
  (c as { json: unknown }).json = (spec: { options?: unknown }) => { specs.push(spec.options); return json(spec as never); };
  const u = upstreamDefaults({ DestinationName: 'api', DestinationNamespace: 'team-b' });
  const t = await resolveUpstream(c, u, 'td.consul', 'dc1', Math.random, undefined, { namespace: 'team-a', partition: 'default' });
  assert.deepEqual(t, { host: '10.0.0.1', port: 21000, certUri: 'spiffe://td.consul/ns/team-b/dc/dc1/svc/api', sni: 'api.team-b.dc1.internal.td.consul' });
  assert.deepEqual(specs, [{ signal: undefined, namespace: 'team-b', partition: 'default' }]);
  // A default proxy's default upstream names no tenancy (its reads are as they were); a namespaced proxy's names `default`.
  assert.deepEqual(upstreamTenancy(upstreamDefaults({ DestinationName: 'db' }), {}), {});
  assert.deepEqual(upstreamTenancy(upstreamDefaults({ DestinationName: 'db' }), { namespace: 'team-a', partition: 'default' }), { namespace: 'default', partition: 'default' });
  const inP1 = dialTargetOf({ ...entries[0], Service: { ...entries[0].Service, Partition: 'p1' } }, 'td.consul', 'dc1');
  assert.equal(inP1.certUri, 'spiffe://td.consul/ap/p1/ns/team-b/dc/dc1/svc/api');
  assert.equal(inP1.sni, 'api.team-b.p1.dc1.internal-v1.td.consul');
});
