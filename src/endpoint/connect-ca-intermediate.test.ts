import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createAgent, type Agent } from '../index.ts';
import { silentLogger } from '../log.ts';
import { devConfig } from '../../test/support/agent.ts';
import { createIntermediateCsr } from '../connect/ca-intermediate.ts';

const MGMT = '0d4c6f55-3b1e-4f7a-8a0e-7d2f4b9c1e31';
let agent: Agent;
let clusterId = '';

before(async () => {
  agent = createAgent(devConfig({
    acl: {
      enabled: true, defaultPolicy: 'deny', downPolicy: 'extend-cache',
      tokens: { initialManagement: MGMT, agent: '', agentRecovery: '', default: '', replication: '', configFileServiceRegistration: '', dns: '' },
    },
  }), { logger: silentLogger() });
  await agent.start();
  clusterId = agent.replica.meta.get('cluster')!.ClusterID;
});
after(() => agent.stop());

test('ConnectCA.SignIntermediate: operator:write gets a CA certificate of the active root for the CSR\'s key, lasting the IntermediateCertTTL', async () => {
  const { csrPem } = await createIntermediateCsr({ clusterId, privateKeyType: 'ec', privateKeyBits: 256 });
  const pem = await agent.endpoints.connectSignIntermediate.sign({ CSR: csrPem }, agent.endpoints.acl.resolver.resolve(MGMT));
  const cert = new X509Certificate(pem);
  const root = agent.replica.caRoots.all().find((r) => r.Active)!;
  assert.ok(cert.ca);
  assert.ok(cert.verify(new X509Certificate(String(root.RootCert)).publicKey));
  assert.equal(cert.validToDate.getTime() - cert.validFromDate.getTime(), 8760 * 3_600_000, 'Consul\'s default IntermediateCertTTL');
});

test('ConnectCA.SignIntermediate refuses a token without operator:write, and a CSR of another trust domain', async () => {
  const { csrPem } = await createIntermediateCsr({ clusterId, privateKeyType: 'ec', privateKeyBits: 256 });
  await assert.rejects(agent.endpoints.connectSignIntermediate.sign({ CSR: csrPem }, agent.endpoints.acl.resolver.resolve('')),
    /^PermissionDeniedError: Permission denied: token with AccessorID '00000000-0000-0000-0000-000000000002' lacks permission 'operator:write'$/);
  const other = await createIntermediateCsr({ clusterId: '99999999-8888-7777-6666-555555555555', privateKeyType: 'ec', privateKeyBits: 256 });
  await assert.rejects(agent.endpoints.connectSignIntermediate.sign({ CSR: other.csrPem }, agent.endpoints.acl.resolver.resolve(MGMT)),
    { message: `incoming CSR domain "spiffe://99999999-8888-7777-6666-555555555555.consul" is not valid for our domain "spiffe://${clusterId}.consul"` });
});
