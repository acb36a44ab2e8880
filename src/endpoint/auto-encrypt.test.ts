import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createAgent, type Agent, type RuntimeConfig } from '../index.ts';
import { createLogger, silentLogger } from '../log.ts';
import { devConfig } from '../../test/support/agent.ts';
import { createCsr } from '../connect/csr.ts';
import { agentUri } from '../connect/index.ts';
import { ALLOW_TLS_NOT_ENABLED, CONNECT_NOT_ENABLED } from './auto-encrypt.ts';

const MGMT = '2b778dd9-f5f1-6f29-b4b4-9a5fa948757a';
let agent: Agent;

before(async () => {
  agent = createAgent(devConfig({
    autoEncrypt: { tls: false, allowTls: true, dnsSan: [], ipSan: [] },
    acl: {
      enabled: true, defaultPolicy: 'deny', downPolicy: 'extend-cache',
      tokens: { initialManagement: MGMT, agent: '', agentRecovery: '', default: '', replication: '', configFileServiceRegistration: '', dns: '' },
    },
  }), { logger: silentLogger() });
  await agent.start();
});
after(() => agent.stop());

const csrFor = (node: string) => createCsr(agentUri({ host: 'unknown', datacenter: 'dc1', agent: node }), ['localhost'], ['127.0.0.1']);

test('AutoEncrypt.Sign: an agent CSR becomes a leaf in the cluster trust domain, with the roots', async () => {
  const { csrPem } = await csrFor('client-1');
  const id = agent.endpoints.acl.resolver.resolve(MGMT);
  const res = await agent.endpoints.autoEncrypt.sign({ Datacenter: 'dc1', CSR: csrPem }, id);
  const clusterId = agent.replica.meta.get('cluster')!.ClusterID;
  const uri = `spiffe://${clusterId}.consul/agent/client/dc/dc1/id/client-1`;
  assert.equal(res.IssuedCert.Agent, 'client-1');
  assert.equal(res.IssuedCert.AgentURI, uri);
  assert.equal(res.IssuedCert.PrivateKeyPEM, '');
  const cert = new X509Certificate(res.IssuedCert.CertPEM);
  assert.match(cert.subjectAltName ?? '', new RegExp(`DNS:localhost, IP Address:127.0.0.1, URI:${uri.replace(/\./g, '\\.')}`));
  assert.equal(res.ConnectCARoots.Roots.length, 1);
  assert.ok(cert.verify(new X509Certificate(res.ConnectCARoots.Roots[0].RootCert).publicKey));
  assert.equal(res.ConnectCARoots.TrustDomain, `${clusterId}.consul`);
  // 72h leaf TTL plus the drift minute.
  assert.equal(Date.parse(res.IssuedCert.ValidBefore) - Date.parse(res.IssuedCert.ValidAfter), 72 * 3_600_000);
  assert.deepEqual(res.ManualCARoots, []);
  assert.equal(res.VerifyServerHostname, false);
});

test('AutoEncrypt.Sign refuses the anonymous token, another datacenter and non-agent IDs with Consul\'s texts', async () => {
  const { csrPem } = await csrFor('client-1');
  const anon = agent.endpoints.acl.resolver.resolve('');
  await assert.rejects(agent.endpoints.autoEncrypt.sign({ Datacenter: 'dc1', CSR: csrPem }, anon), /Permission denied: .*lacks permission 'node:write' on "client-1"/);
  const mgmt = agent.endpoints.acl.resolver.resolve(MGMT);
  await assert.rejects(agent.endpoints.autoEncrypt.sign({ Datacenter: 'dc2', CSR: csrPem }, mgmt),
    { message: "mismatched datacenter (client_dc='dc2' server_dc='dc1'); check client has same datacenter set as servers" });
  const service = await createCsr('spiffe://x.consul/ns/default/dc/dc1/svc/web', [], []);
  await assert.rejects(agent.endpoints.autoEncrypt.sign({ Datacenter: 'dc1', CSR: service.csrPem }, mgmt),
    { message: 'SPIFFE ID in CSR must be a service, mesh-gateway, or agent ID' });
  await assert.rejects(agent.endpoints.autoEncrypt.sign({ Datacenter: 'dc1', CSR: 'not a csr' }, mgmt), /Failed to parse CSR/);
});

test('AutoEncrypt.Sign needs Connect and allow_tls', async () => {
  const { csrPem } = await csrFor('client-1');
  const cases: [Partial<RuntimeConfig>, string][] = [
    [{ autoEncrypt: { tls: false, allowTls: false, dnsSan: [], ipSan: [] } }, ALLOW_TLS_NOT_ENABLED],
    [{ connect: { enabled: false, caProvider: '', caConfig: {} } }, CONNECT_NOT_ENABLED],
  ];
  for (const [overrides, message] of cases) {
    const a = createAgent(devConfig(overrides), { logger: silentLogger() });
    await a.start();
    try {
      await assert.rejects(a.endpoints.autoEncrypt.sign({ Datacenter: 'dc1', CSR: csrPem }, undefined), { message });
    } finally {
      await a.stop();
    }
  }
});

test('the CA uses the configured leaf TTL and key; a leaf TTL Consul refuses leaves the CA uninitialized', async () => {
  const { csrPem } = await csrFor('client-1');
  const allowTls = { tls: false, allowTls: true, dnsSan: [], ipSan: [] };
  const rsa = createAgent(devConfig({ autoEncrypt: allowTls, connect: { enabled: true, caProvider: '', caConfig: { LeafCertTTL: '2h', PrivateKeyType: 'rsa', PrivateKeyBits: 2048 } } }),
    { logger: silentLogger() });
  await rsa.start();
  try {
    const res = await rsa.endpoints.autoEncrypt.sign({ Datacenter: 'dc1', CSR: csrPem }, undefined);
    assert.equal(Date.parse(res.IssuedCert.ValidBefore) - Date.parse(res.IssuedCert.ValidAfter), 2 * 3_600_000);
    assert.deepEqual([res.ConnectCARoots.Roots[0].PrivateKeyType, res.ConnectCARoots.Roots[0].PrivateKeyBits], ['rsa', 2048]);
  } finally {
    await rsa.stop();
  }
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', json: true, write: (s) => { lines.push(s); } });
  const short = createAgent(devConfig({ autoEncrypt: allowTls, connect: { enabled: true, caProvider: '', caConfig: { LeafCertTTL: '90s' } } }), { logger });
  await short.start();
  try {
    await assert.rejects(short.endpoints.autoEncrypt.sign({ Datacenter: 'dc1', CSR: csrPem }, undefined),
      { message: 'CA is uninitialized and unable to sign certificates yet: provider is nil' });
    assert.deepEqual(short.replica.caRoots.all(), []);
    const failed = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['@message'] === 'Failed to initialize Connect CA');
    assert.equal(failed?.error, 'error configuring provider: leaf cert TTL must be greater or equal than 1h0m0s');
  } finally {
    await short.stop();
  }
});
