// AclResolver with remote resolution wired as a secondary's (a dev agent's resolver given a fake
// primary): which secrets are asked of the primary, and what its answers grant.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createAgent, type Agent } from '../index.ts';
import { systemClock } from '../clock.ts';
import { silentLogger } from '../log.ts';
import { devConfig } from '../../test/support/agent.ts';
import { RemoteTokens } from './acl-remote.ts';

const MGMT = '6a1f7d2e-3c4b-4a5d-8e9f-0a1b2c3d4e5f';
let agent: Agent;

before(async () => {
  agent = createAgent(devConfig({
    acl: {
      enabled: true, defaultPolicy: 'deny', downPolicy: 'extend-cache',
      tokens: { initialManagement: MGMT, agent: '', agentRecovery: '', default: '', replication: '', configFileServiceRegistration: '', dns: '' },
    },
  }), { logger: silentLogger() });
  await agent.start();
});
after(() => agent.stop());

test('token replication off: a token held here (left from when it was on) is still the primary\'s to resolve', async () => {
  const resolver = agent.endpoints.acl.resolver;
  assert.ok(agent.replica.acl.tokens.by(MGMT), 'held here');
  const asked: string[] = [];
  // The primary has deleted it since.
  const remote = new RemoteTokens({
    fetch: async (secret) => { asked.push(secret); return null; },
    clock: systemClock, logger: silentLogger(), ttlMs: 30_000, downPolicy: 'extend-cache',
  });
  resolver.useRemote(remote, { always: () => true, unknown: () => true });
  await resolver.prepare(MGMT);
  assert.deepEqual(asked, [MGMT]);
  assert.throws(() => resolver.resolve(MGMT), /ACL not found/);
  // With token replication on (and tokens replicated), what is held here answers without the primary.
  resolver.useRemote(remote, { always: () => false, unknown: () => false });
  assert.ok(resolver.resolve(MGMT).authorizer.aclWrite() === 'allow');
});

test("the primary out of reach: down_policy answers as Consul's missing identity 'primary-dc-down'", async () => {
  const resolver = agent.endpoints.acl.resolver;
  const remote = new RemoteTokens({
    fetch: async () => { throw new Error('rpc error making call: connect ECONNREFUSED'); },
    clock: systemClock, logger: silentLogger(), ttlMs: 30_000, downPolicy: 'deny',
  });
  resolver.useRemote(remote, { always: () => true });
  const secret = '7b2c9d4e-0000-4000-8000-000000000001';
  await resolver.prepare(secret);
  const id = resolver.resolve(secret);
  assert.equal(id.accessorID, 'primary-dc-down');
  assert.equal(id.authorizer.keyRead('k'), 'deny');
});
