// Config entries and intentions in namespaces and admin partitions (Consul Enterprise's ?ns= /
// ?partition= / body Namespace and Partition on /v1/config): namespaced kinds are per namespace,
// partition-level kinds (proxy-defaults, mesh, exported-services, sameness-group) always live in
// their partition's default namespace, `ns=*` lists every namespace, writes into a missing namespace
// are refused, and ACL namespace blocks govern entries inside their namespace.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startAclAgent, httpCaller, tokenWithRules, ROOT, type HttpCall } from './support/acl.ts';
import type { DevAgent } from './support/agent.ts';
import { seedTenants } from './support/tenancy.ts';
import { capture } from './fixtures/config-golden.make.ts';
import fs from 'node:fs';

describe('config entries in namespaces', () => {
  let dev: DevAgent;
  let call: HttpCall;
  before(async () => {
    dev = await startAclAgent();
    call = httpCaller(() => dev.httpAddr);
    await seedTenants(dev.agent.store, ['team-a', 'team-b', 'ap1/default', 'ap1/team-a'], ['ap1']);
  });
  after(() => dev.stop());

  const storeKeys = async (): Promise<string[]> => (await dev.agent.store.range('')).kvs.map((kv) => kv.key);

  test('service-defaults of the same name in two namespaces and the default one are independent', async () => {
    assert.equal((await call('PUT', '/v1/config', ROOT, { Kind: 'service-defaults', Name: 'web', Protocol: 'http' })).text, 'true');
    assert.equal((await call('PUT', '/v1/config?ns=team-a', ROOT, { Kind: 'service-defaults', Name: 'web', Protocol: 'grpc' })).text, 'true');
    // The body's Namespace wins over the query's.
    const body = await call('PUT', '/v1/config?ns=team-a', ROOT, { Kind: 'service-defaults', Name: 'web', Namespace: 'team-b', Protocol: 'tcp' });
    assert.equal(body.text, 'true');

    const plain = await call('GET', '/v1/config/service-defaults/web', ROOT);
    assert.equal(plain.json.Protocol, 'http');
    assert.ok(!('Namespace' in plain.json), 'a CE request sees no tenancy fields');
    const a = await call('GET', '/v1/config/service-defaults/web?ns=team-a', ROOT);
    assert.equal(a.json.Protocol, 'grpc');
    assert.deepEqual([a.json.Namespace, a.json.Partition], ['team-a', 'default']);
    const keys = Object.keys(a.json);
    assert.deepEqual(keys.slice(-4), ['Namespace', 'Partition', 'CreateIndex', 'ModifyIndex']);
    assert.equal((await call('GET', '/v1/config/service-defaults/web?ns=team-b', ROOT)).json.Protocol, 'tcp');
    const named = await call('GET', '/v1/config/service-defaults/web?ns=default', ROOT);
    assert.deepEqual([named.json.Protocol, named.json.Namespace, named.json.Partition], ['http', 'default', 'default']);

    const stored = await storeKeys();
    assert.ok(stored.includes('config/service-defaults/web'));
    assert.ok(stored.includes('t/default/team-a/config/service-defaults/web'));
    assert.ok(stored.includes('t/default/team-b/config/service-defaults/web'));

    // ns=* lists every namespace of the partition, in namespace order.
    const all = await call('GET', '/v1/config/service-defaults?ns=*', ROOT);
    assert.deepEqual(all.json.map((e: any) => [e.Namespace, e.Name, e.Protocol]), [
      ['default', 'web', 'http'], ['team-a', 'web', 'grpc'], ['team-b', 'web', 'tcp'],
    ]);
    // A plain list stays the default namespace's, without tenancy fields.
    const list = await call('GET', '/v1/config/service-defaults', ROOT);
    assert.deepEqual(list.json.map((e: any) => [e.Name, 'Namespace' in e]), [['web', false]]);

    assert.equal((await call('DELETE', '/v1/config/service-defaults/web?ns=team-b', ROOT)).status, 200);
    assert.equal((await call('GET', '/v1/config/service-defaults/web?ns=team-b', ROOT)).status, 404);
    assert.equal((await call('GET', '/v1/config/service-defaults/web?ns=team-a', ROOT)).status, 200);
  });

  test('partition-level kinds are forced to the default namespace of their partition', async () => {
    const put = await call('PUT', '/v1/config?ns=team-a', ROOT, { Kind: 'proxy-defaults', Name: 'global', Config: { protocol: 'http' } });
    assert.equal(put.text, 'true');
    const stored = await storeKeys();
    assert.ok(stored.includes('config/proxy-defaults/global'), 'stored in the default namespace');
    assert.ok(!stored.some((k) => k.startsWith('t/default/team-a/config/proxy-defaults')));
    // Read from any namespace of the partition.
    const got = await call('GET', '/v1/config/proxy-defaults/global?ns=team-b', ROOT);
    assert.equal(got.status, 200);
    assert.deepEqual([got.json.Namespace, got.json.Partition], ['default', 'default']);

    // In another partition: its own default namespace.
    assert.equal((await call('PUT', '/v1/config?partition=ap1&ns=team-a', ROOT, { Kind: 'mesh', TransparentProxy: { MeshDestinationsOnly: true } })).text, 'true');
    assert.ok((await storeKeys()).includes('t/ap1/default/config/mesh/mesh'));
    const mesh = await call('GET', '/v1/config/mesh/mesh?partition=ap1', ROOT);
    assert.deepEqual([mesh.json.TransparentProxy.MeshDestinationsOnly, mesh.json.Namespace, mesh.json.Partition], [true, 'default', 'ap1']);
    assert.equal((await call('GET', '/v1/config/mesh/mesh', ROOT)).status, 404, 'the default partition has none');

    // exported-services is named after its partition.
    const wrong = await call('PUT', '/v1/config?partition=ap1', ROOT, { Kind: 'exported-services', Name: 'default', Services: [{ Name: 'web', Consumers: [{ Peer: 'x' }] }] });
    assert.equal(wrong.status, 500);
    assert.equal(wrong.text, 'exported-services Name must be "ap1"');
    const ok = await call('PUT', '/v1/config?partition=ap1', ROOT, { Kind: 'exported-services', Name: 'ap1', Services: [{ Name: 'web', Consumers: [{ Peer: 'x' }] }] });
    assert.equal(ok.text, 'true');
    assert.ok((await storeKeys()).includes('t/ap1/default/config/exported-services/ap1'));
  });

  test('writes into a missing namespace are refused; wildcard writes are 400', async () => {
    const missing = await call('PUT', '/v1/config?ns=nope', ROOT, { Kind: 'service-defaults', Name: 'web' });
    assert.deepEqual([missing.status, missing.text], [500, 'Namespace "nope" does not exist']);
    const wild = await call('DELETE', '/v1/config/service-defaults/web?ns=*', ROOT);
    assert.deepEqual([wild.status, wild.text], [400, 'Invalid namespace: wildcard "*" is not allowed for this request']);
  });

  test('a blocking read in one namespace is not woken by a write in another', async () => {
    const first = await call('GET', '/v1/config/service-router?ns=team-a', ROOT);
    const index = first.headers.get('x-consul-index');
    const started = call('GET', `/v1/config/service-router?ns=team-a&index=${index}&wait=2s`, ROOT);
    let woken = false;
    void started.then(() => { woken = true; });
    await call('PUT', '/v1/config?ns=team-b', ROOT, { Kind: 'service-defaults', Name: 'other', Protocol: 'http' });
    await call('PUT', '/v1/config', ROOT, { Kind: 'service-defaults', Name: 'other', Protocol: 'http' });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(woken, false);
    await call('PUT', '/v1/config?ns=team-a', ROOT, { Kind: 'service-defaults', Name: 'api', Protocol: 'http' });
    await call('PUT', '/v1/config?ns=team-a', ROOT, { Kind: 'service-router', Name: 'api', Routes: [] });
    const res = await started;
    assert.equal(res.json.length, 1);
    assert.equal(res.json[0].Name, 'api');
  });

  test('ACL namespace blocks govern entries in their namespace', async () => {
    const tok = await tokenWithRules(call, 'namespace "team-a" { service_prefix "" { policy = "write" } }');
    assert.equal((await call('PUT', '/v1/config?ns=team-a', tok.SecretID, { Kind: 'service-defaults', Name: 'db', Protocol: 'tcp' })).text, 'true');
    const denied = await call('PUT', '/v1/config?ns=team-b', tok.SecretID, { Kind: 'service-defaults', Name: 'db', Protocol: 'tcp' });
    assert.equal(denied.status, 403);
    const denyDefault = await call('PUT', '/v1/config', tok.SecretID, { Kind: 'service-defaults', Name: 'db', Protocol: 'tcp' });
    assert.equal(denyDefault.status, 403);
    const all = await call('GET', '/v1/config/service-defaults?ns=*', tok.SecretID);
    assert.ok(all.json.length > 0);
    assert.ok(all.json.every((e: any) => e.Namespace === 'team-a'), JSON.stringify(all.json));
    assert.equal(all.headers.get('x-consul-results-filtered-by-acls'), 'true');
  });

  test('intentions live in the destination\'s namespace and name sources in any namespace', async () => {
    // Exact write: a bare name is in the request's namespace.
    const put = await call('PUT', '/v1/connect/intentions/exact?source=team-a/web&destination=db&ns=team-b', ROOT, { Action: 'deny' });
    assert.deepEqual([put.status, put.text], [200, 'true']);
    assert.ok((await storeKeys()).includes('t/default/team-b/config/service-intentions/db'));
    const entry = await call('GET', '/v1/config/service-intentions/db?ns=team-b', ROOT);
    assert.deepEqual(entry.json.Sources.map((x: any) => [x.Name, x.Namespace, x.Partition, x.Precedence]), [['web', 'team-a', 'default', 9]]);
    assert.equal((await call('GET', '/v1/config/service-intentions/db', ROOT)).status, 404, 'nothing in the default namespace');

    const list = await call('GET', '/v1/connect/intentions?ns=team-b', ROOT);
    assert.deepEqual(list.json.map((i: any) => [i.SourceNS, i.SourceName, i.DestinationNS, i.DestinationName, i.Action, i.Precedence]), [
      ['team-a', 'web', 'team-b', 'db', 'deny', 9],
    ]);
    assert.deepEqual((await call('GET', '/v1/connect/intentions', ROOT)).json, [], 'the default namespace lists its own');
    const all = await call('GET', '/v1/connect/intentions?ns=*', ROOT);
    assert.equal(all.json.length, 1);

    // Check: the deny applies to team-a's web only; the default namespace's web falls to the default (allow for a management token).
    assert.deepEqual((await call('GET', '/v1/connect/intentions/check?source=team-a/web&destination=team-b/db', ROOT)).json, { Allowed: false });
    assert.deepEqual((await call('GET', '/v1/connect/intentions/check?source=web&destination=db&ns=team-b', ROOT)).json, { Allowed: true });
    assert.deepEqual((await call('GET', '/v1/connect/intentions/check?source=team-a/web&destination=db', ROOT)).json, { Allowed: true });

    // Match by source finds it from the source's namespace, by destination from the destination's.
    const bySource = await call('GET', '/v1/connect/intentions/match?by=source&name=team-a/web', ROOT);
    assert.deepEqual(bySource.json['team-a/web'].map((i: any) => i.DestinationNS), ['team-b']);
    assert.deepEqual((await call('GET', '/v1/connect/intentions/match?by=source&name=web', ROOT)).json, { web: [] });
    const byDest = await call('GET', '/v1/connect/intentions/match?by=destination&name=db&ns=team-b', ROOT);
    assert.equal(byDest.json.db.length, 1);

    // A wildcard source namespace: */* has precedence 7 under an exact destination, and sorts after exact sources.
    assert.equal((await call('PUT', '/v1/connect/intentions/exact?source=*/*&destination=team-b/db', ROOT, { Action: 'allow' })).text, 'true');
    const ranked = await call('GET', '/v1/connect/intentions?ns=team-b', ROOT);
    assert.deepEqual(ranked.json.map((i: any) => [i.SourceNS, i.SourceName, i.Precedence]), [['team-a', 'web', 9], ['*', '*', 7]]);
    assert.deepEqual((await call('GET', '/v1/connect/intentions/check?source=team-c/x&destination=team-b/db', ROOT)).json, { Allowed: true });

    // Exact get and delete in the destination's namespace.
    const got = await call('GET', '/v1/connect/intentions/exact?source=team-a/web&destination=db&ns=team-b', ROOT);
    assert.deepEqual([got.status, got.json.SourceNS, got.json.DestinationNS, got.json.DestinationPartition], [200, 'team-a', 'team-b', 'default']);
    assert.equal((await call('GET', '/v1/connect/intentions/exact?source=web&destination=db&ns=team-b', ROOT)).status, 404);
    assert.equal((await call('DELETE', '/v1/connect/intentions/exact?source=team-a/web&destination=team-b/db', ROOT)).text, 'true');
    assert.deepEqual((await call('GET', '/v1/connect/intentions?ns=team-b', ROOT)).json.map((i: any) => i.SourceNS), ['*']);
  });

  test('intention wildcard rules: */name and partition wildcards refused with Consul\'s texts', async () => {
    const exactAfterWild = await call('PUT', '/v1/config?ns=team-a', ROOT, { Kind: 'service-intentions', Name: 'db', Sources: [{ Name: 'web', Namespace: '*', Action: 'allow' }] });
    assert.deepEqual([exactAfterWild.status, exactAfterWild.text], [500, 'Sources[0].Name: exact value cannot follow wildcard namespace']);
    const apWild = await call('PUT', '/v1/config?ns=team-a', ROOT, { Kind: 'service-intentions', Name: 'db', Sources: [{ Name: 'web', Partition: '*', Action: 'allow' }] });
    assert.deepEqual([apWild.status, apWild.text], [500, "Sources[0].Partition: cannot use wildcard '*' in partition"]);
    const viaExact = await call('PUT', '/v1/connect/intentions/exact?source=*/web&destination=db&ns=team-a', ROOT, { Action: 'allow' });
    assert.deepEqual([viaExact.status, viaExact.text], [500, 'Sources[0].Name: exact value cannot follow wildcard namespace']);
  });

  test('discovery chains resolve per namespace: targets svc.ns.ap.dc, namespaced defaults and resolvers, redirects across namespaces', async () => {
    // team-a's api speaks http through its own service-defaults; the default namespace's api stays tcp.
    assert.equal((await call('PUT', '/v1/config?ns=team-a', ROOT, { Kind: 'service-defaults', Name: 'pay', Protocol: 'http' })).text, 'true');
    const a = await call('GET', '/v1/discovery-chain/pay?ns=team-a', ROOT);
    assert.equal(a.status, 200, a.text);
    assert.deepEqual([a.json.Chain.ServiceName, a.json.Chain.Namespace, a.json.Chain.Partition, a.json.Chain.Protocol], ['pay', 'team-a', 'default', 'http']);
    assert.deepEqual(Object.keys(a.json.Chain.Targets), ['pay.team-a.default.dc1']);
    const target = a.json.Chain.Targets['pay.team-a.default.dc1'];
    assert.deepEqual([target.Namespace, target.Partition], ['team-a', 'default']);
    assert.match(target.SNI, /^pay\.team-a\.dc1\.internal\./);
    assert.equal((await call('PUT', '/v1/config', ROOT, { Kind: 'service-defaults', Name: 'pay', Protocol: 'grpc' })).text, 'true');
    const plain = await call('GET', '/v1/discovery-chain/pay', ROOT);
    assert.deepEqual([plain.json.Chain.Namespace, plain.json.Chain.Protocol, Object.keys(plain.json.Chain.Targets)], ['default', 'grpc', ['pay.default.default.dc1']]);
    assert.equal((await call('GET', '/v1/discovery-chain/pay?ns=team-a', ROOT)).json.Chain.Protocol, 'http');

    // A resolver in team-a redirecting to team-b's service: the target is in team-b, read with team-b's resolver.
    assert.equal((await call('PUT', '/v1/config?ns=team-b', ROOT, { Kind: 'service-defaults', Name: 'ledger', Protocol: 'http' })).text, 'true');
    assert.equal((await call('PUT', '/v1/config?ns=team-b', ROOT, { Kind: 'service-resolver', Name: 'ledger', ConnectTimeout: '7s' })).text, 'true');
    const redirect = await call('PUT', '/v1/config?ns=team-a', ROOT, { Kind: 'service-resolver', Name: 'pay', Redirect: { Service: 'ledger', Namespace: 'team-b' } });
    assert.equal(redirect.text, 'true', redirect.text);
    const r = await call('GET', '/v1/discovery-chain/pay?ns=team-a', ROOT);
    assert.deepEqual(Object.keys(r.json.Chain.Targets), ['ledger.team-b.default.dc1']);
    assert.equal(r.json.Chain.Nodes['resolver:ledger.team-b.default.dc1'].Resolver.ConnectTimeout, '7s');
    // The default namespace's chain is untouched.
    assert.deepEqual(Object.keys((await call('GET', '/v1/discovery-chain/pay', ROOT)).json.Chain.Targets), ['pay.default.default.dc1']);

    // A router in the default namespace sending a path to team-a's service.
    assert.equal((await call('PUT', '/v1/config', ROOT, { Kind: 'service-defaults', Name: 'front', Protocol: 'http' })).text, 'true');
    const router = await call('PUT', '/v1/config', ROOT, {
      Kind: 'service-router', Name: 'front', Routes: [{ Match: { HTTP: { PathPrefix: '/pay' } }, Destination: { Service: 'pay', Namespace: 'team-a' } }],
    });
    assert.equal(router.text, 'true', router.text);
    const f = await call('GET', '/v1/discovery-chain/front', ROOT);
    assert.equal(f.status, 200, f.text);
    assert.deepEqual(Object.keys(f.json.Chain.Targets).sort(), ['front.default.default.dc1', 'ledger.team-b.default.dc1']);

    // A write in team-b that would break team-a's chain (redirected into team-b) is refused with the compiler's text.
    const breaking = await call('PUT', '/v1/config?ns=team-b', ROOT, { Kind: 'service-defaults', Name: 'ledger', Protocol: 'tcp' });
    assert.deepEqual([breaking.status, breaking.text], [500, 'discovery chain "pay" uses inconsistent protocols; service "ledger" has "tcp" which is not "http"']);
    assert.equal((await call('GET', '/v1/config/service-defaults/ledger?ns=team-b', ROOT)).json.Protocol, 'http');
  });

  test('central service config resolves per namespace: the namespace\'s service-defaults, upstreams in their own namespaces', async () => {
    for (const [ns, name, protocol] of [['team-a', 'rs-web', 'grpc'], ['team-a', 'rs-db', 'http2'], ['team-b', 'rs-db', 'tcp'], ['', 'rs-db', 'http']]) {
      assert.equal((await call('PUT', `/v1/config${ns ? `?ns=${ns}` : ''}`, ROOT, { Kind: 'service-defaults', Name: name, Protocol: protocol })).text, 'true');
    }
    const { configEntries } = dev.agent.endpoints;
    const opts = { minIndex: 0, waitMs: 1000, consistency: 'default' as const, token: '', authz: undefined };
    const upstreams = [{ ServiceName: { Name: 'rs-db' } }, { ServiceName: { Name: 'rs-db', Namespace: 'team-b' } }, { ServiceName: { Name: 'rs-db', Namespace: 'default' } }];
    const r = await configEntries.resolveServiceConfig({ Name: 'rs-web', Namespace: 'team-a', UpstreamServiceNames: upstreams }, opts);
    assert.equal(r.value.ProxyConfig?.protocol, 'grpc');
    const protocolOf = (ns?: string) => r.value.UpstreamConfigs?.find((u) => u.Upstream.ServiceName.Name === 'rs-db' && u.Upstream.ServiceName.Namespace === ns)?.Config.protocol;
    assert.deepEqual([protocolOf('team-a'), protocolOf('team-b'), protocolOf('default')], ['http2', 'tcp', 'http']);
    // The default namespace's registration of the same name has no service-defaults: proxy-defaults' protocol.
    const plain = await configEntries.resolveServiceConfig({ Name: 'rs-web' }, opts);
    assert.equal(plain.value.ProxyConfig?.protocol, 'http');

    // A sidecar registered on the agent in team-a gets team-a's defaults, its bare upstream team-a's.
    const reg = await call('PUT', '/v1/agent/service/register?ns=team-a', ROOT, {
      Name: 'rs-web-sidecar-proxy', Kind: 'connect-proxy', Port: 21000,
      Proxy: { DestinationServiceName: 'rs-web', DestinationServiceID: 'rs-web', Upstreams: [{ DestinationName: 'rs-db', LocalBindPort: 9191 }] },
    });
    assert.equal(reg.status, 200, reg.text);
    const svc = await call('GET', '/v1/agent/service/rs-web-sidecar-proxy?ns=team-a', ROOT);
    assert.equal(svc.status, 200, svc.text);
    assert.equal(svc.json.Proxy.Config?.protocol, 'grpc', JSON.stringify(svc.json.Proxy));
    assert.equal(svc.json.Proxy.Upstreams[0].Config?.protocol, 'http2', JSON.stringify(svc.json.Proxy.Upstreams));
    assert.equal((await call('PUT', '/v1/agent/service/deregister/rs-web-sidecar-proxy?ns=team-a', ROOT)).status, 200);
  });

  test('the ID-based (legacy) intention API takes SourceNS/DestinationNS, empty ones from ?ns=', async () => {
    const created = await call('POST', '/v1/connect/intentions?ns=team-a', ROOT, { SourceName: 'lg-web', SourceNS: 'team-b', DestinationName: 'lg-db', Action: 'allow' });
    assert.equal(created.status, 200, created.text);
    const id = created.json.ID as string;
    assert.ok((await storeKeys()).includes('t/default/team-a/config/service-intentions/lg-db'));
    const got = await call('GET', `/v1/connect/intentions/${id}`, ROOT);
    assert.deepEqual([got.json.SourceNS, got.json.SourceName, got.json.DestinationNS, got.json.DestinationName, got.json.Precedence], ['team-b', 'lg-web', 'team-a', 'lg-db', 9]);
    const moved = await call('PUT', `/v1/connect/intentions/${id}`, ROOT, { SourceName: 'lg-web', SourceNS: 'team-b', DestinationName: 'lg-db', DestinationNS: 'team-b', Action: 'deny' });
    assert.deepEqual([moved.status, moved.text], [500, 'Cannot modify Destination partition/namespace/name for an intention once it exists.']);
    const updated = await call('PUT', `/v1/connect/intentions/${id}?ns=team-a`, ROOT, { SourceName: 'lg-web', SourceNS: 'team-b', DestinationName: 'lg-db', Action: 'deny' });
    assert.equal(updated.status, 200, updated.text);
    assert.equal((await call('GET', `/v1/connect/intentions/${id}`, ROOT)).json.Action, 'deny');
    const wild = await call('POST', '/v1/connect/intentions', ROOT, { SourceName: 'x', SourceNS: '*', DestinationName: 'lg-db', Action: 'allow' });
    assert.equal(wild.status, 500);
    assert.match(wild.text, /SourceName: exact value cannot follow wildcard namespace/);
    assert.equal((await call('DELETE', `/v1/connect/intentions/${id}`, ROOT)).status, 200);
    assert.equal((await call('GET', `/v1/connect/intentions/${id}`, ROOT)).status, 404);
    assert.ok(!(await storeKeys()).includes('t/default/team-a/config/service-intentions/lg-db'));
  });
  test('the wildcard namespace: */* destinations give Consul\'s precedence 3…1, the whole table 9…1 over HTTP', async () => {
    const srcs = [{ Name: 'pweb', Namespace: 'team-a', Action: 'allow' }, { Name: '*', Namespace: 'team-a', Action: 'allow' }, { Name: '*', Namespace: '*', Action: 'deny' }];
    assert.equal((await call('PUT', '/v1/config?ns=team-b', ROOT, { Kind: 'service-intentions', Name: 'pdb', Sources: srcs })).text, 'true');
    assert.equal((await call('PUT', '/v1/config?ns=team-b', ROOT, { Kind: 'service-intentions', Name: '*', Sources: srcs })).text, 'true');
    const wild = await call('PUT', '/v1/config', ROOT, { Kind: 'service-intentions', Name: '*', Namespace: '*', Sources: srcs });
    assert.deepEqual([wild.status, wild.text], [200, 'true']);
    const stored = await storeKeys();
    assert.ok(stored.includes('config-ns-wildcard/service-intentions/*'), 'the default partition\'s wildcard namespace has its own prefix');
    const all = await call('GET', '/v1/connect/intentions?ns=*', ROOT);
    const ours = all.json.filter((i: any) => ['pdb', '*'].includes(i.DestinationName) && ['team-a', '*'].includes(i.SourceNS) && ['pweb', '*'].includes(i.SourceName)
      && (i.DestinationNS === 'team-b' || i.DestinationNS === '*'));
    assert.deepEqual(ours.map((i: any) => [`${i.SourceNS}/${i.SourceName}`, `${i.DestinationNS}/${i.DestinationName}`, i.Precedence]), [
      ['team-a/pweb', 'team-b/pdb', 9], ['team-a/*', 'team-b/pdb', 8], ['*/*', 'team-b/pdb', 7],
      ['team-a/pweb', 'team-b/*', 6], ['team-a/*', 'team-b/*', 5], ['*/*', 'team-b/*', 4],
      ['team-a/pweb', '*/*', 3], ['team-a/*', '*/*', 2], ['*/*', '*/*', 1],
    ]);
    const entry = await call('GET', '/v1/config/service-intentions/*?ns=*', ROOT);
    assert.deepEqual([entry.json.Namespace, entry.json.Partition], ['*', 'default']);

    // The */* deny decides for a service of any namespace that nothing else names; an exact allow wins over it.
    assert.deepEqual((await call('GET', '/v1/connect/intentions/check?source=team-b/x&destination=team-a/anything', ROOT)).json, { Allowed: false });
    assert.deepEqual((await call('GET', '/v1/connect/intentions/check?source=team-a/pweb&destination=team-a/anything', ROOT)).json, { Allowed: true });
    assert.deepEqual((await call('GET', '/v1/connect/intentions/check?source=x&destination=anything', ROOT)).json, { Allowed: false });
    const byDest = await call('GET', '/v1/connect/intentions/match?by=destination&name=team-a/zzz', ROOT);
    assert.deepEqual(byDest.json['team-a/zzz'].map((i: any) => i.Precedence), [3, 2, 1]);

    // Only service-intentions live in the wildcard namespace; an exact name cannot follow it.
    const other = await call('PUT', '/v1/config?ns=*', ROOT, { Kind: 'service-defaults', Name: 'x' });
    assert.deepEqual([other.status, other.text], [400, 'Invalid namespace: wildcard "*" is not allowed for this request']);
    const exact = await call('PUT', '/v1/config?ns=*', ROOT, { Kind: 'service-intentions', Name: 'db', Sources: [{ Name: 'web', Action: 'allow' }] });
    assert.deepEqual([exact.status, exact.text], [500, 'Name: exact value cannot follow wildcard namespace']);

    // Another partition's wildcard namespace is stored in the partition's default namespace.
    assert.equal((await call('PUT', '/v1/config?partition=ap1&ns=*', ROOT, { Kind: 'service-intentions', Name: '*', Sources: [{ Name: '*', Action: 'allow' }] })).text, 'true');
    assert.ok((await storeKeys()).includes('t/ap1/default/config-ns-wildcard/service-intentions/*'));
    const ap1 = await call('GET', '/v1/config/service-intentions/*?partition=ap1&ns=*', ROOT);
    assert.deepEqual([ap1.json.Namespace, ap1.json.Partition, ap1.json.Sources[0].Namespace, ap1.json.Sources[0].Precedence], ['*', 'ap1', 'default', 2]);

    // Deletes, and the exact API on */*.
    assert.equal((await call('DELETE', '/v1/config/service-intentions/*?ns=*', ROOT)).status, 200);
    assert.ok(!(await storeKeys()).includes('config-ns-wildcard/service-intentions/*'));
    assert.equal((await call('PUT', '/v1/connect/intentions/exact?source=*/*&destination=*/*', ROOT, { Action: 'allow' })).text, 'true');
    const back = await call('GET', '/v1/connect/intentions/exact?source=*/*&destination=*/*', ROOT);
    assert.deepEqual([back.status, back.json.Precedence], [200, 1]);
    assert.equal((await call('DELETE', '/v1/connect/intentions/exact?source=*/*&destination=*/*', ROOT)).status, 200);
    assert.equal((await call('GET', '/v1/config/service-intentions/*?ns=*', ROOT)).status, 404);

    // A blocked match in a namespace wakes when a */* intention is written (it watches only its own namespace's table).
    for (const ns of ['default', 'team-a']) {
      const first = await call('GET', `/v1/connect/intentions/match?by=destination&name=zz&ns=${ns}`, ROOT);
      assert.deepEqual(first.json.zz, []);
      const blocked = call('GET', `/v1/connect/intentions/match?by=destination&name=zz&ns=${ns}&index=${first.headers.get('x-consul-index')}&wait=30s`, ROOT);
      assert.equal((await call('PUT', '/v1/connect/intentions/exact?source=*/*&destination=*/*', ROOT, { Action: 'deny' })).text, 'true');
      const woke = await blocked;
      assert.deepEqual(woke.json.zz.map((i: any) => [i.DestinationNS, i.Precedence]), [['*', 1]]);
      assert.ok(Number(woke.headers.get('x-consul-index')) > Number(first.headers.get('x-consul-index')));
      assert.equal((await call('DELETE', '/v1/connect/intentions/exact?source=*/*&destination=*/*', ROOT)).status, 200);
    }
  });
  test('agent connect authorize judges the target in the request\'s namespace and the certificate\'s source namespace', async () => {
    assert.equal((await call('PUT', '/v1/connect/intentions/exact?source=team-a/au-web&destination=team-b/au-db', ROOT, { Action: 'deny' })).text, 'true');
    const uri = (ns: string, svc: string) => `spiffe://11111111-2222-3333-4444-555555555555.consul/ns/${ns}/dc/dc1/svc/${svc}`;
    const authorize = (q: string, body: Record<string, unknown>) => call('POST', `/v1/agent/connect/authorize${q}`, ROOT, { ClientCertSerial: '01', ...body });
    const denied = await authorize('?ns=team-b', { Target: 'au-db', ClientCertURI: uri('team-a', 'au-web') });
    assert.deepEqual(denied.json, { Authorized: false, Reason: 'Matched L4 intention: au-web => au-db (Action: DENY, Precedence: 9)' });
    // The body's Namespace names the target's too.
    assert.equal((await authorize('', { Target: 'au-db', Namespace: 'team-b', ClientCertURI: uri('team-a', 'au-web') })).json.Authorized, false);
    // Another source namespace: not that intention, but team-b's `*` destination (its */* source denies, precedence 4).
    assert.deepEqual((await authorize('?ns=team-b', { Target: 'au-db', ClientCertURI: uri('default', 'au-web') })).json,
      { Authorized: false, Reason: 'Matched L4 intention: * => * (Action: DENY, Precedence: 4)' });
    // The target in the default namespace: nothing matches, the default.
    assert.deepEqual((await authorize('', { Target: 'au-db', ClientCertURI: uri('team-a', 'au-web') })).json, { Authorized: true, Reason: 'Default behavior configured by ACLs' });
  });

  test('intentions to every namespace (*/*) need intentions:write beyond the default namespace, by every API', async () => {
    const plain = await tokenWithRules(call, 'service_prefix "" { policy = "write" intentions = "write" }');
    const body = { Kind: 'service-intentions', Name: '*', Sources: [{ Name: '*', Namespace: '*', Action: 'allow' }] };
    assert.equal((await call('PUT', '/v1/config?ns=*', plain.SecretID, body)).status, 403);
    assert.equal((await call('PUT', '/v1/config', plain.SecretID, { ...body, Namespace: '*' })).status, 403);
    assert.equal((await call('PUT', '/v1/connect/intentions/exact?source=*/*&destination=*/*', plain.SecretID, { Action: 'allow' })).status, 403);
    assert.equal((await call('POST', '/v1/connect/intentions', plain.SecretID, { SourceNS: '*', SourceName: '*', DestinationNS: '*', DestinationName: '*', Action: 'allow' })).status, 403);
    assert.equal((await call('GET', '/v1/config/service-intentions/*?ns=*', ROOT)).status, 404, 'nothing was written');
    const every = await tokenWithRules(call, 'namespace_prefix "" { service_prefix "" { policy = "read" intentions = "write" } }');
    assert.equal((await call('PUT', '/v1/config?ns=*', every.SecretID, body)).text, 'true');
    assert.equal((await call('DELETE', '/v1/config/service-intentions/*?ns=*', plain.SecretID)).status, 403);
    assert.equal((await call('DELETE', '/v1/config/service-intentions/*?ns=*', every.SecretID)).status, 200);
  });

  test('a wildcard namespace side of an intention is read in the wildcard namespace, as written', async () => {
    assert.equal((await call('PUT', '/v1/connect/intentions/exact?source=*/*&destination=team-b/wr-db', ROOT, { Action: 'deny' })).text, 'true');
    const plain = await tokenWithRules(call, 'service_prefix "" { policy = "read" intentions = "read" }');
    const listed = await call('GET', '/v1/connect/intentions?ns=*', plain.SecretID);
    assert.equal(listed.status, 200, listed.text);
    assert.deepEqual(listed.json.filter((i: any) => i.DestinationName === 'wr-db'), [], 'the */* source is not the default namespace\'s');
    assert.equal((await call('GET', '/v1/connect/intentions/exact?source=*/*&destination=team-b/wr-db', plain.SecretID)).status, 403);
    const every = await tokenWithRules(call, 'namespace_prefix "" { service_prefix "" { policy = "read" intentions = "read" } }');
    assert.equal((await call('GET', '/v1/connect/intentions/exact?source=*/*&destination=team-b/wr-db', every.SecretID)).status, 200);
    assert.equal((await call('DELETE', '/v1/connect/intentions/exact?source=*/*&destination=team-b/wr-db', ROOT)).status, 200);
  });

  test('match by source is per partition: another partition\'s source of the same name is not the default partition\'s service', async () => {
    const put = await call('PUT', '/v1/config', ROOT, { Kind: 'service-intentions', Name: 'mbs-db', Sources: [{ Name: 'mbs-web', Partition: 'ap1', Action: 'allow' }] });
    assert.equal(put.text, 'true', put.text);
    const bySource = await call('GET', '/v1/connect/intentions/match?by=source&name=mbs-web', ROOT);
    assert.deepEqual(bySource.json['mbs-web'].filter((i: any) => i.DestinationName === 'mbs-db'), []);
  });

  test('a chain entry sending traffic to another namespace needs service:read there (Consul\'s canWriteDiscoveryChain)', async () => {
    const tok = await tokenWithRules(call, 'namespace "team-a" { service_prefix "" { policy = "write" } }');
    const put = (body: Record<string, unknown>) => call('PUT', '/v1/config?ns=team-a', tok.SecretID, body);
    const status = async (body: Record<string, unknown>) => {
      const r = await put(body);
      return r.status === 403 ? 403 : `${r.status} ${r.text}`;
    };
    assert.equal((await put({ Kind: 'service-defaults', Name: 'acl-rt', Protocol: 'http' })).text, 'true');
    // Each form that reaches team-b: a route, a split (same name in team-b), a redirect, a failover (same name), a failover target.
    const router = { Kind: 'service-router', Name: 'acl-rt', Routes: [{ Match: { HTTP: { PathPrefix: '/x' } }, Destination: { Service: 'secret', Namespace: 'team-b' } }] };
    const routerSameName = { Kind: 'service-router', Name: 'acl-rt', Routes: [{ Match: { HTTP: { PathPrefix: '/x' } }, Destination: { Namespace: 'team-b' } }] };
    const splitter = { Kind: 'service-splitter', Name: 'acl-rt', Splits: [{ Weight: 50 }, { Weight: 50, Namespace: 'team-b' }] };
    const redirect = { Kind: 'service-resolver', Name: 'acl-rt', Redirect: { Service: 'secret', Namespace: 'team-b' } };
    const failover = { Kind: 'service-resolver', Name: 'acl-rt', Failover: { '*': { Namespace: 'team-b' } } };
    const target = { Kind: 'service-resolver', Name: 'acl-rt', Failover: { '*': { Targets: [{ Service: 'secret', Namespace: 'team-b' }] } } };
    for (const body of [router, routerSameName, splitter, redirect, failover, target]) {
      assert.equal(await status(body), 403, JSON.stringify(body));
    }
    // Within team-a the token's own rules suffice.
    assert.notEqual(await status({ Kind: 'service-resolver', Name: 'acl-rt', Redirect: { Service: 'other' } }), 403);
    // With read on team-b's services the same entries pass the ACL check.
    const both = await tokenWithRules(call, 'namespace "team-a" { service_prefix "" { policy = "write" } } namespace "team-b" { service_prefix "" { policy = "read" } }');
    const r = await call('PUT', '/v1/config?ns=team-a', both.SecretID, redirect);
    assert.notEqual(r.status, 403, r.text);
  });

});

describe('default-tenant config entries and intentions are as before namespaces', () => {
  let dev: DevAgent;
  before(async () => {
    dev = await startAclAgent();
  });
  after(() => dev.stop());

  test('stored keys and values and answers match those of the build before (test/fixtures/config-golden.json)', async () => {
    const want = JSON.parse(fs.readFileSync(new URL('./fixtures/config-golden.json', import.meta.url), 'utf8'));
    const got = await capture(dev, httpCaller(() => dev.httpAddr));
    assert.deepEqual(got.stored, want.stored);
    for (const p of Object.keys(want.answers)) assert.equal(got.answers[p], want.answers[p], p);
  });
});
