// The request bodies exactly as Consul's Go client (hashicorp/consul/api) encodes them, zero values,
// nulls and response-only fields included, are taken end to end by the strict decoding and its type
// checks: what Nomad, Vault, Terraform's provider and other api-struct users send keeps working.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { apiAgent, type ApiAnswer } from './support/api-agent.ts';
import { devConfig } from './support/agent.ts';

function ok(r: ApiAnswer): void {
  assert.equal(r.status, 200, r.text);
}

describe('agent and catalog bodies from the Go client', () => {
  const { call } = apiAgent();

  test('a service with its checks, weights, locality and a sidecar with upstreams (api.AgentServiceRegistration)', async () => {
    ok(await call('PUT', '/v1/agent/service/register', { Name: 'min', Port: 80, Check: null, Checks: null }));
    ok(await call('PUT', '/v1/agent/service/register', {
      ID: 'web-1', Name: 'web', Tags: ['v1'], Port: 8080, Address: '127.0.0.1', TaggedAddresses: { lan: { Address: '127.0.0.1', Port: 8080 } },
      EnableTagOverride: true, Meta: { team: 'edge' }, Weights: { Passing: 3, Warning: 1 },
      Check: { CheckID: 'web-ttl', Name: 'ttl', TTL: '30s', Status: 'passing', Notes: 'n', DeregisterCriticalServiceAfter: '90m' },
      Checks: [{ Name: 'tcp', TCP: '127.0.0.1:1', Interval: '10s', Timeout: '1s', TCPUseTLS: true, TLSServerName: 'x', TLSSkipVerify: true, SuccessBeforePassing: 1, FailuresBeforeWarning: 1, FailuresBeforeCritical: 2 }],
      Connect: { SidecarService: {
        Port: 21000, Check: null, Checks: null,
        Proxy: { Upstreams: [{ DestinationName: 'db', LocalBindPort: 9191, MeshGateway: {} }], MeshGateway: {}, Expose: {}, Mode: 'direct' },
      } },
      Namespace: 'default', Locality: { Region: 'r1', Zone: 'z1' },
    }));
    const svc = (await call('GET', '/v1/agent/service/web-1')).json as Record<string, unknown>;
    assert.deepEqual(svc.Weights, { Passing: 3, Warning: 1 });
    ok(await call('PUT', '/v1/agent/check/register', { ID: 'c1', Name: 'c1', Notes: 'x', ServiceID: 'web-1', TTL: '10s', Status: 'warning' }));
    ok(await call('PUT', '/v1/agent/check/update/c1', { Status: 'passing', Output: 'fine' }));
  });

  test('a catalog registration with api.AgentService, api.AgentCheck and api.HealthCheck, then its deregistration', async () => {
    const definition = {
      HTTP: '', Header: null, Method: '', Body: '', TLSServerName: '', TLSSkipVerify: false, TCP: '', TCPUseTLS: false, UDP: '',
      GRPC: '', OSService: '', GRPCUseTLS: false, Interval: '0s', Timeout: '0s', DeregisterCriticalServiceAfter: '0s',
    };
    ok(await call('PUT', '/v1/catalog/register', {
      ID: '', Node: 'ext', Address: '10.1.1.1', TaggedAddresses: null, NodeMeta: null, Datacenter: '', SkipNodeUpdate: false,
      Service: {
        ID: 's1', Service: 's', Tags: null, Meta: null, Port: 80, Address: '', Weights: { Passing: 0, Warning: 0 },
        EnableTagOverride: false, CreateIndex: 0, ModifyIndex: 0,
      },
      Check: {
        Node: 'ext', CheckID: 'c1', Name: 'c', Status: 'passing', Notes: '', Output: '', ServiceID: 's1', ServiceName: 's', Type: '',
        ExposedPort: 0, Definition: definition,
      },
      Checks: [{
        Node: 'ext', CheckID: 'c2', Name: 'c2', Status: 'passing', Notes: '', Output: '', ServiceID: 's1', ServiceName: 's', ServiceTags: null,
        Type: '', ExposedPort: 0, Definition: definition, CreateIndex: 0, ModifyIndex: 0,
      }],
    }));
    ok(await call('PUT', '/v1/catalog/deregister', { Node: 'ext', Datacenter: '', ServiceID: 's1', CheckID: '' }));
  });

  test('txn, coordinate, autopilot and CA configuration bodies', async () => {
    ok(await call('PUT', '/v1/txn', [{ KV: { Verb: 'set', Key: 'k', Value: 'dg==', Flags: 0, Index: 0, Session: '' }, Node: null, Service: null, Check: null }]));
    ok(await call('PUT', '/v1/coordinate/update', { Node: (await call('GET', '/v1/agent/self')).json.Config.NodeName, Segment: '', Coord: { Vec: [0, 0, 0, 0, 0, 0, 0, 0], Error: 1.5, Adjustment: 0, Height: 1e-5 } }));
    ok(await call('PUT', '/v1/operator/autopilot/configuration', {
      CleanupDeadServers: true, LastContactThreshold: '200ms', MaxTrailingLogs: 250, MinQuorum: 0, ServerStabilizationTime: '10s',
      RedundancyZoneTag: '', DisableUpgradeMigration: false, UpgradeVersionTag: '', CreateIndex: 0, ModifyIndex: 0,
    }));
    ok(await call('PUT', '/v1/connect/ca/configuration', { Provider: 'consul', Config: { LeafCertTTL: '72h' }, State: null, ForceWithoutCrossSigning: false, CreateIndex: 0, ModifyIndex: 0 }));
  });

  test('intention and prepared query bodies (api.Intention, api.PreparedQueryDefinition)', async () => {
    // api.Intention: SourceNS, Precedence, the time.Time fields and the indexes have no omitempty.
    const ixn = {
      SourceNS: '', SourceName: 'web', DestinationNS: '', DestinationName: 'db', SourceType: 'consul', Action: 'allow', Precedence: 0,
      CreatedAt: '0001-01-01T00:00:00Z', UpdatedAt: '0001-01-01T00:00:00Z', CreateIndex: 0, ModifyIndex: 0,
    };
    ok(await call('PUT', '/v1/connect/intentions/exact?source=web&destination=db', ixn));
    const made = await call('POST', '/v1/connect/intentions', { ...ixn, SourceName: 'api', DestinationName: 'cache', Description: 'd', Meta: { k: 'v' } });
    ok(made);
    ok(await call('PUT', `/v1/connect/intentions/${made.json.ID}`, { ...ixn, ID: made.json.ID, SourceName: 'api', DestinationName: 'cache', Action: 'deny' }));
    // api.ServiceQuery's Failover is a struct (omitempty does nothing): always sent, with null lists.
    const query = {
      ID: '', Name: 'q', Session: '', Token: '', DNS: { TTL: '' }, Template: { Type: '', Regexp: '', RemoveEmptyTags: false },
      Service: {
        Service: 'web', Near: '', Failover: { NearestN: 0, Datacenters: null, Targets: null }, IgnoreCheckIDs: null, OnlyPassing: false,
        Tags: null, NodeMeta: null, ServiceMeta: null, Connect: false,
      },
    };
    const q = await call('POST', '/v1/query', query);
    ok(q);
    ok(await call('PUT', `/v1/query/${q.json.ID}`, { ...query, ID: q.json.ID, Name: 'q2' }));
  });
});

describe('ACL bodies from the Go client', () => {
  const tokens = { ...devConfig().acl.tokens, initialManagement: 'root' };
  const { call } = apiAgent({ config: { acl: { ...devConfig().acl, enabled: true, defaultPolicy: 'deny', tokens } } });
  const root = (path: string) => `${path}?token=root`;

  test('policy, role, token (CreateTime always sent, ExpirationTTL in nanoseconds), auth method and binding rule', async () => {
    ok(await call('PUT', root('/v1/acl/policy'), { ID: '', Name: 'p1', Description: '', Rules: 'node_prefix "" { policy = "read" }', Datacenters: null, Hash: null, CreateIndex: 0, ModifyIndex: 0 }));
    // api.ACLTemplatedPolicyVariables has no json tag: it sends `Name`, which Go matches to the `name` tag.
    const role = await call('PUT', root('/v1/acl/role'), {
      ID: '', Name: 'r1', Description: '', Policies: [{ ID: '', Name: 'p1' }], ServiceIdentities: [{ ServiceName: 'web' }],
      NodeIdentities: [{ NodeName: 'n1', Datacenter: 'dc1' }], TemplatedPolicies: [{ TemplateName: 'builtin/service', TemplateVariables: { Name: 'api' } }],
      Hash: null, CreateIndex: 0, ModifyIndex: 0,
    });
    ok(role);
    assert.deepEqual((role.json as { TemplatedPolicies: unknown[] }).TemplatedPolicies, [{ TemplateName: 'builtin/service', TemplateVariables: { name: 'api' } }]);
    ok(await call('PUT', root('/v1/acl/token'), {
      CreateIndex: 0, ModifyIndex: 0, AccessorID: '', SecretID: '', Description: 'nomad', Policies: [{ ID: '', Name: 'p1' }], Roles: [{ ID: '', Name: 'r1' }],
      ServiceIdentities: [{ ServiceName: 'web', Datacenters: ['dc1'] }], Local: false, ExpirationTTL: 3600000000000, CreateTime: '0001-01-01T00:00:00Z',
    }));
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    ok(await call('PUT', root('/v1/acl/auth-method'), {
      MaxTokenTTL: '1h0m0s', Name: 'idp', Type: 'jwt', DisplayName: 'IdP', Description: 'd', TokenLocality: 'local',
      Config: { JWTValidationPubKeys: [publicKey.export({ type: 'spki', format: 'pem' })], BoundIssuer: 'https://idp.test' }, CreateIndex: 0, ModifyIndex: 0,
    }));
    ok(await call('PUT', root('/v1/acl/binding-rule'), {
      ID: '', Description: '', AuthMethod: 'idp', Selector: '', BindType: 'service', BindName: 'web', CreateIndex: 0, ModifyIndex: 0,
    }));
    const rule = await call('PUT', root('/v1/acl/binding-rule'), {
      ID: '', Description: '', AuthMethod: 'idp', Selector: '', BindType: 'templated-policy', BindName: 'builtin/service',
      BindVars: { Name: 'web' }, CreateIndex: 0, ModifyIndex: 0,
    });
    ok(rule);
    assert.deepEqual((rule.json as { BindVars: unknown }).BindVars, { name: 'web' });
  });
});
