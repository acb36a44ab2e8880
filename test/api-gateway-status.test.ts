// The API gateway controller a leader runs (Consul's controller_gateways.go): the Status of
// api-gateway, http-route and tcp-route entries and the bound-api-gateway entry, re-settled on
// every change; a user's write cannot set Status.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startDevAgent, type DevAgent } from './support/agent.ts';
import { waitFor } from './support/wait.ts';

let a: DevAgent;

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await a.agent.http.handle({ method, url: path, headers: {}, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = res.body.toString('utf8');
  let json: unknown;
  try { json = JSON.parse(text); } catch { json = text; }
  return { status: res.status, json };
}

const put = async (body: unknown) => assert.equal((await call('PUT', '/v1/config', body)).status, 200);
const get = async (kind: string, name: string) => (await call('GET', `/v1/config/${kind}/${name}`)).json;
type Cond = { Type: string; Status: string; Reason: string; Message: string; Resource: { Kind: string; Name: string; SectionName: string }; LastTransitionTime: string };
const brief = (c: Cond[] | null) => (c ?? []).map((x) => `${x.Type}/${x.Status}/${x.Reason}/${x.Resource.Kind}:${x.Resource.Name}:${x.Resource.SectionName}/${x.Message}`).sort();

/** Waits until the entry's conditions read `want` (sorted briefs). */
async function conditions(kind: string, name: string, want: string[]): Promise<Cond[]> {
  let last: Cond[] | null = null;
  try {
    await waitFor(`${kind}/${name} conditions`, async () => {
      last = (await get(kind, name))?.Status?.Conditions ?? null;
      return JSON.stringify(brief(last)) === JSON.stringify([...want].sort());
    });
  } catch (err) {
    assert.deepEqual(brief(last), [...want].sort(), (err as Error).message);
  }
  return last!;
}

before(async () => {
  a = await startDevAgent({ deps: { shutdown: () => {} } });
  await put({ Kind: 'proxy-defaults', Name: 'global', Config: { protocol: 'http' } });
  await put({ Kind: 'service-defaults', Name: 'db', Protocol: 'tcp' });
});
after(() => a.stop());

test('a gateway, its routes and the bound entry get Consul\'s conditions', async () => {
  await put({
    Kind: 'api-gateway', Name: 'gw',
    Listeners: [{ Name: 'web', Port: 8080, Protocol: 'http' }, { Name: 'raw', Port: 9090, Protocol: 'tcp' }],
  });
  await put({ Kind: 'http-route', Name: 'r1', Parents: [{ Name: 'gw' }], Rules: [{ Services: [{ Name: 'web' }] }] });
  await put({ Kind: 'tcp-route', Name: 't1', Parents: [{ Name: 'gw', SectionName: 'raw' }], Services: [{ Name: 'db' }] });
  await put({ Kind: 'http-route', Name: 'lost', Parents: [{ Name: 'nowhere' }], Rules: [{ Services: [{ Name: 'web' }] }] });
  const gw = await conditions('api-gateway', 'gw', [
    'Accepted/True/Accepted/::/gateway is valid',
    'ResolvedRefs/True/ResolvedRefs/api-gateway:gw:web/resolved refs',
    'ResolvedRefs/True/ResolvedRefs/api-gateway:gw:raw/resolved refs',
    'Conflicted/False/NoConflict/api-gateway:gw:web/listener has no route conflicts',
    'Conflicted/False/NoConflict/api-gateway:gw:raw/listener has no route conflicts',
  ]);
  assert.match(gw[0].LastTransitionTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  await conditions('http-route', 'r1', ['Accepted/True/Accepted/::/route is valid', 'Bound/True/Bound/api-gateway:gw:/successfully bound route']);
  await conditions('tcp-route', 't1', ['Accepted/True/Accepted/::/route is valid', 'Bound/True/Bound/api-gateway:gw:raw/successfully bound route']);
  await conditions('http-route', 'lost', ['Accepted/True/Accepted/::/route is valid', 'Bound/False/GatewayNotFound/api-gateway:nowhere:/gateway was not found']);
  const bound = await get('bound-api-gateway', 'gw');
  assert.deepEqual(
    { Kind: bound.Kind, Name: bound.Name, Listeners: bound.Listeners, Services: bound.Services },
    {
      Kind: 'bound-api-gateway', Name: 'gw',
      Listeners: [
        { Name: 'web', Routes: [{ Kind: 'http-route', Name: 'r1', SectionName: '' }], Certificates: null },
        { Name: 'raw', Routes: [{ Kind: 'tcp-route', Name: 't1', SectionName: '' }], Certificates: null },
      ],
      Services: { web: [{ Kind: 'http-route', Name: 'r1', SectionName: '' }], db: [{ Kind: 'tcp-route', Name: 't1', SectionName: '' }] },
    },
  );
});

test('a status write bumps ModifyIndex only; a user write keeps the stored Status and cannot set one', async () => {
  await put({ Kind: 'http-route', Name: 'keep', Parents: [{ Name: 'gw', SectionName: 'web' }], Rules: [{ Services: [{ Name: 'web' }] }] });
  await conditions('http-route', 'keep', ['Accepted/True/Accepted/::/route is valid', 'Bound/True/Bound/api-gateway:gw:web/successfully bound route']);
  const before = await get('http-route', 'keep');
  assert.ok(before.ModifyIndex > before.CreateIndex, 'the controller\'s write moved ModifyIndex');
  await put({
    Kind: 'http-route', Name: 'keep', Parents: [{ Name: 'gw', SectionName: 'web' }], Rules: [{ Services: [{ Name: 'web' }] }],
    Status: { Conditions: [{ Type: 'Accepted', Status: 'False', Reason: 'Mine', Message: 'set by hand' }] },
  });
  const after = await get('http-route', 'keep');
  assert.deepEqual(after.Status, before.Status);
  assert.equal(after.CreateIndex, before.CreateIndex);
  // A new entry's user Status is dropped too (Consul's DefaultStatus), until the controller writes its own.
  await put({ Kind: 'tcp-route', Name: 'fresh', Parents: [{ Name: 'gw' }], Services: [{ Name: 'db' }], Status: { Conditions: [{ Type: 'X' }] } });
  await conditions('tcp-route', 'fresh', ['Accepted/True/Accepted/::/route is valid', 'Bound/True/Bound/api-gateway:gw:/successfully bound route']);
});

test('a second tcp route conflicts its listener; a missing certificate unaccepts the gateway; a deleted gateway takes its bound entry', async () => {
  await put({ Kind: 'tcp-route', Name: 't2', Parents: [{ Name: 'gw', SectionName: 'raw' }], Services: [{ Name: 'db' }] });
  await conditions('api-gateway', 'gw', [
    'Accepted/True/Accepted/::/gateway is valid',
    'ResolvedRefs/True/ResolvedRefs/api-gateway:gw:web/resolved refs',
    'ResolvedRefs/True/ResolvedRefs/api-gateway:gw:raw/resolved refs',
    'Conflicted/False/NoConflict/api-gateway:gw:web/listener has no route conflicts',
    'Conflicted/True/RouteConflict/api-gateway:gw:raw/TCP-based listeners currently only support binding a single route',
  ]);
  await put({ Kind: 'api-gateway', Name: 'tls', Listeners: [{ Name: 'l', Port: 8443, Protocol: 'http', TLS: { Certificates: [{ Name: 'missing' }] } }] });
  await put({ Kind: 'http-route', Name: 'to-tls', Parents: [{ Name: 'tls' }], Rules: [{ Services: [{ Name: 'web' }] }] });
  await conditions('api-gateway', 'tls', [
    'Accepted/False/InvalidCertificates/::/gateway references invalid certificates',
    'ResolvedRefs/False/InvalidCertificateRef/api-gateway:tls:l/certificate "missing" not found',
    'Conflicted/False/NoConflict/api-gateway:tls:l/listener has no route conflicts',
  ]);
  await conditions('http-route', 'to-tls', ['Accepted/True/Accepted/::/route is valid', 'Bound/False/FailedToBind/api-gateway:tls:/failed to bind route to gateway tls: gateway has not been accepted']);
  assert.equal((await call('DELETE', '/v1/config/api-gateway/tls')).status, 200);
  await waitFor('bound entry gone', async () => (await call('GET', '/v1/config/bound-api-gateway/tls')).status === 404);
  await conditions('http-route', 'to-tls', ['Accepted/True/Accepted/::/route is valid', 'Bound/False/GatewayNotFound/api-gateway:tls:/gateway was not found']);
});

test("a route whose backend's chain protocol is not the route's is not accepted, so not bound (Consul's InvalidDiscoveryChain)", async () => {
  await put({ Kind: 'http-route', Name: 'to-db', Parents: [{ Name: 'gw' }], Rules: [{ Services: [{ Name: 'db' }] }] });
  await put({ Kind: 'tcp-route', Name: 'to-web', Parents: [{ Name: 'gw' }], Services: [{ Name: 'web' }] });
  const refused = 'Accepted/False/InvalidDiscoveryChain/::/route protocol does not match targeted service protocol';
  await conditions('http-route', 'to-db', [refused, 'Bound/False/FailedToBind/api-gateway:gw:/failed to bind route to gateway gw: route has not been accepted']);
  await conditions('tcp-route', 'to-web', [refused, 'Bound/False/FailedToBind/api-gateway:gw:/failed to bind route to gateway gw: route has not been accepted']);
  const bound = await get('bound-api-gateway', 'gw');
  const routes = bound.Listeners.flatMap((l: { Routes: { Name: string }[] | null }) => (l.Routes ?? []).map((r) => r.Name));
  assert.ok(!routes.includes('to-db') && !routes.includes('to-web'), JSON.stringify(routes));
  // http2 and grpc backends suit an http-route.
  await put({ Kind: 'service-defaults', Name: 'db', Protocol: 'grpc' });
  await conditions('http-route', 'to-db', ['Accepted/True/Accepted/::/route is valid', 'Bound/True/Bound/api-gateway:gw:/successfully bound route']);
  await put({ Kind: 'service-defaults', Name: 'db', Protocol: 'tcp' });
});

test('catalog/gateway-services lists the services behind an API gateway once their routes bind, with GatewayKind api-gateway', async () => {
  await put({ Kind: 'api-gateway', Name: 'gs', Listeners: [{ Name: 'h', Port: 8081, Protocol: 'http' }, { Name: 't', Port: 9091, Protocol: 'tcp' }] });
  const rows = async () => (await call('GET', '/v1/catalog/gateway-services/gs')).json as { Service: { Name: string } }[];
  await conditions('api-gateway', 'gs', [
    'Accepted/True/Accepted/::/gateway is valid',
    'ResolvedRefs/True/ResolvedRefs/api-gateway:gs:h/resolved refs', 'ResolvedRefs/True/ResolvedRefs/api-gateway:gs:t/resolved refs',
    'Conflicted/False/NoConflict/api-gateway:gs:h/listener has no route conflicts', 'Conflicted/False/NoConflict/api-gateway:gs:t/listener has no route conflicts',
  ]);
  assert.deepEqual(await rows(), []);
  await put({ Kind: 'http-route', Name: 'hr', Parents: [{ Name: 'gs' }], Hostnames: ['web.example.com'], Rules: [{ Services: [{ Name: 'web' }] }] });
  await put({ Kind: 'tcp-route', Name: 'tr', Parents: [{ Name: 'gs' }], Services: [{ Name: 'db' }] });
  await waitFor('both services linked', async () => (await rows()).length === 2);
  const bound = await get('bound-api-gateway', 'gs');
  const idx = { CreateIndex: bound.CreateIndex, ModifyIndex: bound.ModifyIndex };
  assert.deepEqual(await rows(), [
    { Gateway: { Name: 'gs' }, Service: { Name: 'db' }, GatewayKind: 'api-gateway', Port: 9091, Protocol: 'tcp', ...idx },
    { Gateway: { Name: 'gs' }, Service: { Name: 'web' }, GatewayKind: 'api-gateway', Port: 8081, Protocol: 'http', Hosts: ['web.example.com'], ...idx },
  ]);
  assert.equal((await call('DELETE', '/v1/config/tcp-route/tr')).status, 200);
  await waitFor('db unlinked', async () => (await rows()).length === 1);
});

test('in a namespace, a gateway and its routes are settled there', async () => {
  assert.equal((await call('PUT', '/v1/namespace', { Name: 'team' })).status, 200);
  for (const body of [
    { Kind: 'service-defaults', Name: 'api', Protocol: 'http' },
    { Kind: 'api-gateway', Name: 'gw', Listeners: [{ Name: 'web', Port: 8082, Protocol: 'http' }] },
    { Kind: 'http-route', Name: 'r', Parents: [{ Name: 'gw' }], Rules: [{ Services: [{ Name: 'api' }] }] },
  ]) assert.equal((await call('PUT', '/v1/config?ns=team', body)).status, 200);
  await waitFor('team route bound', async () => {
    const c = (await call('GET', '/v1/config/http-route/r?ns=team')).json?.Status?.Conditions ?? [];
    return JSON.stringify(brief(c)) === JSON.stringify(['Accepted/True/Accepted/::/route is valid', 'Bound/True/Bound/api-gateway:gw:/successfully bound route']);
  });
  const bound = (await call('GET', '/v1/config/bound-api-gateway/gw?ns=team')).json;
  assert.deepEqual(bound.Listeners, [{ Name: 'web', Routes: [{ Kind: 'http-route', Name: 'r', SectionName: '' }], Certificates: null }]);
  assert.equal(bound.Namespace, 'team');
  // The default namespace's gateway of the same name is not touched by team's route.
  const dflt = await get('bound-api-gateway', 'gw');
  assert.ok(!dflt.Listeners.some((l: { Routes: { Name: string }[] | null }) => (l.Routes ?? []).some((r) => r.Name === 'r')));
  // catalog/gateway-services in the namespace lists what the gateway there routes to, names carrying the tenancy.
  const links = (await call('GET', '/v1/catalog/gateway-services/gw?ns=team')).json;
  const tenancy = { Namespace: 'team', Partition: 'default' };
  assert.deepEqual(links, [{
    Gateway: { Name: 'gw', ...tenancy }, Service: { Name: 'api', ...tenancy }, GatewayKind: 'api-gateway', Port: 8082, Protocol: 'http',
    CreateIndex: bound.CreateIndex, ModifyIndex: bound.ModifyIndex,
  }]);
});

test("a replicated write keeps this datacenter's Status, as a user's write does (the primary's is its own controller's)", async () => {
  await put({ Kind: 'http-route', Name: 'repl', Parents: [{ Name: 'gw', SectionName: 'web' }], Rules: [{ Services: [{ Name: 'web' }] }] });
  await conditions('http-route', 'repl', ['Accepted/True/Accepted/::/route is valid', 'Bound/True/Bound/api-gateway:gw:web/successfully bound route']);
  const local = await get('http-route', 'repl');
  const primary = { Kind: 'X', Status: 'False', Reason: 'Primary', Message: 'the primary datacenter judged this', Resource: { Kind: '', Name: '', SectionName: '' }, LastTransitionTime: '2020-01-01T00:00:00Z' };
  await a.agent.endpoints.configEntries.putReplicated({
    Kind: 'http-route', Name: 'repl', Parents: [{ Name: 'gw', SectionName: 'web' }], Rules: [{ Services: [{ Name: 'web' }] }], Hostnames: ['from.primary'],
    Status: { Conditions: [{ ...primary, Type: 'Accepted' }] }, CreateIndex: 3, ModifyIndex: 4,
  } as never);
  const after = await get('http-route', 'repl');
  assert.deepEqual(after.Hostnames, ['from.primary']);
  assert.deepEqual(after.Status, local.Status);
  // A new entry starts without one, until this datacenter's controller writes its own.
  await a.agent.endpoints.configEntries.putReplicated({
    Kind: 'tcp-route', Name: 'repl-new', Parents: [{ Name: 'gw', SectionName: 'raw' }], Services: [{ Name: 'db' }],
    Status: { Conditions: [{ ...primary, Type: 'Accepted' }] }, CreateIndex: 5, ModifyIndex: 5,
  } as never);
  const fresh = (await get('tcp-route', 'repl-new')).Status?.Conditions ?? [];
  assert.ok(!fresh.some((c: Cond) => c.Reason === 'Primary'), JSON.stringify(fresh));
});
