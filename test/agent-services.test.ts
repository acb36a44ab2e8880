// The agent's service API against a real in-process agent over HTTP: registration shows up in
// the catalog and health views, AgentService shape, Consul's validation texts (CamelCase and
// python-consul lowercase bodies), hash-based blocking, service and node maintenance, local
// health codes, members and tokens.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDevAgent, type DevAgent } from './support/agent.ts';

let dev: DevAgent;

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`http://${dev.httpAddr}${path}`, {
    method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, text, json: json as any, headers: res.headers };
}

before(async () => {
  dev = await startDevAgent();
});
after(async () => {
  await dev.stop();
});

describe('service registration', () => {
  test('a registered service appears in agent/services, the catalog and health with its check', async () => {
    const reg = await call('PUT', '/v1/agent/service/register', {
      Name: 'web', ID: 'web-1', Port: 8080, Address: '10.1.2.3', Tags: ['v1'], Meta: { team: 'a' },
      Check: { TTL: '30s', Notes: 'app heartbeat' },
    });
    assert.equal(reg.status, 200);
    assert.equal(reg.text, '');
    const svc = (await call('GET', '/v1/agent/services')).json['web-1'];
    assert.deepEqual(svc, {
      ID: 'web-1', Service: 'web', Tags: ['v1'], Meta: { team: 'a' }, Port: 8080, Address: '10.1.2.3',
      TaggedAddresses: { lan_ipv4: { Address: '10.1.2.3', Port: 8080 }, wan_ipv4: { Address: '10.1.2.3', Port: 8080 } },
      Weights: { Passing: 1, Warning: 1 }, EnableTagOverride: false, Datacenter: 'dc1',
    });
    const cat = (await call('GET', '/v1/catalog/service/web')).json;
    assert.equal(cat.length, 1);
    assert.equal(cat[0].ServiceID, 'web-1');
    assert.equal(cat[0].Node, 'test-node');
    const health = (await call('GET', '/v1/health/service/web')).json;
    const check = health[0].Checks.find((c: any) => c.CheckID === 'service:web-1');
    assert.equal(check.Name, "Service 'web' check");
    assert.equal(check.Status, 'critical');
    assert.equal(check.Type, 'ttl');
    assert.equal(check.Notes, 'app heartbeat');
    assert.deepEqual(check.ServiceTags, ['v1']);
  });

  test('deregistering removes the service and its checks from the catalog; an unknown ID is Consul\'s 404', async () => {
    await call('PUT', '/v1/agent/service/register', { Name: 'gone', Check: { TTL: '10s' } });
    assert.equal((await call('GET', '/v1/catalog/service/gone')).json.length, 1);
    assert.equal((await call('PUT', '/v1/agent/service/deregister/gone')).status, 200);
    assert.deepEqual((await call('GET', '/v1/catalog/service/gone')).json, []);
    assert.equal((await call('GET', '/v1/agent/checks')).json['service:gone'], undefined);
    const unknown = await call('PUT', '/v1/agent/service/deregister/never-was');
    assert.deepEqual([unknown.status, unknown.text], [404, 'Unknown service ID "never-was". Ensure that the service ID is passed, not the service name.']);
    // A name is not an ID, and a deregistered service is unknown from then on.
    await call('PUT', '/v1/agent/service/register', { ID: 'gone-1', Name: 'gone' });
    assert.equal((await call('PUT', '/v1/agent/service/deregister/gone')).status, 404);
    assert.equal((await call('PUT', '/v1/agent/service/deregister/gone-1')).status, 200);
    assert.equal((await call('PUT', '/v1/agent/service/deregister/gone-1')).status, 404);
  });

  test('python-consul lowercase and snake_case bodies register like CamelCase ones', async () => {
    const r = await call('PUT', '/v1/agent/service/register', {
      name: 'py', id: 'py-1', port: 5000, tags: ['x'], enable_tag_override: true,
      checks: [{ ttl: '10s' }, { http: 'http://127.0.0.1:1/health', interval: '10s', timeout: '1s' }],
    });
    assert.equal(r.status, 200);
    const svc = (await call('GET', '/v1/agent/service/py-1')).json;
    assert.equal(svc.EnableTagOverride, true);
    const checks = (await call('GET', '/v1/agent/checks')).json;
    assert.equal(checks['service:py-1:1'].Type, 'ttl');
    assert.equal(checks['service:py-1:2'].Type, 'http');
    assert.equal(checks['service:py-1:2'].Interval, '10s');
    assert.equal(checks['service:py-1:2'].Timeout, '1s');
  });

  test('validation answers with Consul texts', async () => {
    const cases: [unknown, number, string][] = [
      [{ Port: 1 }, 400, 'Missing service name'],
      [{ Name: 'a', Address: '0.0.0.0' }, 400, 'Invalid service address'],
      [{ Name: 'a', Weights: { Passing: 0, Warning: 1 } }, 400, 'Invalid Weights: Passing must be greater than 0'],
      [{ Name: 'a', Meta: { 'consul-x': 'y' } }, 400, "Invalid Service Meta: Couldn't load metadata pair ('consul-x', 'y'): Key prefix 'consul-' is reserved for internal use"],
      [{ Name: 'a', Check: { HTTP: 'http://x' } }, 400, 'Invalid check: Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP or OSService checks'],
      [{ Name: 'a', Check: { TTL: '1s', Interval: '1s' } }, 400, 'Invalid check: Interval and TTL cannot both be specified'],
      [{ Name: 'a', Check: { TTL: '1s', Status: 'bogus' } }, 400, "Status for checks must 'passing', 'warning', 'critical'"],
      [{ Name: 'a', Check: { TTL: 'ten' } }, 400, 'Request decode failed: time: invalid duration "ten"'],
      [{ Name: 'a', Check: { Args: ['/bin/true'], Interval: '10s' } }, 500, "Scripts are disabled on this agent from remote calls; to enable, configure 'enable_script_checks' to true"],
    ];
    for (const [body, status, text] of cases) {
      const r = await call('PUT', '/v1/agent/service/register', body);
      assert.equal(r.status, status, JSON.stringify(body));
      assert.equal(r.text, text);
    }
    assert.equal((await call('GET', '/v1/agent/service/a')).status, 404);
  });

  test('replace-existing-checks drops checks missing from the new definition', async () => {
    await call('PUT', '/v1/agent/service/register', { Name: 'rep', Checks: [{ TTL: '5s' }, { TTL: '6s' }] });
    await call('PUT', '/v1/agent/service/register', { Name: 'rep', Checks: [{ CheckID: 'only', TTL: '5s' }] });
    let ids = Object.keys((await call('GET', '/v1/agent/checks')).json).filter((k) => k.startsWith('service:rep') || k === 'only');
    assert.deepEqual(ids.sort(), ['only', 'service:rep:1', 'service:rep:2']);
    await call('PUT', '/v1/agent/service/register?replace-existing-checks', { Name: 'rep', Checks: [{ CheckID: 'only', TTL: '5s' }] });
    ids = Object.keys((await call('GET', '/v1/agent/checks')).json).filter((k) => k.startsWith('service:rep') || k === 'only');
    assert.deepEqual(ids, ['only']);
    const catalogChecks = (await call('GET', '/v1/health/checks/rep')).json.map((c: any) => c.CheckID);
    assert.deepEqual(catalogChecks, ['only']);
  });

  test('?filter applies to agent/services', async () => {
    const r = await call('GET', `/v1/agent/services?filter=${encodeURIComponent('Service == "web"')}`);
    assert.deepEqual(Object.keys(r.json), ['web-1']);
    assert.equal((await call('GET', `/v1/agent/services?filter=${encodeURIComponent('Service ==')}`)).status, 400);
  });
});

describe('agent/service/:id', () => {
  test('unknown service is 404 with Consul text', async () => {
    const r = await call('GET', '/v1/agent/service/nope');
    assert.equal(r.status, 404);
    assert.equal(r.text, 'unknown service ID: nope');
  });

  test('ContentHash in body and header; a matching ?hash blocks until the service changes', async () => {
    await call('PUT', '/v1/agent/service/register', { Name: 'hashy', Port: 1 });
    const first = await call('GET', '/v1/agent/service/hashy');
    const hash = first.headers.get('x-consul-contenthash');
    assert.ok(hash);
    assert.equal(first.json.ContentHash, hash);
    const stale = await call('GET', '/v1/agent/service/hashy?hash=other&wait=5s');
    assert.equal(stale.json.ContentHash, hash);
    const started = Date.now();
    const pending = call('GET', `/v1/agent/service/hashy?hash=${hash}&wait=10s`);
    await new Promise((r) => setTimeout(r, 100));
    await call('PUT', '/v1/agent/service/register', { Name: 'hashy', Port: 2 });
    const changed = await pending;
    assert.ok(Date.now() - started < 5000);
    assert.equal(changed.json.Port, 2);
    assert.notEqual(changed.json.ContentHash, hash);
    assert.equal(changed.headers.get('x-consul-contenthash'), changed.json.ContentHash);
    const again = await call('GET', `/v1/agent/service/hashy?hash=${changed.json.ContentHash}&wait=200ms`);
    assert.equal(again.json.ContentHash, changed.json.ContentHash);
    assert.equal((await call('GET', '/v1/agent/service/hashy?wait=bogus')).text, 'Invalid wait time');
  });
});

describe('maintenance and local health', () => {
  test('service maintenance adds a critical check that hides the instance from ?passing', async () => {
    await call('PUT', '/v1/agent/service/register', { Name: 'maint', Check: { TTL: '30s', Status: 'passing' } });
    assert.equal((await call('GET', '/v1/health/service/maint?passing')).json.length, 1);
    assert.equal((await call('GET', '/v1/agent/health/service/id/maint?format=text')).text, 'passing');
    assert.equal((await call('PUT', '/v1/agent/service/maintenance/maint?enable=true&reason=deploy')).status, 200);
    const checks = (await call('GET', '/v1/health/checks/maint')).json;
    const m = checks.find((c: any) => c.CheckID === '_service_maintenance:maint');
    assert.equal(m.Name, 'Service Maintenance Mode');
    assert.equal(m.Notes, 'deploy');
    assert.equal(m.Status, 'critical');
    assert.deepEqual((await call('GET', '/v1/health/service/maint?passing')).json, []);
    const h = await call('GET', '/v1/agent/health/service/id/maint');
    assert.equal(h.status, 503);
    assert.equal(h.json.AggregatedStatus, 'maintenance');
    await call('PUT', '/v1/agent/service/maintenance/maint?enable=false');
    assert.equal((await call('GET', '/v1/health/service/maint?passing')).json.length, 1);
  });

  test('maintenance errors as Consul', async () => {
    assert.equal((await call('PUT', '/v1/agent/service/maintenance/maint')).text, 'Missing value for enable');
    const bad = await call('PUT', '/v1/agent/service/maintenance/maint?enable=yes');
    assert.equal(bad.status, 400);
    assert.equal(bad.text, 'Invalid value for enable: "yes"');
    const missing = await call('PUT', '/v1/agent/service/maintenance/nope?enable=true');
    assert.equal(missing.status, 404);
    assert.equal(missing.text, 'Unknown service ID "nope". Ensure that the service ID is passed, not the service name.');
    assert.equal((await call('PUT', '/v1/agent/maintenance')).text, 'Missing value for enable');
  });

  test('node maintenance makes every service on the node critical, with the default reason', async () => {
    await call('PUT', '/v1/agent/maintenance?enable=true');
    const node = (await call('GET', '/v1/health/node/test-node')).json;
    const m = node.find((c: any) => c.CheckID === '_node_maintenance');
    assert.equal(m.Name, 'Node Maintenance Mode');
    assert.equal(m.Notes, 'Maintenance mode is enabled for this node, but no reason was provided. This is a default message.');
    assert.deepEqual((await call('GET', '/v1/health/service/maint?passing')).json, []);
    assert.equal((await call('GET', '/v1/agent/health/service/name/maint?format=text')).text, 'maintenance');
    await call('PUT', '/v1/agent/maintenance?enable=false');
    assert.equal((await call('GET', '/v1/health/node/test-node')).json.some((c: any) => c.CheckID === '_node_maintenance'), false);
  });

  test('local health by id and name: 200 passing, 429 warning, 503 critical, 404 unknown', async () => {
    await call('PUT', '/v1/agent/service/register', { Name: 'lh', ID: 'lh1', Check: { CheckID: 'lh1c', TTL: '30s', Status: 'passing' } });
    await call('PUT', '/v1/agent/service/register', { Name: 'lh', ID: 'lh2', Check: { CheckID: 'lh2c', TTL: '30s', Status: 'passing' } });
    assert.equal((await call('GET', '/v1/agent/health/service/name/lh')).status, 200);
    await call('PUT', '/v1/agent/check/warn/lh2c');
    const byName = await call('GET', '/v1/agent/health/service/name/lh');
    assert.equal(byName.status, 429);
    assert.equal(byName.json.length, 2);
    assert.equal((await call('GET', '/v1/agent/health/service/id/lh1')).status, 200);
    await call('PUT', '/v1/agent/check/fail/lh1c');
    assert.equal((await call('GET', '/v1/agent/health/service/name/lh?format=text')).status, 503);
    const unknown = await call('GET', '/v1/agent/health/service/id/zz?format=text');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.text, 'ServiceId zz not found');
    const unknownJson = await call('GET', '/v1/agent/health/service/id/zz');
    assert.deepEqual(unknownJson.json, { AggregatedStatus: 'critical', Service: null, Checks: null });
    const byNameUnknown = await call('GET', '/v1/agent/health/service/name/zz?format=text');
    assert.equal(byNameUnknown.status, 404);
    assert.equal(byNameUnknown.text, 'ServiceName zz Not Found');
  });
});

describe('members and tokens', () => {
  test('members lists this agent with the agent/self member shape', async () => {
    const members = (await call('GET', '/v1/agent/members')).json;
    const self = (await call('GET', '/v1/agent/self')).json;
    assert.deepEqual(members, [self.Member]);
  });

  test('token updates need ACLs enabled, as Consul', async () => {
    const r = await call('PUT', '/v1/agent/token/default', { Token: 'x' });
    assert.equal(r.status, 401);
    assert.equal(r.text, 'ACL support disabled');
    const fl = await call('PUT', '/v1/agent/force-leave/other-node');
    assert.deepEqual([fl.status, fl.text], [500, "agent: No node found with name 'other-node'"]);
    assert.equal((await call('GET', '/v1/agent/reload')).status, 405);
  });
});
