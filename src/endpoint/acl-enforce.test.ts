// Enforcement with a tenant: the authorizer sees the tenant's context, denials name it, and the
// default tenant passes no context at all (its checks and texts stay as they were).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { authorizerFrom, chainedAuthorizer, denyAll, type AuthorizerContext } from '../acl/index.ts';
import { newPolicyAuthorizer } from '../acl/scoped-authorizer.ts';
import { parseRules } from '../acl/rules.ts';
import { DEFAULT_ENT } from '../state/index.ts';
import { allowed, authorize, entContext } from './acl-enforce.ts';
import type { AclIdentity } from './acl-resolver.ts';

test('checks carry the tenant context; the default tenant none', () => {
  const seen: (AuthorizerContext | undefined)[] = [];
  const authorizer = authorizerFrom((_m, _n, ctx) => { seen.push(ctx); return ctx?.namespace === 'team-1' ? 'allow' : 'deny'; });
  const id = { authorizer, accessorID: 'acc-1', tokenGiven: true } as AclIdentity;
  assert.equal(entContext(undefined), undefined);
  assert.equal(entContext(DEFAULT_ENT), undefined);
  const team = entContext({ partition: 'default', namespace: 'team-1' });
  assert.deepEqual(team, { partition: 'default', namespace: 'team-1' });
  assert.equal(allowed(id, 'keyRead', 'k', team), true);
  assert.equal(allowed(id, 'keyRead', 'k'), false);
  assert.deepEqual(seen, [team, undefined]);
  assert.throws(() => authorize(id, 'keyRead', 'k', entContext({ partition: 'p1', namespace: 'ns' })), (err: Error) => {
    assert.match(err.message, /"k".*partition "p1".*namespace "ns"/);
    return true;
  });
  assert.throws(() => authorize(id, 'keyRead', 'k'), (err: Error) => !/namespace/.test(err.message));
});

test('a tenant context is folded: a deny for team-1 holds for a request naming TEAM-1', () => {
  assert.deepEqual(entContext({ partition: 'West', namespace: 'TEAM-1' }), { partition: 'west', namespace: 'team-1' });
  const rules = 'namespace_prefix "" { key_prefix "" { policy = "write" } }\nnamespace "team-1" { key_prefix "" { policy = "deny" } }';
  const id = { authorizer: chainedAuthorizer([newPolicyAuthorizer([parseRules(rules)]), denyAll()]), accessorID: 'acc-1', tokenGiven: true } as AclIdentity;
  assert.equal(allowed(id, 'keyWrite', 'k', entContext({ partition: 'default', namespace: 'team-2' })), true);
  for (const ns of ['team-1', 'TEAM-1', 'Team-1']) assert.equal(allowed(id, 'keyWrite', 'k', entContext({ partition: 'default', namespace: ns })), false, ns);
});
