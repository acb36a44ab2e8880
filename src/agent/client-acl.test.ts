import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../clock.ts';
import { silentLogger } from '../log.ts';
import { parseRules } from '../acl/compile.ts';
import { InternalError } from '../errors.ts';
import { ClientAclResolver } from './client-acl.ts';
import type { ForwardResponse } from './forward.ts';
import type { TokenGrants } from './rpc-server.ts';
import { devConfig } from '../../test/support/agent.ts';

const grants = (g: Partial<TokenGrants>): TokenGrants => ({ Enabled: true, AccessorID: 'acc-1', Management: false, Policies: [], ...g });
const ok = (body: unknown): ForwardResponse => ({ status: 200, headers: {}, body: Buffer.from(JSON.stringify(body)), server: 's1:8300' });

function resolver(answer: (token: string) => ForwardResponse | Error, downPolicy = 'extend-cache', acl: Record<string, string> = {}) {
  const clock = new ManualClock(0);
  const calls: string[] = [];
  const config = devConfig({ server: false });
  config.raw = { acl };
  config.acl = { ...config.acl, enabled: true, defaultPolicy: 'deny', downPolicy };
  const r = new ClientAclResolver({
    config, clock, logger: silentLogger(), agentRecovery: () => 'recovery-secret',
    call: async (_m, url, token) => {
      calls.push(`${url} ${token}`);
      const a = answer(token);
      if (a instanceof Error) throw a;
      return a;
    },
  });
  return { r, clock, calls };
}

test('a token is compiled from the policies the server returns and cached for token_ttl', async () => {
  const { r, clock, calls } = resolver(() => ok(grants({ Policies: [parseRules('service "web" { policy = "write" }')] })));
  await r.load('t1');
  const id = r.resolve('t1');
  assert.equal(id.accessorID, 'acc-1');
  assert.equal(id.tokenGiven, true);
  assert.equal(id.authorizer.serviceWrite('web'), 'allow');
  assert.equal(id.authorizer.serviceWrite('db'), 'deny');
  await r.load('t1');
  assert.equal(calls.length, 1);
  clock.advance(30_001);
  await r.load('t1');
  assert.deepEqual(calls, ['/v1/internal/rpc/acl/authorizer t1', '/v1/internal/rpc/acl/authorizer t1']);
});

test('management tokens, unknown tokens and the agent recovery token', async () => {
  const { r, calls } = resolver((t) => (t === 'mgmt' ? ok(grants({ Management: true }))
    : { status: 403, headers: {}, body: Buffer.from('ACL not found'), server: 's1:8300' }));
  await r.load('mgmt');
  assert.equal(r.resolve('mgmt').authorizer.aclWrite(), 'allow');
  await r.load('nope');
  assert.throws(() => r.resolve('nope'), { message: 'ACL not found' });
  // Not found is asked again (the token may be created any moment), found tokens are cached.
  await r.load('nope');
  assert.equal(calls.filter((c) => c.endsWith(' nope')).length, 2);
  await r.load('recovery-secret');
  const rec = r.resolve('recovery-secret').authorizer;
  assert.equal(rec.agentWrite(devConfig().nodeName), 'allow');
  assert.equal(rec.keyWrite('x'), 'deny');
  assert.equal(calls.some((c) => c.endsWith('recovery-secret')), false);
});

test('without servers: extend-cache keeps the cached identity, deny denies, otherwise the error surfaces', async () => {
  let up = true;
  const down = () => new InternalError('No known Consul servers');
  const ext = resolver(() => (up ? ok(grants({ Policies: [parseRules('key_prefix "" { policy = "read" }')] })) : down()));
  await ext.r.load('t');
  up = false;
  ext.clock.advance(60_000);
  await ext.r.load('t');
  assert.equal(ext.r.resolve('t').authorizer.keyRead('a'), 'allow');
  await assert.rejects(ext.r.load('other'), { message: 'No known Consul servers' });
  const deny = resolver(down, 'deny');
  await deny.r.load('t');
  assert.equal(deny.r.resolve('t').authorizer.keyRead('a'), 'deny');
});

test('acl.policy_ttl and role_ttl: grants from linked policies or roles are asked again past the shorter TTL', async () => {
  const fetchesWithin = async (g: Partial<TokenGrants>, acl: Record<string, string>, ms: number) => {
    const { r, clock, calls } = resolver(() => ok(grants(g)), 'extend-cache', acl);
    await r.load('t');
    clock.advance(ms);
    await r.load('t');
    return calls.length;
  };
  const ttls = { token_ttl: '1m', policy_ttl: '5s', role_ttl: '10s' };
  assert.equal(await fetchesWithin({ HasPolicies: true }, ttls, 5_001), 2);
  assert.equal(await fetchesWithin({ HasPolicies: true }, ttls, 4_999), 1);
  assert.equal(await fetchesWithin({ HasRoles: true }, ttls, 5_001), 1);
  assert.equal(await fetchesWithin({ HasRoles: true }, ttls, 10_001), 2);
  // Nothing linked (identities only): the token's TTL alone.
  assert.equal(await fetchesWithin({}, ttls, 30_000), 1);
  // A longer policy TTL does not hold grants past token_ttl.
  assert.equal(await fetchesWithin({ HasPolicies: true }, { token_ttl: '2s', policy_ttl: '1h' }, 2_001), 2);
});

test('acl.disabled_ttl: servers with ACLs off are not asked again, for any token, until it passes', async () => {
  const { r, clock, calls } = resolver(() => ok(grants({ Enabled: false })), 'extend-cache', { disabled_ttl: '45s', token_ttl: '1s' });
  await r.load('t1');
  assert.equal(r.resolve('t1').authorizer.aclWrite(), 'allow');
  clock.advance(44_000);
  await r.load('t2');
  assert.equal(r.resolve('t2').authorizer.keyWrite('k'), 'allow');
  assert.equal(calls.length, 1);
  clock.advance(1_001);
  await r.load('t2');
  assert.equal(calls.length, 2);
});

test('a request whose token was loaded while ACLs were disabled resolves as such even if disabled_ttl runs out before its handler resolves it', async () => {
  let enabled = false;
  const { r, clock, calls } = resolver(() => (enabled ? ok(grants({})) : ok(grants({ Enabled: false }))), 'deny', { disabled_ttl: '30s' });
  await r.load('t1');
  clock.advance(29_000);
  await r.load('t2');
  // The handler of t2's request runs on past the disabled spell (it reads a body, say).
  clock.advance(2_000);
  assert.equal(r.resolve('t2').authorizer.keyWrite('k'), 'allow');
  // The next request asks the servers again: ACLs are on now, and t2 grants nothing.
  enabled = true;
  await r.load('t2');
  assert.equal(calls.length, 2);
  assert.equal(r.resolve('t2').authorizer.keyWrite('k'), 'deny');
  assert.throws(() => r.resolve('t1'), /ACL not found/, 'a token not loaded since is not resolved as disabled either');
});

test('load() counts fresh cached tokens as hits and server questions as misses; the recovery token and disabled ACLs are neither', async () => {
  const clock = new ManualClock(0);
  const config = devConfig({ server: false });
  config.raw = { acl: {} };
  config.acl = { ...config.acl, enabled: true, defaultPolicy: 'deny', downPolicy: 'extend-cache' };
  const stats = { hit: 0, miss: 0 };
  let enabled = true;
  const r = new ClientAclResolver({
    config, clock, logger: silentLogger(), agentRecovery: () => 'recovery-secret', cacheStats: { hit: () => stats.hit++, miss: () => stats.miss++ },
    call: async () => ok(enabled ? grants({ Management: true }) : { Enabled: false }),
  });
  await r.load('t1');
  await r.load('t1');
  await r.load('recovery-secret');
  assert.deepEqual(stats, { hit: 1, miss: 1 });
  clock.advance(30_001);
  await r.load('t1');
  assert.deepEqual(stats, { hit: 1, miss: 2 });
  enabled = false;
  await r.load('t2');
  await r.load('t2');
  assert.deepEqual(stats, { hit: 1, miss: 3 });
});
