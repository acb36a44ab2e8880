// The HTTP areas an agent start does not load (issue #9): their modules load on the first request
// routed to them, and that request (a blocking query, or several arriving while the import is in
// flight) is answered as before; a failed import answers 500 with its error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { ProbeOut, ProbeStep } from './support/lazy-areas-probe.ts';

const PROBE = new URL('./support/lazy-areas-probe.ts', import.meta.url).pathname;

function probe(steps: ProbeStep[], env: Record<string, string> = {}): ProbeOut {
  const r = spawnSync(process.execPath, [PROBE, JSON.stringify(steps)], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as ProbeOut;
}

const exact = '/v1/connect/intentions/exact?source=web&destination=db';

test('intentions: not loaded by start; a blocking list and a read arriving during the import, then a write, answered as before', () => {
  const out = probe([
    { requests: [{ method: 'GET', path: '/v1/config/service-intentions' }] },
    {
      requests: [
        { method: 'GET', path: '/v1/connect/intentions?index={index}&wait=10s' },
        { method: 'GET', path: exact },
        { method: 'PUT', path: exact, body: { Action: 'allow' }, after: 300 },
      ],
    },
  ]);
  assert.ok(!out.atStart.includes('endpoint/intentions.ts'), 'endpoint/intentions.ts loaded by start');
  assert.ok(!out.atStart.includes('http/v1/intentions.ts'));
  const [list, read, write] = out.steps[1].answers;
  assert.deepEqual([read.status, read.text], [404, 'Intention not found']);
  assert.deepEqual([write.status, write.text], [200, 'true']);
  // The list blocked until the write: it holds the new intention, at a later index.
  assert.equal(list.status, 200, list.text);
  assert.deepEqual(JSON.parse(list.text).map((i: { SourceName: string; DestinationName: string }) => `${i.SourceName}>${i.DestinationName}`), ['web>db']);
  assert.ok(list.index > out.steps[0].answers[0].index);
  assert.ok(out.steps[1].loaded.includes('endpoint/intentions.ts'));
});

test('a lazy area whose import fails answers 500 with the error, again on the next request', () => {
  const out = probe([{ requests: [{ method: 'GET', path: exact }, { method: 'GET', path: exact }] }, { requests: [{ method: 'GET', path: exact }] }],
    { PROBE_FAIL: 'endpoint/intentions.ts' });
  for (const a of [...out.steps[0].answers, ...out.steps[1].answers]) {
    assert.equal(a.status, 500);
    assert.match(a.text, /probe refused endpoint\/intentions\.ts/);
  }
});

test('gateways, discovery chains, namespaces and partitions: loaded on their first requests, answered as before', () => {
  const out = probe([{
    requests: [
      { method: 'GET', path: '/v1/discovery-chain/web' },
      { method: 'GET', path: '/v1/catalog/gateway-services/gw' },
      { method: 'GET', path: '/v1/health/ingress/web' },
      { method: 'PUT', path: '/v1/namespace', body: { Name: 'team' } },
      { method: 'GET', path: '/v1/partitions' },
      { method: 'DELETE', path: '/v1/namespaces' },
    ],
  }, { requests: [{ method: 'GET', path: '/v1/namespaces' }] }]);
  for (const m of ['endpoint/discovery-chain.ts', 'http/v1/gateways.ts', 'http/v1/namespaces.ts', 'endpoint/partitions.ts']) {
    assert.ok(!out.atStart.includes(m), `${m} loaded by start`);
    assert.ok(out.steps[0].loaded.includes(m), `${m} not loaded by its first request`);
  }
  const [chain, gwServices, ingress, nsPut, partitions, wrongMethod] = out.steps[0].answers;
  assert.equal(chain.status, 200, chain.text);
  assert.equal(JSON.parse(chain.text).Chain.ServiceName, 'web');
  assert.deepEqual([gwServices.status, gwServices.text, ingress.status, ingress.text], [200, '[]', 200, '[]']);
  assert.equal(nsPut.status, 200, nsPut.text);
  assert.equal(JSON.parse(nsPut.text).Name, 'team');
  assert.deepEqual(JSON.parse(partitions.text).map((p: { Name: string }) => p.Name), ['default']);
  assert.deepEqual([wrongMethod.status, wrongMethod.text], [405, 'method DELETE not allowed']);
  assert.deepEqual(JSON.parse(out.steps[1].answers[0].text).map((n: { Name: string }) => n.Name), ['default', 'team']);
});

test('the web UI and its metrics proxy: loaded on their first requests, answered as before', () => {
  const out = probe([{
    requests: [
      { method: 'GET', path: '/ui/' }, { method: 'GET', path: '/' }, { method: 'GET', path: '/v1/internal/ui/metrics-proxy/x' },
    ],
  }]);
  for (const m of ['http/ui-server.ts', 'http/ui-template.ts', 'http/v1/ui-metrics-proxy.ts']) {
    assert.ok(!out.atStart.includes(m), `${m} loaded by start`);
    assert.ok(out.steps[0].loaded.includes(m), `${m} not loaded by its first request`);
  }
  const [ui, root, proxy] = out.steps[0].answers;
  // devConfig's agent has no UI directory: Consul's page saying so, for the content path and for /.
  for (const a of [ui, root]) {
    assert.equal(a.status, 404);
    assert.match(a.text, /no web UI/);
  }
  assert.deepEqual([proxy.status, proxy.text], [404, 'Metrics proxy is not enabled']);
});

test('ACL, prepared query and operator routes: loaded on their first requests, answered as before', () => {
  const out = probe([{
    requests: [
      { method: 'GET', path: '/v1/acl/tokens' }, { method: 'GET', path: '/v1/acl/policies' }, { method: 'GET', path: '/v1/acl/auth-methods' },
      { method: 'POST', path: '/v1/query', body: { Name: 'q1', Service: { Service: 'web' } } },
      { method: 'GET', path: '/v1/operator/autopilot/configuration' }, { method: 'GET', path: '/v1/operator/segment' },
      { method: 'PATCH', path: '/v1/operator/usage' },
    ],
  }, { requests: [{ method: 'GET', path: '/v1/query/q1/execute' }, { method: 'GET', path: '/v1/query' }] }]);
  for (const m of ['http/v1/acl.ts', 'http/v1/acl-policies.ts', 'http/v1/query.ts', 'http/v1/operator.ts', 'http/v1/operator-usage.ts']) {
    assert.ok(!out.atStart.includes(m), `${m} loaded by start`);
    assert.ok(out.steps[0].loaded.includes(m), `${m} not loaded by its first request`);
  }
  const [tokens, policies, methods, create, autopilot, segment, patch] = out.steps[0].answers;
  for (const a of [tokens, policies, methods]) assert.deepEqual([a.status, a.text], [401, 'ACL support disabled']);
  assert.equal(create.status, 200, create.text);
  const id = (JSON.parse(create.text) as { ID: string }).ID;
  assert.equal(JSON.parse(autopilot.text).CleanupDeadServers, true);
  assert.deepEqual([segment.status, segment.text], [200, '[""]']);
  assert.deepEqual([patch.status, patch.text], [405, 'method PATCH not allowed']);
  const [exec, list] = out.steps[1].answers;
  assert.equal(exec.status, 200, exec.text);
  assert.deepEqual([JSON.parse(exec.text).Service, JSON.parse(exec.text).Nodes], ['web', []]);
  assert.deepEqual(JSON.parse(list.text).map((q: { ID: string }) => q.ID), [id]);
});

test('subsystems the configuration does not ask for are not loaded: audit log, config auto-reload, push metric sinks, API gateway bindings, namespace and config entry replication, remote exec, ACL token resolution and login, unix socket permissions, server metadata', () => {
  const out = probe([]);
  const idle = [
    'agent/audit-log.ts', 'agent/audit-sink.ts', 'agent/auto-reload.ts', 'agent/config-watcher.ts', 'telemetry/statsd.ts', 'telemetry/dogstatsd.ts',
    'telemetry/circonus.ts', 'telemetry/statsite.ts', 'leader/api-gateway-binding.ts', 'leader/namespace-replication.ts',
    'leader/config-replication.ts', 'leader/replication-loop.ts', 'agent/remote-exec-run.ts',
    // ACLs are off: no token is resolved and nobody logs in.
    'endpoint/acl-sources.ts', 'endpoint/acl-login.ts',
    // No unix socket listener, no data directory.
    'http/socket-permissions.ts', 'agent/server-metadata.ts',
  ];
  for (const m of idle) {
    assert.ok(!out.atStart.includes(m), `${m} loaded by start`);
  }
  assert.ok(out.atStart.includes('telemetry/sinks.ts'), 'the probe saw no telemetry module at all');
});

test('config entries, peering, snapshot, Connect CA and the UI reads: loaded on their first requests, answered as before', () => {
  const out = probe([{
    requests: [
      { method: 'PUT', path: '/v1/config', body: { Kind: 'service-defaults', Name: 'web', Protocol: 'http' } },
      { method: 'GET', path: '/v1/peerings' }, { method: 'GET', path: '/v1/connect/ca/roots' },
      { method: 'GET', path: '/v1/internal/ui/nodes' }, { method: 'GET', path: '/v1/snapshot' }, { method: 'GET', path: '/v1/exported-services' },
    ],
  }, { requests: [{ method: 'GET', path: '/v1/config/service-defaults/web' }, { method: 'GET', path: '/v1/agent/connect/ca/roots' }] }]);
  for (const m of ['http/v1/config.ts', 'http/v1/peering.ts', 'http/v1/connect.ts', 'http/v1/internal-ui.ts', 'endpoint/internal-ui.ts', 'http/v1/snapshot.ts']) {
    assert.ok(!out.atStart.includes(m), `${m} loaded by start`);
    assert.ok(out.steps[0].loaded.includes(m), `${m} not loaded by its first request`);
  }
  const [put, peerings, roots, nodes, snapshot, exported] = out.steps[0].answers;
  assert.deepEqual([put.status, put.text], [200, 'true']);
  assert.deepEqual([peerings.status, peerings.text], [200, '[]']);
  assert.equal(JSON.parse(roots.text).Roots.length, 1);
  assert.deepEqual(JSON.parse(nodes.text).map((n: { Node: string }) => n.Node), ['test-node']);
  assert.equal(snapshot.status, 200);
  assert.deepEqual([exported.status, exported.text], [200, '[]']);
  const [entry, agentRoots] = out.steps[1].answers;
  assert.equal(JSON.parse(entry.text).Protocol, 'http');
  assert.equal(JSON.parse(agentRoots.text).Roots[0].ID, JSON.parse(roots.text).Roots[0].ID);
});

test('/v1/txn: loaded on its first request; concurrent first transactions each applied once', () => {
  const op = (k: string) => ({ KV: { Verb: 'set', Key: k, Value: Buffer.from(k).toString('base64') } });
  const out = probe([
    { requests: [{ method: 'PUT', path: '/v1/txn', body: [op('a')] }, { method: 'PUT', path: '/v1/txn', body: [op('b')] }, { method: 'GET', path: '/v1/txn' }] },
    { requests: [{ method: 'GET', path: '/v1/kv/?keys' }] },
  ]);
  assert.ok(!out.atStart.includes('http/v1/txn.ts'), 'http/v1/txn.ts loaded by start');
  const [a, b, get] = out.steps[0].answers;
  assert.deepEqual([a.status, b.status], [200, 200], a.text + b.text);
  assert.deepEqual(JSON.parse(a.text).Results.map((r: { KV: { Key: string } }) => r.KV.Key), ['a']);
  assert.deepEqual([get.status, get.text], [405, 'method GET not allowed']);
  assert.deepEqual(JSON.parse(out.steps[1].answers[0].text), ['a', 'b']);
});

test('/v1/coordinate and the operator keyring: loaded on their first requests, answered as before', () => {
  const out = probe([{
    requests: [{ method: 'GET', path: '/v1/coordinate/nodes' }, { method: 'GET', path: '/v1/coordinate/datacenters' }, { method: 'GET', path: '/v1/operator/keyring' }],
  }]);
  for (const m of ['http/v1/coordinate.ts', 'http/v1/operator-keyring.ts']) assert.ok(!out.atStart.includes(m), `${m} loaded by start`);
  const [nodes, dcs, keyring] = out.steps[0].answers;
  // devConfig's agent has no gossip encryption: Consul's error, as before.
  assert.deepEqual([keyring.status, keyring.text], [500, 'Gossip encryption is not enabled']);
  assert.deepEqual([nodes.status, nodes.text], [200, '[]']);
  assert.deepEqual(JSON.parse(dcs.text), [{ Datacenter: 'dc1', AreaID: 'wan', Coordinates: [] }]);
});

const DNS_MODULES = ['dns/handler.ts', 'dns/answers.ts', 'agent/agent-dns.ts', 'agent/dc-dns.ts'];

test('DNS: not loaded by a start without DNS listeners; the first questions (two at once) load it and are answered as before', () => {
  const out = probe([{ requests: [], dns: ['test-node.node.consul', 'consul.service.consul'] }, { requests: [], dns: ['nope.service.consul'] }]);
  for (const m of DNS_MODULES) {
    assert.ok(!out.atStart.includes(m), `${m} loaded by start`);
    assert.ok(out.steps[0].loaded.includes(m), `${m} not loaded by the first question`);
  }
  assert.deepEqual(out.steps[0].dns, [
    { rcode: 'NOERROR', answers: ['test-node.node.consul 127.0.0.1'] }, { rcode: 'NOERROR', answers: ['consul.service.consul 127.0.0.1'] },
  ]);
  assert.equal(out.steps[1].dns[0].rcode, 'NXDOMAIN');
});

test('DNS: with a listener, loaded by start and answering once start() resolves; a failed load fails the start', () => {
  const out = probe([{ requests: [], dns: ['consul.service.consul'] }], { PROBE_DNS: 'listen' });
  for (const m of DNS_MODULES) assert.ok(out.atStart.includes(m), `${m} not loaded by start`);
  assert.deepEqual(out.steps[0].dns, [{ rcode: 'NOERROR', answers: ['consul.service.consul 127.0.0.1'] }]);
  const r = spawnSync(process.execPath, [PROBE, '[]'], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, PROBE_DNS: 'listen', PROBE_FAIL: 'dns/handler.ts' } });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /probe refused dns\/handler\.ts/);
});

test('DNS: a failed load rejects the question with its error, and the next question loads again', () => {
  const steps = [{ requests: [], dns: ['consul.service.consul'] }, { requests: [], dns: ['consul.service.consul'] }];
  const out = probe(steps, { PROBE_FAIL: 'dns/handler.ts', PROBE_FAIL_ONCE: '1' });
  assert.deepEqual(out.steps[0].dns, [{ rcode: 'probe refused dns/handler.ts', answers: [] }]);
  assert.deepEqual(out.steps[1].dns, [{ rcode: 'NOERROR', answers: ['consul.service.consul 127.0.0.1'] }]);
});

test('ACL explain and rules translation, agent ACL enable and manual virtual IPs: loaded on their first requests, answered as before', () => {
  const out = probe([{
    requests: [
      { method: 'GET', path: '/v1/acl/explain' },
      { method: 'POST', path: '/v1/acl/rules/translate', body: 'key "x" { policy = "read" }' },
      { method: 'PUT', path: '/v1/internal/service-virtual-ip', body: { Service: 'web', ManualVIPs: ['nope'] } },
    ],
  }, { requests: [{ method: 'PUT', path: '/v1/agent/acl/enable' }] }]);
  for (const m of ['http/v1/explain.ts', 'http/v1/acl-translate.ts', 'http/v1/agent-acl.ts', 'http/v1/internal-vips.ts']) {
    assert.ok(!out.atStart.includes(m), `${m} loaded by start`);
    assert.ok(out.steps[1].loaded.includes(m), `${m} not loaded by its first request`);
  }
  assert.deepEqual(out.steps[0].answers.map((a) => [a.status, a.text]), [
    [401, 'ACL support disabled'],
    // The probe sends the rules JSON-encoded, as a quoted string.
    [400, 'Failed to parse rules: At 1:34: key \'"key \\"x\\" { policy = \\"read\\" }"\' expected start of object (\'{\') or assignment (\'=\')'],
    [500, '"<nil>" is not a valid IPv4 address'],
  ]);
  assert.deepEqual(JSON.parse(out.steps[1].answers[0].text), { Enabled: true, DefaultPolicy: 'deny', AlreadyEnabled: false, Persisted: false });
});

test('code a memory store start never runs (etcd election, autopilot planner, chain graph checks, peering imports, sameness reads, config entry kinds, leaf certificates): loaded on first use, answered as before', () => {
  const out = probe([{
    requests: [
      { method: 'PUT', path: '/v1/config', body: { Kind: 'service-router', Name: 'web', Routes: [{ Match: { HTTP: { PathPrefix: '/a' } }, Destination: { Service: 'api' } }] } },
      { method: 'GET', path: '/v1/operator/autopilot/state' }, { method: 'GET', path: '/v1/health/service/web?peer=p1' },
      { method: 'GET', path: '/v1/health/service/web?sg=sg1' }, { method: 'GET', path: '/v1/agent/metrics' },
    ],
  }]);
  const firstUse = [
    'leader/autopilot-plan.ts', 'endpoint/config-entry-graph.ts', 'endpoint/peering-imports.ts', 'endpoint/health-sameness.ts',
    'endpoint/config-entry-kinds.ts', 'connect/leaf-cert.ts',
  ];
  for (const m of [...firstUse, 'leader/election.ts', 'endpoint/namespaces.ts']) assert.ok(!out.atStart.includes(m), `${m} loaded by start`);
  for (const m of firstUse) assert.ok(out.steps[0].loaded.includes(m), `${m} not loaded by its first use`);
  const [router, state, peered, sameness, metrics] = out.steps[0].answers;
  assert.deepEqual([router.status, router.text], [500, 'discovery chain "web" uses a protocol "tcp" that does not permit advanced routing or splitting behavior']);
  assert.equal(JSON.parse(state.text).Healthy, true);
  assert.deepEqual([peered.status, peered.text], [200, '[]']);
  assert.deepEqual([sameness.status, sameness.text], [500, 'Sameness Group not found']);
  const gauges = JSON.parse(metrics.text).Gauges as { Name: string; Value: number; Labels: Record<string, string> }[];
  assert.ok(gauges.some((g) => g.Name === 'consul.state.config_entries' && g.Labels.kind === 'service-router'), 'no config entry usage gauge per kind');
  assert.ok(gauges.find((g) => g.Name === 'consul.mesh.active-signing-ca.expiry')!.Value > 0);
});

test('agent service and check routes with the registration code and check runners: loaded on their first request, answered as before', () => {
  const out = probe([{
    requests: [
      { method: 'PUT', path: '/v1/agent/service/register', body: { Name: 'web', Port: 8080, Connect: { SidecarService: {} }, Check: { TTL: '30s' } } },
      { method: 'PUT', path: '/v1/agent/check/register', body: { Name: 'ttl1', TTL: '10s' } },
    ],
  }, {
    requests: [{ method: 'PUT', path: '/v1/agent/check/pass/ttl1' }, { method: 'PUT', path: '/v1/agent/service/deregister/web', after: 100 }],
  }, { requests: [{ method: 'GET', path: '/v1/agent/services' }, { method: 'GET', path: '/v1/agent/checks' }] }]);
  const lazy = [
    'http/v1/agent-services.ts', 'http/v1/agent-checks.ts', 'agent/local/definition.ts', 'agent/local/validate.ts', 'agent/local/sidecar.ts',
    'agent/local/proxy.ts', 'agent/local/acl.ts', 'agent/checks/runner.ts', 'agent/checks/ttl.ts',
  ];
  for (const m of lazy) {
    assert.ok(!out.atStart.includes(m), `${m} loaded by start`);
    assert.ok(out.steps[0].loaded.includes(m), `${m} not loaded by the first registration`);
  }
  assert.deepEqual(out.steps[0].answers.map((a) => a.status), [200, 200]);
  assert.deepEqual(out.steps[1].answers.map((a) => a.status), [200, 200]);
  const [services, checks] = out.steps[2].answers;
  // The sidecar registered from web's sidecar_service went with it.
  assert.deepEqual(Object.keys(JSON.parse(services.text)), []);
  assert.deepEqual(Object.values(JSON.parse(checks.text) as Record<string, { Name: string; Status: string; Type: string }>).map((c) => [c.Name, c.Status, c.Type]), [['ttl1', 'passing', 'ttl']]);
});

test('a catalog registration with a Proxy decodes it as before (the agent proxy decoding loaded by it)', () => {
  const body = { Node: 'n1', Address: '10.0.0.1', Service: { Kind: 'connect-proxy', Service: 'p', Proxy: { destination_service_name: 'web', Mode: 'transparent' } } };
  const out = probe([{ requests: [{ method: 'PUT', path: '/v1/catalog/register', body }] }, { requests: [{ method: 'GET', path: '/v1/catalog/service/p' }] }]);
  assert.ok(!out.atStart.includes('agent/local/proxy.ts'), 'agent/local/proxy.ts loaded by start');
  assert.equal(out.steps[0].answers[0].text, 'true');
  const [svc] = JSON.parse(out.steps[1].answers[0].text) as { ServiceProxy: { DestinationServiceName: string; Mode: string } }[];
  assert.deepEqual([svc.ServiceProxy.DestinationServiceName, svc.ServiceProxy.Mode], ['web', 'transparent']);
});

test('peering tokens, CA root rotation, terminating gateway VIPs, partition writes and body field tables: loaded by their first use, answered as before', () => {
  const out = probe([{
    requests: [
      { method: 'POST', path: '/v1/peering/token', body: { PeerName: 'p1' } },
      { method: 'PUT', path: '/v1/connect/ca/configuration', body: { Provider: 'consul', Config: { PrivateKeyType: 'rsa', PrivateKeyBits: 2048 } } },
      { method: 'PUT', path: '/v1/config', body: { Kind: 'terminating-gateway', Name: 'tgw', Services: [{ Name: 'web' }] } },
      { method: 'PUT', path: '/v1/partition', body: { Name: 'ap1' } },
      { method: 'PUT', path: '/v1/catalog/register', body: { Node: 'n1', Address: '10.0.0.1', Service: { Service: 'web', Connect: { Native: true } }, Bogus: 1 } },
    ],
  }, {
    requests: [
      { method: 'PUT', path: '/v1/catalog/register', body: { Node: 'n2', Address: '10.0.0.2', Partition: 'ap1', Service: { Service: 'api' } } },
      { method: 'PUT', path: '/v1/catalog/register', body: { Node: 'g1', Address: '10.0.0.3', Service: { Kind: 'terminating-gateway', Service: 'tgw' } } },
    ],
  }, { requests: [{ method: 'GET', path: '/v1/catalog/service/tgw' }, { method: 'GET', path: '/v1/catalog/nodes?partition=ap1' }, { method: 'GET', path: '/v1/connect/ca/roots' }] }]);
  const lazy = [
    'endpoint/peering-token.ts', 'leader/ca-rotation.ts', 'endpoint/virtual-ips-gateway.ts', 'http/request-fields.ts', 'endpoint/catalog-partition.ts',
  ];
  for (const m of [...lazy, 'endpoint/exported-services.ts', 'cli/usage.ts']) assert.ok(!out.atStart.includes(m), `${m} loaded by start`);
  for (const m of lazy) assert.ok(out.steps[1].loaded.includes(m), `${m} not loaded by its first use`);
  const [token, caConfig, entry, partition, unknownField] = out.steps[0].answers;
  assert.equal(token.status, 200, token.text);
  assert.ok(JSON.parse(token.text).PeeringToken);
  assert.deepEqual([caConfig.status, entry.text, partition.status], [200, 'true', 200]);
  assert.deepEqual([unknownField.status, unknownField.text], [400, 'Request decode failed: json: unknown field "Bogus"']);
  assert.deepEqual(out.steps[1].answers.map((a) => a.text), ['true', 'true']);
  const [gateway, nodes, roots] = out.steps[2].answers;
  const [tgw] = JSON.parse(gateway.text) as { ServiceTaggedAddresses: Record<string, { Address: string }> }[];
  assert.match(tgw.ServiceTaggedAddresses['consul-virtual:web'].Address, /^240\./);
  assert.deepEqual(JSON.parse(nodes.text).map((n: { Node: string }) => n.Node), ['n2']);
  assert.equal(JSON.parse(roots.text).Roots.length, 2);
});

test('DNS: other tenants, ingress gateways and sameness groups load with the first question naming one, not with the DNS handlers; answered as before', () => {
  const out = probe([{ requests: [], dns: ['web.ingress.consul', 'web.service.ns1.ns.consul', 'web.service.sg1.sg.consul', 'consul.service.consul'] }], { PROBE_DNS: 'listen' });
  for (const m of ['endpoint/gateway-services.ts', 'endpoint/dns-tenancy.ts', 'endpoint/sameness.ts']) {
    assert.ok(!out.atStart.includes(m), `${m} loaded by start`);
    assert.ok(out.steps[0].loaded.includes(m), `${m} not loaded by its first question`);
  }
  assert.ok(out.atStart.includes('endpoint/dns-view.ts'), 'the probe saw no DNS view at start');
  assert.deepEqual(out.steps[0].dns, [
    { rcode: 'NXDOMAIN', answers: [] }, { rcode: 'NXDOMAIN', answers: [] }, { rcode: 'SERVFAIL', answers: [] },
    { rcode: 'NOERROR', answers: ['consul.service.consul 127.0.0.1'] },
  ]);
});
