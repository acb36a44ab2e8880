// Consul's ACL, TLS expiry, barrier and read-count metrics from a real server agent with ACLs and
// a tls.internal_rpc certificate: each appears in /v1/agent/metrics (Consul's JSON) and in
// ?format=prometheus with its type once the action behind it happened, and not before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDevAgent } from './support/agent.ts';
import { aclDenyConfig, httpCaller, ROOT } from './support/acl.ts';
import { selfSignedLocalhost } from './support/tls-cert.ts';
import { tlsProtocol } from './support/tls-config.ts';

interface Summary {
  Gauges: { Name: string; Value: number; Labels: Record<string, string> }[];
  Counters: { Name: string; Count: number; Labels: Record<string, string> }[];
  Samples: { Name: string; Count: number; Labels: Record<string, string> }[];
}

/** `# TYPE` of each Prometheus metric. */
function promTypes(text: string): Map<string, string> {
  const types = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) types.set(m[1], m[2]);
  return types;
}

const ACL_WRITES = [
  'acl.policy.upsert', 'acl.role.upsert', 'acl.token.upsert', 'acl.token.clone', 'acl.token.delete', 'acl.role.delete', 'acl.policy.delete',
];

test('acl.ResolveToken, the ACL write timers, leader.barrier, rpc.query and agent.tls.cert.expiry after the actions behind them', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'proconsul-metrics-tls-'));
  const pair = await selfSignedLocalhost();
  fs.writeFileSync(path.join(dir, 'agent.pem'), pair.cert);
  fs.writeFileSync(path.join(dir, 'agent.key'), pair.key);
  const acl = aclDenyConfig();
  const dev = await startDevAgent({
    config: {
      ...acl, nodeName: 'metrics-acl',
      raw: { telemetry: { prometheus_retention_time: '60s', disable_hostname: true } },
      tls: {
        internalRpc: tlsProtocol({ certFile: path.join(dir, 'agent.pem'), keyFile: path.join(dir, 'agent.key') }), https: tlsProtocol(), grpc: tlsProtocol(),
        serverMode: true, serverName: '', nodeName: 'metrics-acl', domain: 'consul.', enableAgentTlsForChecks: false, autoTls: false,
      },
    },
  });
  const call = httpCaller(() => dev.httpAddr);
  const metrics = async (): Promise<Summary> => (await call('GET', '/v1/agent/metrics', ROOT)).json as Summary;
  const sample = (s: Summary, name: string) => s.Samples.find((x) => x.Name === `consul.${name}`);
  const counter = (s: Summary, name: string) => s.Counters.find((x) => x.Name === `consul.${name}`);
  try {
    // The certificate expires an hour after it was made.
    const before = await metrics();
    const expiry = before.Gauges.find((g) => g.Name === 'consul.agent.tls.cert.expiry')?.Value ?? NaN;
    assert.ok(expiry > 3500 && expiry <= 3600, String(expiry));
    // The server became leader and ran its barrier before it answered.
    assert.ok((sample(before, 'leader.barrier')?.Count ?? 0) >= 1);
    for (const name of ACL_WRITES) assert.equal(sample(before, name), undefined, name);
    const resolvedBefore = sample(before, 'acl.ResolveToken')?.Count ?? 0;
    const queriesBefore = counter(before, 'rpc.query')?.Count ?? 0;

    const policy = await call('PUT', '/v1/acl/policy', ROOT, { Name: 'kv-read', Rules: 'key_prefix "" { policy = "read" }' });
    assert.equal(policy.status, 200, policy.text);
    const role = await call('PUT', '/v1/acl/role', ROOT, { Name: 'reader', Policies: [{ ID: policy.json.ID }] });
    assert.equal(role.status, 200, role.text);
    const token = await call('PUT', '/v1/acl/token', ROOT, { Roles: [{ ID: role.json.ID }] });
    assert.equal(token.status, 200, token.text);
    const clone = await call('PUT', `/v1/acl/token/${token.json.AccessorID}/clone`, ROOT, {});
    assert.equal(clone.status, 200, clone.text);
    assert.equal((await call('GET', '/v1/kv/missing', token.json.SecretID)).status, 404);
    assert.equal((await call('GET', '/v1/kv/missing', 'no-such-secret')).status, 403);
    assert.equal((await call('DELETE', `/v1/acl/token/${clone.json.AccessorID}`, ROOT)).status, 200);
    assert.equal((await call('DELETE', `/v1/acl/role/${role.json.ID}`, ROOT)).status, 200);
    assert.equal((await call('DELETE', `/v1/acl/policy/${policy.json.ID}`, ROOT)).status, 200);

    const after = await metrics();
    for (const name of ACL_WRITES) assert.equal(sample(after, name)?.Count, 1, name);
    // Every request above resolved its token (the unknown secret too, as Consul times failures).
    assert.ok((sample(after, 'acl.ResolveToken')?.Count ?? 0) >= resolvedBefore + 10);
    assert.deepEqual(sample(after, 'acl.ResolveToken')?.Labels, {});
    // The KV read served by the replica counts as a read query; the refused one never reached it.
    assert.ok((counter(after, 'rpc.query')?.Count ?? 0) > queriesBefore);

    const prom = await call('GET', '/v1/agent/metrics?format=prometheus', ROOT);
    assert.equal(prom.status, 200, prom.text);
    const types = promTypes(prom.text);
    for (const [name, type] of [
      ['consul_acl_ResolveToken', 'summary'], ['consul_acl_token_upsert', 'summary'], ['consul_acl_policy_delete', 'summary'],
      ['consul_leader_barrier', 'summary'], ['consul_rpc_query', 'counter'], ['consul_agent_tls_cert_expiry', 'gauge'],
    ]) assert.equal(types.get(name), type, name);
    assert.match(prom.text, /^consul_acl_token_clone_count 1$/m);
    assert.match(prom.text, /^consul_agent_tls_cert_expiry \d+$/m);
  } finally {
    await dev.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
