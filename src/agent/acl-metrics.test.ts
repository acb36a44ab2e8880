import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../clock.ts';
import { Telemetry } from '../telemetry/metrics.ts';
import { AGENT_RECOVERY_ACCESSOR, type AclIdentity } from '../endpoint/acl-resolver.ts';
import { measureAclWrites, measureClientTokenLoads, measureTokenResolution, tokenCacheStats } from './acl-metrics.ts';
import type { AclEndpoints } from './server-endpoints.ts';
import { ClientAclResolver } from './client-acl.ts';
import type { RuntimeConfig } from './config/runtime.ts';
import { silentLogger } from '../log.ts';

async function count(t: Telemetry, name: string): Promise<number> {
  const json = (await t.consulJSON()) as { Samples: { Name: string; Count: number }[] };
  return json.Samples.find((s) => s.Name === `consul.${name}`)?.Count ?? 0;
}

const identity = (accessorID: string): AclIdentity => ({ accessorID, tokenGiven: true } as unknown as AclIdentity);

test('acl.ResolveToken times resolutions while ACLs are on, failures included, never the agent recovery token', async () => {
  const t = new Telemetry(new ManualClock());
  const resolver = {
    enabled: false,
    resolve(secret: string): AclIdentity {
      if (secret === 'unknown') throw new Error('ACL not found');
      return identity(secret === 'recovery' ? AGENT_RECOVERY_ACCESSOR : 'a1');
    },
  };
  measureTokenResolution(t, { resolver } as unknown as Pick<AclEndpoints, 'resolver'>);
  assert.equal(resolver.resolve('s').accessorID, 'a1');
  assert.equal(await count(t, 'acl.ResolveToken'), 0);
  resolver.enabled = true;
  resolver.resolve('s');
  resolver.resolve('s');
  assert.throws(() => resolver.resolve('unknown'), /ACL not found/);
  assert.equal(resolver.resolve('recovery').accessorID, AGENT_RECOVERY_ACCESSOR);
  assert.equal(await count(t, 'acl.ResolveToken'), 3);
});

test('ACL write timers: one sample per write while ACLs are on; a write made by another (clone → set) is timed as the outer only', async () => {
  const t = new Telemetry(new ManualClock());
  const resolver = { enabled: true };
  class Tokens {
    async set(): Promise<string> { return 'set'; }
    async clone(): Promise<string> { return this.set(); }
    async delete(): Promise<void> { throw new Error('Permission denied'); }
  }
  const noop = { async setPolicy() {}, async deletePolicy() {}, async setRole() {}, async deleteRole() {} };
  const auth = { async setRule() {}, async deleteRule() {}, async setMethod() {}, async deleteMethod() {}, async login() {} };
  const acl = { resolver, tokens: new Tokens(), policies: noop, auth, misc: { async logout() {} } } as unknown as AclEndpoints;
  measureAclWrites(t, acl);
  await acl.tokens.set({} as never, undefined, true);
  assert.equal(await acl.tokens.clone('a', '', undefined), 'set');
  await assert.rejects(acl.tokens.delete('a', undefined, ''), /Permission denied/);
  assert.deepEqual(
    [await count(t, 'acl.token.upsert'), await count(t, 'acl.token.clone'), await count(t, 'acl.token.delete')],
    [1, 1, 1],
  );
  // Another write after the clone is timed again (the nesting flag was cleared).
  await acl.tokens.set({} as never, undefined, true);
  assert.equal(await count(t, 'acl.token.upsert'), 2);
  resolver.enabled = false;
  await acl.policies.setPolicy({} as never, undefined);
  assert.equal(await count(t, 'acl.policy.upsert'), 0);
});

test('a client agent times each token load but the agent recovery token\'s, told by the resolver\'s own check', async () => {
  const t = new Telemetry(new ManualClock());
  const asked: string[] = [];
  const acl = new ClientAclResolver({
    config: { raw: {}, nodeName: 'c1', acl: { downPolicy: 'deny', defaultPolicy: 'deny' } } as unknown as RuntimeConfig,
    call: async (_method, _path, secret) => {
      asked.push(secret ?? '');
      return { status: 403, body: Buffer.from('ACL not found'), headers: {} } as never;
    },
    clock: new ManualClock(), logger: silentLogger(), agentRecovery: () => 'recovery',
  });
  measureClientTokenLoads(t, acl);
  await acl.load('s1');
  await acl.load('recovery');
  await acl.load('');
  // The recovery token is the agent's own: no server asked, not timed.
  assert.deepEqual(asked, ['s1', '']);
  assert.equal(acl.resolve('recovery').accessorID, 'agent-recovery-token');
  assert.equal(await count(t, 'acl.ResolveToken'), 2);
});

test('the wrapper leaves the recovery check to the resolver (no secret compared by the wrapper)', async () => {
  const t = new Telemetry(new ManualClock());
  const checked: string[] = [];
  const acl = {
    async load(_secret: string) {},
    isAgentRecovery(secret: string) { checked.push(secret); return secret.startsWith('rec-'); },
  };
  measureClientTokenLoads(t, acl);
  await acl.load('rec-1');
  await acl.load('s1');
  assert.deepEqual(checked, ['rec-1', 's1']);
  assert.equal(await count(t, 'acl.ResolveToken'), 1);
});

test('acl.token.cache_hit/cache_miss: one pair per agent, defined at 0 before any cache counts, shared by every cache', async () => {
  const t = new Telemetry(new ManualClock());
  // The agent defines the pair; a secondary server's remote token cache asks for it again.
  const defined = tokenCacheStats(t);
  assert.match(await t.prometheus(), /^consul_acl_token_cache_hit 0$/m);
  assert.match(await t.prometheus(), /^consul_acl_token_cache_miss 0$/m);
  const cache = tokenCacheStats(t);
  cache.miss();
  cache.hit();
  defined.hit();
  const prom = await t.prometheus();
  assert.match(prom, /^consul_acl_token_cache_hit 2$/m);
  assert.match(prom, /^consul_acl_token_cache_miss 1$/m);
});
