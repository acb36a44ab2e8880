// Enforcement with a tenant: the authorizer sees the tenant's context, denials name it, and the
// default tenant passes no context at all (its checks and texts stay as they were).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { authorizerFrom, type AuthorizerContext } from '../acl/index.ts';
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
