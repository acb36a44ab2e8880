import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createAgent, type Agent } from '../index.ts';
import { silentLogger } from '../log.ts';
import { devConfig } from '../../test/support/agent.ts';
import { createCsr } from '../connect/csr.ts';
import { agentUri, serviceUri } from '../connect/index.ts';
import { RateLimitedError } from '../errors.ts';

const MGMT = '6a1f2c33-6f0e-4d4e-9a51-0c3b0f6d9e21';
let agent: Agent;
let trust = '';

before(async () => {
  agent = createAgent(devConfig({
    autoEncrypt: { tls: false, allowTls: true, dnsSan: [], ipSan: [] },
    acl: {
      enabled: true, defaultPolicy: 'deny', downPolicy: 'extend-cache',
      tokens: { initialManagement: MGMT, agent: '', agentRecovery: '', default: '', replication: '', configFileServiceRegistration: '', dns: '' },
    },
  }), { logger: silentLogger() });
  await agent.start();
  trust = `${agent.replica.meta.get('cluster')!.ClusterID}.consul`;
});
after(() => agent.stop());

const svcCsr = (service: string, host = trust, datacenter = 'dc1') => createCsr(serviceUri({ host, namespace: 'default', datacenter, service }), [], []);

test('ConnectCA.Sign: a service CSR becomes a leaf for its SPIFFE ID with a fresh index each time', async () => {
  const { csrPem } = await svcCsr('web');
  const mgmt = agent.endpoints.acl.resolver.resolve(MGMT);
  const a = await agent.endpoints.connectSign.sign({ Datacenter: 'dc1', CSR: csrPem }, mgmt);
  const b = await agent.endpoints.connectSign.sign({ Datacenter: 'dc1', CSR: csrPem }, mgmt);
  const uri = `spiffe://${trust}/ns/default/dc/dc1/svc/web`;
  assert.equal(a.Service, 'web');
  assert.equal(a.ServiceURI, uri);
  assert.equal(a.PrivateKeyPEM, '');
  assert.equal(a.CreateIndex, a.ModifyIndex);
  assert.ok(b.ModifyIndex > a.ModifyIndex);
  const cert = new X509Certificate(a.CertPEM);
  assert.equal(cert.subjectAltName, `URI:${uri}`);
  const root = agent.replica.caRoots.all().find((r) => r.Active)!;
  assert.ok(cert.verify(new X509Certificate(String(root.RootCert)).publicKey));
  assert.equal(Date.parse(a.ValidBefore) - Date.parse(a.ValidAfter), 72 * 3_600_000);
});

test('ConnectCA.Sign signs a service of another namespace or partition, its SPIFFE ID as Consul Enterprise writes it', async () => {
  const mgmt = agent.endpoints.acl.resolver.resolve(MGMT);
  const sign = async (uri: string) => agent.endpoints.connectSign.sign({ Datacenter: 'dc1', CSR: (await createCsr(uri, [], [])).csrPem }, mgmt);
  const nsUri = serviceUri({ host: trust, namespace: 'team-a', datacenter: 'dc1', service: 'web' });
  assert.equal(nsUri, `spiffe://${trust}/ns/team-a/dc/dc1/svc/web`);
  const a = await sign(nsUri);
  assert.equal(a.ServiceURI, nsUri);
  assert.equal(new X509Certificate(a.CertPEM).subjectAltName, `URI:${nsUri}`);
  assert.deepEqual(Object.keys(a).slice(-4), ['Namespace', 'Partition', 'CreateIndex', 'ModifyIndex']);
  assert.deepEqual([a.Service, a.Namespace, a.Partition], ['web', 'team-a', 'default']);
  const apUri = serviceUri({ host: trust, partition: 'p1', namespace: 'team-b', datacenter: 'dc1', service: 'api' });
  assert.equal(apUri, `spiffe://${trust}/ap/p1/ns/team-b/dc/dc1/svc/api`);
  const b = await sign(apUri);
  assert.equal(new X509Certificate(b.CertPEM).subjectAltName, `URI:${apUri}`);
  assert.deepEqual([b.Service, b.Namespace, b.Partition], ['api', 'team-b', 'p1']);
  // The default tenant's answer keeps CE's shape.
  const d = await sign(serviceUri({ host: trust, namespace: 'default', partition: 'default', datacenter: 'dc1', service: 'web' }));
  assert.equal(d.ServiceURI, `spiffe://${trust}/ns/default/dc/dc1/svc/web`);
  assert.ok(!('Namespace' in d) && !('Partition' in d));
});

test('ConnectCA.Sign refuses what Consul refuses, with its texts', async () => {
  const mgmt = agent.endpoints.acl.resolver.resolve(MGMT);
  const anon = agent.endpoints.acl.resolver.resolve('');
  const sign = async (csr: Promise<{ csrPem: string }>, id = mgmt) => agent.endpoints.connectSign.sign({ Datacenter: 'dc1', CSR: (await csr).csrPem }, id);
  await assert.rejects(sign(svcCsr('web'), anon), /^PermissionDeniedError: Permission denied: token with AccessorID '00000000-0000-0000-0000-000000000002' lacks permission 'service:write' on "web"$/);
  await assert.rejects(sign(svcCsr('web', trust, 'dc2')), { message: 'SPIFFE ID in CSR from a different datacenter: dc2, we are dc1' });
  await assert.rejects(sign(svcCsr('web', 'other.consul')), { message: `SPIFFE ID in CSR from a different trust domain: other.consul, we are ${trust}` });
  await assert.rejects(sign(createCsr(`spiffe://${trust}/ns/Not_A_Label/dc/dc1/svc/web`, [], [])), { message: 'SPIFFE ID in CSR names an invalid namespace: not_a_label' });
  await assert.rejects(sign(createCsr(agentUri({ host: trust, datacenter: 'dc1', agent: 'n1' }), [], [])), { message: 'SPIFFE ID in CSR must be a service or agent ID' });
  await assert.rejects(agent.endpoints.connectSign.sign({ Datacenter: 'dc1', CSR: 'nope' }, mgmt), /Failed to parse CSR/);
});

test('ConnectCA.Sign and AutoEncrypt.Sign share the server\'s CSR rate limit', async () => {
  const mgmt = agent.endpoints.acl.resolver.resolve(MGMT);
  await agent.endpoints.ca.setConfiguration({ Provider: 'consul', Config: { LeafCertTTL: '72h', CSRMaxPerSecond: 0.001 }, State: null, ForceWithoutCrossSigning: false }, mgmt);
  await agent.endpoints.connectSign.sign({ Datacenter: 'dc1', CSR: (await svcCsr('web')).csrPem }, mgmt);
  const agentCsr = await createCsr(agentUri({ host: 'unknown', datacenter: 'dc1', agent: 'c1' }), [], []);
  await assert.rejects(agent.endpoints.autoEncrypt.sign({ Datacenter: 'dc1', CSR: agentCsr.csrPem }, mgmt), RateLimitedError);
  await assert.rejects(agent.endpoints.connectSign.sign({ Datacenter: 'dc1', CSR: (await svcCsr('web')).csrPem }, mgmt), { message: 'Rate limit reached, try again later' });
});
