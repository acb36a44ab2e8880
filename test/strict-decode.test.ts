// Consul 1.7+ decodes most request bodies refusing unknown keys, each endpoint at its own nesting
// levels and with its own wording; keys real clients send keep working (python-consul, the npm
// client and the armon suite have their own tests). One family per describe, over real sockets.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiAgent, type ApiAnswer } from './support/api-agent.ts';
import { devConfig } from './support/agent.ts';

function refused(r: ApiAnswer, key: string, prefix = 'Request decode failed'): void {
  assert.equal(r.status, 400, r.text);
  assert.equal(r.text, `${prefix}: json: unknown field ${JSON.stringify(key)}`);
}

function ok(r: ApiAnswer): void {
  assert.equal(r.status, 200, r.text);
}

describe('agent and catalog bodies', () => {
  const { call } = apiAgent();

  test('agent service register: the service, its checks, weights, tagged addresses and proxy upstreams are strict; Connect is not', async () => {
    refused(await call('PUT', '/v1/agent/service/register', { Name: 'web', Bogus: 1 }), 'Bogus');
    refused(await call('PUT', '/v1/agent/service/register', { Name: 'web', Check: { ID: 'c', TTL: '10s' } }), 'ID');
    refused(await call('PUT', '/v1/agent/service/register', { Name: 'web', Checks: [{ TTL: '10s' }, { Script: 'x', Interval: '10s' }] }), 'Script');
    refused(await call('PUT', '/v1/agent/service/register', { Name: 'web', Weights: { Passing: 1, Critical: 0 } }), 'Critical');
    refused(await call('PUT', '/v1/agent/service/register', { Name: 'p', Kind: 'connect-proxy', Port: 1, Proxy: { DestinationServiceName: 'web', Upstreams: [{ DestinationName: 'db', LocalBindPort: 2, Bogus: 1 }] } }), 'Bogus');
    refused(await call('PUT', '/v1/agent/service/register', { Name: 'web', Port: 1, Connect: { SidecarService: { Bogus: 1 } } }), 'Bogus');
    ok(await call('PUT', '/v1/agent/service/register', {
      name: 'web', port: 80, enable_tag_override: true, tagged_addresses: { lan: { address: '10.0.0.1', port: 80 } },
      check: { CheckID: 'web-ttl', ttl: '10s', deregister_critical_service_after: '1m' }, Connect: { Native: false, Unknown: true },
    }));
    assert.equal((await call('GET', '/v1/agent/service/web')).json.EnableTagOverride, true);
  });

  test('agent check register takes ID (not CheckID); check update takes Status and Output only', async () => {
    refused(await call('PUT', '/v1/agent/check/register', { CheckID: 'c1', Name: 'c1', TTL: '10s' }), 'CheckID');
    ok(await call('PUT', '/v1/agent/check/register', { id: 'c1', name: 'c1', ttl: '10s', service_id: '', notes: 'n' }));
    refused(await call('PUT', '/v1/agent/check/update/c1', { Status: 'passing', Note: 'x' }), 'Note');
    ok(await call('PUT', '/v1/agent/check/update/c1', { status: 'passing', output: 'fine' }));
  });

  test('catalog register is strict in the node, service and checks but not in a check Definition; deregister takes the obsolete Address', async () => {
    refused(await call('PUT', '/v1/catalog/register', { Node: 'n1', Address: '10.0.0.9', Service: { Service: 's', Name: 's' } }), 'Name');
    refused(await call('PUT', '/v1/catalog/register', { Node: 'n1', Address: '10.0.0.9', Checks: [{ CheckID: 'a', Bogus: 1 }] }), 'Bogus');
    ok(await call('PUT', '/v1/catalog/register', { Node: 'n1', Address: '10.0.0.9', Check: { CheckID: 'a', Definition: { HTTP: 'http://x', Whatever: 1 } } }));
    ok(await call('PUT', '/v1/catalog/deregister', { Node: 'n1', Address: '10.0.0.9' }));
    refused(await call('PUT', '/v1/catalog/deregister', { Node: 'n1', Service: 's' }), 'Service');
  });

  test('coordinate update, autopilot configuration, txn, keyring, CA configuration and peering refuse unknown keys with their own wording; session create does not', async () => {
    refused(await call('PUT', '/v1/coordinate/update', { Node: 'test-node', Coord: { Vec: [0, 0], Error: 1.5, Bogus: 1 } }), 'Bogus');
    refused(await call('PUT', '/v1/operator/autopilot/configuration', { CleanupDeadServers: true, Foo: 1 }), 'Foo', 'Error parsing autopilot config');
    refused(await call('PUT', '/v1/txn', [{ KV: { Verb: 'set', Key: 'k', Value: '', Bogus: 1 } }]), 'Bogus', 'Failed to parse body');
    refused(await call('PUT', '/v1/txn', [{ Kv2: {} }]), 'Kv2', 'Failed to parse body');
    refused(await call('POST', '/v1/operator/keyring', { Key: 'x', Bogus: 1 }), 'Bogus');
    ok(await call('PUT', '/v1/txn', [{ kv: { verb: 'set', key: 'k', value: '' } }]));
    refused(await call('PUT', '/v1/connect/ca/configuration', { Provider: 'consul', Config: { Anything: 1 }, Bogus: 1 }), 'Bogus');
    refused(await call('POST', '/v1/agent/connect/authorize', { Target: 'web', ClientCertURI: 'spiffe://x', Bogus: 1 }), 'Bogus');
    refused(await call('POST', '/v1/peering/token', { PeerName: 'p', Bogus: 1 }), 'Bogus', 'Body decoding failed');
    refused(await call('POST', '/v1/peering/establish', { PeerName: 'p', PeeringToken: 'x', ServerExternalAddresses: [] }), 'ServerExternalAddresses', 'Body decoding failed');
    // structs.Session's UnmarshalJSON is plain json.Unmarshal: unknown keys are ignored.
    const s = await call('PUT', '/v1/session/create', { Name: 's', Whatever: 1 });
    assert.equal(s.status, 200, s.text);
  });
});

describe('ACL bodies', () => {
  const tokens = { ...devConfig().acl.tokens, initialManagement: 'root' };
  const { call } = apiAgent({ config: { acl: { ...devConfig().acl, enabled: true, defaultPolicy: 'deny', tokens } } });
  const root = (path: string) => `${path}${path.includes('?') ? '&' : '?'}token=root`;

  test('token, policy, role, binding rule, auth method and login bodies are strict, down to the link lists', async () => {
    refused(await call('PUT', root('/v1/acl/token'), { Description: 'x', Name: 'legacy' }), 'Name', 'Token decoding failed');
    refused(await call('PUT', root('/v1/acl/token'), { Policies: [{ Name: 'p', Rules: '' }] }), 'Rules', 'Token decoding failed');
    refused(await call('PUT', root('/v1/acl/policy'), { Name: 'p', Rules: '', Type: 'client' }), 'Type', 'Policy decoding failed');
    refused(await call('PUT', root('/v1/acl/role'), { Name: 'r', ServiceIdentities: [{ ServiceName: 'web', Bogus: 1 }] }), 'Bogus', 'Role decoding failed');
    refused(await call('PUT', root('/v1/acl/binding-rule'), { AuthMethod: 'm', Bogus: 1 }), 'Bogus', 'BindingRule decoding failed');
    refused(await call('PUT', root('/v1/acl/auth-method'), { Name: 'm', Type: 'jwt', Bogus: 1 }), 'Bogus', 'AuthMethod decoding failed');
    refused(await call('POST', '/v1/acl/login', { AuthMethod: 'm', BearerToken: 't', Bogus: 1 }), 'Bogus', 'Failed to decode request body');
    const made = await call('PUT', root('/v1/acl/policy'), { name: 'p1', rules: 'node_prefix "" { policy = "read" }', description: 'd' });
    assert.equal(made.status, 200, made.text);
  });

  test('agent token: the body takes Token only', async () => {
    refused(await call('PUT', root('/v1/agent/token/default'), { Token: 'x', AccessorID: 'y' }), 'AccessorID');
    ok(await call('PUT', root('/v1/agent/token/default'), { token: '' }));
  });
});

describe('intention and prepared query bodies', () => {
  const { call } = apiAgent();
  const exact = '/v1/connect/intentions/exact?source=web&destination=db';

  test('intentions are strict down to permission headers and JWT claims; the legacy create answers 500', async () => {
    const legacy = await call('POST', '/v1/connect/intentions', { SourceName: 'a', DestinationName: 'b', Action: 'allow', Bogus: 1 });
    assert.equal(legacy.status, 500, legacy.text);
    assert.equal(legacy.text, 'Failed to decode request body: json: unknown field "Bogus"');
    refused(await call('PUT', exact, { Action: 'allow', Name: 'x' }), 'Name');
    const header = { Name: 'x', Present: true, Bogus: 1 };
    refused(await call('PUT', exact, { Permissions: [{ Action: 'allow', HTTP: { PathPrefix: '/', Header: [header] } }] }), 'Bogus');
    refused(await call('PUT', exact, { Action: 'allow', JWT: { Providers: [{ Name: 'p', VerifyClaims: [{ Path: ['a'], Regex: 'x' }] }] } }), 'Regex');
    ok(await call('PUT', exact, {
      action: 'deny', description: 'd', SourceType: 'consul', Precedence: 0, CreatedAt: '0001-01-01T00:00:00Z',
      UpdatedAt: '0001-01-01T00:00:00Z', CreateIndex: 0, ModifyIndex: 0,
    }));
    // What a read answers goes back unchanged (a client's read-modify-write).
    ok(await call('PUT', exact, (await call('GET', exact)).json));
    const made = await call('POST', '/v1/connect/intentions', { SourceName: 'c', DestinationName: 'd', Action: 'allow', Meta: {} });
    assert.equal(made.status, 200, made.text);
    refused(await call('PUT', `/v1/connect/intentions/${made.json.ID}`, { SourceName: 'c', DestinationName: 'd', Action: 'deny', Legacy: true }), 'Legacy');
    ok(await call('PUT', `/v1/connect/intentions/${made.json.ID}`, { sourcename: 'c', destinationname: 'd', action: 'deny' }));
    ok(await call('PUT', `/v1/connect/intentions/${made.json.ID}`, (await call('GET', `/v1/connect/intentions/${made.json.ID}`)).json));
  });

  test('prepared query create and update are strict in the query, its service, failover targets, template and DNS', async () => {
    refused(await call('POST', '/v1/query', { Name: 'q', Service: { Service: 'web' }, Bogus: 1 }), 'Bogus');
    const empty = await call('POST', '/v1/query');
    assert.equal(empty.status, 400, empty.text);
    assert.equal(empty.text, 'Request decode failed: EOF');
    refused(await call('POST', '/v1/query', { Name: 'q', Service: { Service: 'web', Datacenter: 'dc2' } }), 'Datacenter');
    refused(await call('POST', '/v1/query', { Service: { Service: 'web', Failover: { Targets: [{ Datacenter: 'dc2', Service: 'x' }] } } }), 'Service');
    refused(await call('POST', '/v1/query', { Service: { Service: 'web' }, Template: { Type: 'name_prefix_match', Prefix: 'x' } }), 'Prefix');
    refused(await call('POST', '/v1/query', { Service: { Service: 'web' }, DNS: { TTL: '1s', Weight: 1 } }), 'Weight');
    const made = await call('POST', '/v1/query', { name: 'q', service: { service: 'web', failover: { nearestn: 1 } }, dns: { ttl: '5s' } });
    assert.equal(made.status, 200, made.text);
    const path = `/v1/query/${made.json.ID}`;
    refused(await call('PUT', path, { Name: 'q', Service: { Service: 'web', Failover: { Regions: [] } } }), 'Regions');
    const [stored] = (await call('GET', path)).json;
    ok(await call('PUT', path, { ...stored, Name: 'q2' }));
    assert.equal((await call('GET', path)).json[0].Name, 'q2');
  });
});
