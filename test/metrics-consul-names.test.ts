// Consul's documented metric names, types and labels from a real agent after some activity:
// /v1/agent/metrics (Consul's JSON) and ?format=prometheus.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startDevAgent } from './support/agent.ts';
import { resolverFor } from './support/dns.ts';

interface Summary {
  Gauges: { Name: string; Value: number; Labels: Record<string, string> }[];
  Counters: { Name: string; Count: number; Labels: Record<string, string> }[];
  Samples: { Name: string; Count: number; Labels: Record<string, string> }[];
}

/** `# TYPE` of each Prometheus metric and its sample lines. */
function parseProm(text: string): { types: Map<string, string>; lines: string[] } {
  const types = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) types.set(m[1], m[2]);
  return { types, lines: text.split('\n').filter((l) => l && !l.startsWith('#')) };
}

test('Consul key metrics: names, types and labels in JSON and Prometheus after activity', async () => {
  const dev = await startDevAgent({
    config: {
      nodeName: 'metrics-node', dnsAddrs: [{ kind: 'tcp', host: '127.0.0.1', port: 0 }],
      raw: { telemetry: { prometheus_retention_time: '60s', disable_hostname: true } },
    },
  });
  const h = `http://${dev.httpAddr}`;
  const send = (method: string, path: string, body: unknown) => fetch(`${h}${path}`, { method, body: JSON.stringify(body) }).then((r) => r.text());
  const put = (path: string, body: unknown) => send('PUT', path, body);
  try {
    await put('/v1/catalog/register', { Node: 'n1', Address: '10.0.0.1', Service: { Service: 'web', Tags: ['v1'] } });
    await put('/v1/catalog/register', { Node: 'n1', Address: '10.0.0.1', Service: { Service: 'web-proxy', Kind: 'connect-proxy', Port: 2000, Proxy: { DestinationServiceName: 'web' } } });
    await put('/v1/catalog/deregister', { Node: 'n1', ServiceID: 'gone' });
    await put('/v1/config', { Kind: 'service-defaults', Name: 'web', Protocol: 'http' });
    await put('/v1/txn', [{ KV: { Verb: 'set', Key: 'k', Value: 'dg==' } }]);
    await put('/v1/session/create', {});
    await put('/v1/connect/intentions/exact?source=a&destination=web', { Action: 'allow' });
    const q = JSON.parse(await send('POST', '/v1/query', { Name: 'q', Service: { Service: 'web' } })) as { ID: string };
    await fetch(`${h}/v1/query/${q.ID}/execute`).then((r) => r.text());
    await fetch(`${h}/v1/catalog/service/web?tag=v1`).then((r) => r.text());
    await fetch(`${h}/v1/health/service/missing`).then((r) => r.text());
    await fetch(`${h}/v1/health/connect/web`).then((r) => r.text());
    const dnsPort = Number(dev.agent.dnsAddresses().udp[0].split(':').pop());
    const resolver = resolverFor(dnsPort);
    await resolver.resolve4('web.service.consul');
    await resolver.reverse('10.0.0.1').catch(() => []);
    // The autopilot gauges come from the leader's first health round.
    let json: Summary;
    for (;;) {
      json = (await (await fetch(`${h}/v1/agent/metrics`)).json()) as Summary;
      if (json.Gauges.some((g) => g.Name === 'consul.autopilot.healthy')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const gauge = (name: string, labels: Record<string, string> = {}) => json.Gauges.find((g) => g.Name === name && Object.entries(labels).every(([k, v]) => g.Labels[k] === v));
    const dc = { datacenter: 'dc1' };
    assert.equal(gauge('consul.server.isLeader')?.Value, 1);
    assert.equal(gauge('consul.autopilot.healthy')?.Value, 1);
    assert.equal(gauge('consul.autopilot.failure_tolerance')?.Value, 0);
    assert.equal(gauge('consul.state.nodes', dc)?.Value, 2);
    assert.equal(gauge('consul.state.services', dc)?.Value, 3);
    assert.equal(gauge('consul.state.service_instances', dc)?.Value, 3);
    assert.equal(gauge('consul.state.billable_service_instances', dc)?.Value, 1);
    assert.equal(gauge('consul.state.connect_instances', { ...dc, kind: 'connect-proxy' })?.Value, 1);
    assert.equal(gauge('consul.state.connect_instances', { ...dc, kind: 'mesh-gateway' })?.Value, 0);
    assert.equal(gauge('consul.state.config_entries', { ...dc, kind: 'service-defaults' })?.Value, 1);
    assert.equal(gauge('consul.state.config_entries', { ...dc, kind: 'service-intentions' })?.Value, 1);
    assert.equal(gauge('consul.state.kv_entries', dc)?.Value, 1);
    assert.equal(gauge('consul.state.peerings', dc)?.Value, 0);
    assert.equal(gauge('consul.members.servers', dc)?.Value, 1);
    assert.equal(gauge('consul.members.clients', dc)?.Value, 0);
    // The dev CA's root: ten years (RootCertTTL 87600h) less a little.
    const rootLeft = gauge('consul.mesh.active-root-ca.expiry')?.Value ?? 0;
    assert.ok(rootLeft > 87_599 * 3600 && rootLeft <= 87_600 * 3600, String(rootLeft));
    assert.equal(gauge('consul.mesh.active-signing-ca.expiry')?.Value, rootLeft);
    assert.ok(gauge('consul.runtime.total_gc_runs') !== undefined);
    assert.ok(gauge('consul.runtime.total_gc_pause_ns') !== undefined);

    const sample = (name: string, labels: Record<string, string> = {}) => json.Samples.find((s) => s.Name === name && Object.entries(labels).every(([k, v]) => s.Labels[k] === v));
    for (const name of ['catalog.register', 'catalog.deregister', 'txn.apply', 'session.apply', 'intention.apply', 'prepared-query.apply', 'prepared-query.execute']) {
      assert.ok((sample(`consul.${name}`)?.Count ?? 0) >= 1, name);
    }
    assert.equal(sample('consul.dns.domain_query', { node: 'metrics-node' })?.Count, 1);
    assert.equal(sample('consul.dns.ptr_query', { node: 'metrics-node' })?.Count, 1);

    const counter = (name: string, labels: Record<string, string>) => json.Counters.find((c) => c.Name === name && Object.entries(labels).every(([k, v]) => c.Labels[k] === v));
    assert.equal(counter('consul.catalog.service.query', { service: 'web' })?.Count, 1);
    assert.equal(counter('consul.catalog.service.query-tags', { service: 'web', tag: 'v1' })?.Count, 1);
    assert.equal(counter('consul.health.service.query', { service: 'missing' })?.Count, 1);
    assert.equal(counter('consul.health.service.not-found', { service: 'missing' })?.Count, 1);
    assert.equal(counter('consul.health.connect.query', { service: 'web' })?.Count, 1);

    const prom = parseProm(await (await fetch(`${h}/v1/agent/metrics?format=prometheus`)).text());
    const types: [string, string][] = [
      ['consul_server_isLeader', 'gauge'], ['consul_autopilot_healthy', 'gauge'], ['consul_autopilot_failure_tolerance', 'gauge'],
      ['consul_state_nodes', 'gauge'], ['consul_state_config_entries', 'gauge'], ['consul_members_servers', 'gauge'],
      ['consul_mesh_active_root_ca_expiry', 'gauge'], ['consul_runtime_total_gc_runs', 'gauge'], ['consul_runtime_gc_pause_ns', 'summary'],
      ['consul_catalog_register', 'summary'], ['consul_txn_apply', 'summary'], ['consul_dns_domain_query', 'summary'], ['consul_dns_ptr_query', 'summary'],
      ['consul_catalog_service_query', 'counter'], ['consul_health_service_not_found', 'counter'], ['consul_dns_stale_queries', 'counter'],
    ];
    for (const [name, type] of types) assert.equal(prom.types.get(name), type, name);
    assert.ok(prom.lines.includes('consul_state_nodes{datacenter="dc1"} 2'));
    // Defined on every agent, as Consul's Prometheus sink defines ACLCounters: a primary server has no token cache.
    assert.ok(prom.lines.includes('consul_acl_token_cache_hit 0'));
    assert.ok(prom.lines.includes('consul_acl_token_cache_miss 0'));
    assert.ok(prom.lines.includes('consul_state_connect_instances{datacenter="dc1",kind="connect-proxy"} 1'));
    assert.ok(prom.lines.includes('consul_catalog_service_query{service="web"} 1'));
    assert.ok(prom.lines.includes('consul_dns_domain_query_count{node="metrics-node"} 1'));
  } finally {
    await dev.stop();
  }
});
