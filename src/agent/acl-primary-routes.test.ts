import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AclTables } from '../state/index.ts';
import { aclRoute, localFlag, preparingDns, type AclPrimaryRoutesDeps } from './acl-primary-routes.ts';
import type { MessageHandler } from './dc-dns.ts';

function deps(tokenReplication: boolean, tokens: { AccessorID: string; Local: boolean }[] = []): AclPrimaryRoutesDeps {
  const acl = new AclTables();
  let rev = 1;
  for (const t of tokens) {
    const value = Buffer.from(JSON.stringify({ ...t, SecretID: `s-${t.AccessorID}` }));
    acl.apply({ type: 'put', kv: { key: `acl/token/${t.AccessorID}`, value, createRevision: rev, modRevision: rev++, version: 1 } } as never);
  }
  return { localTokens: () => tokenReplication, acl: () => acl, enabled: () => true, primary: 'dc1', dc: {} as AclPrimaryRoutesDeps['dc'] };
}

const kind = (r: ReturnType<typeof aclRoute>) => (typeof r === 'string' ? r : 'decided');

test('policy and role writes are the primary\'s, their reads are answered here', () => {
  const d = deps(true);
  for (const [m, p] of [['PUT', '/v1/acl/policy'], ['PUT', '/v1/acl/policy/x'], ['DELETE', '/v1/acl/policy/x'], ['PUT', '/v1/acl/role'], ['DELETE', '/v1/acl/role/x']]) {
    assert.equal(aclRoute(d, m, p), 'primary', `${m} ${p}`);
  }
  for (const p of ['/v1/acl/policy/x', '/v1/acl/policies', '/v1/acl/role/name/r', '/v1/acl/roles']) assert.equal(aclRoute(d, 'GET', p), 'local', p);
});

test('with token replication tokens are read here; clones and deletes of global or unknown tokens go to the primary', () => {
  const d = deps(true, [{ AccessorID: 'g', Local: false }, { AccessorID: 'l', Local: true }]);
  assert.equal(aclRoute(d, 'GET', '/v1/acl/tokens'), 'local');
  assert.equal(aclRoute(d, 'GET', '/v1/acl/token/self'), 'local');
  assert.equal(aclRoute(d, 'DELETE', '/v1/acl/token/g'), 'primary');
  assert.equal(aclRoute(d, 'DELETE', '/v1/acl/token/unknown'), 'primary');
  assert.equal(aclRoute(d, 'DELETE', '/v1/acl/token/l'), 'local');
  assert.equal(aclRoute(d, 'PUT', '/v1/acl/token/g/clone'), 'primary');
  assert.equal(aclRoute(d, 'PUT', '/v1/acl/token/l/clone'), 'local');
  assert.equal(kind(aclRoute(d, 'PUT', '/v1/acl/token')), 'decided', 'by the body\'s Local');
  assert.equal(aclRoute(d, 'GET', '/v1/acl/auth-methods'), 'local');
});

test('without token replication every token operation is the primary\'s and auth methods are refused', async () => {
  const d = deps(false, [{ AccessorID: 'g', Local: false }]);
  for (const [m, p] of [['GET', '/v1/acl/tokens'], ['GET', '/v1/acl/token/g'], ['DELETE', '/v1/acl/token/g'], ['PUT', '/v1/acl/token/g/clone']]) {
    assert.equal(aclRoute(d, m, p), 'primary', `${m} ${p}`);
  }
  for (const p of ['/v1/acl/auth-methods', '/v1/acl/binding-rule', '/v1/acl/login']) {
    const r = aclRoute(d, 'GET', p);
    assert.equal(typeof r, 'function');
    await assert.rejects((r as Exclude<typeof r, string>)({} as never, async () => ({})), /Token replication is required for auth methods to function/);
  }
  const boot = aclRoute(d, 'PUT', '/v1/acl/bootstrap') as Exclude<ReturnType<typeof aclRoute>, string>;
  await assert.rejects(boot({} as never, async () => ({})), /ACL support disabled/);
});

test('the replication status is the leader\'s: a follower forwards it', () => {
  const d = deps(true);
  assert.equal(aclRoute(d, 'GET', '/v1/acl/replication'), 'local');
  assert.equal(aclRoute({ ...d, otherLeader: () => '' }, 'GET', '/v1/acl/replication'), 'local');
  assert.equal(kind(aclRoute({ ...d, otherLeader: () => '127.0.0.9:8300' }, 'GET', '/v1/acl/replication')), 'decided');
});

test('the Local flag of a token body, keys in any case', () => {
  assert.equal(localFlag(Buffer.from('{"Local":true}')), true);
  assert.equal(localFlag(Buffer.from('{"local":true}')), true);
  assert.equal(localFlag(Buffer.from('{"Local":false}')), false);
  assert.equal(localFlag(Buffer.from('{}')), false);
  assert.equal(localFlag(Buffer.from('not json')), false);
});

test('preparingDns: a token the primary must resolve is readied before the question is answered, the fast path waits for it', async () => {
  const order: string[] = [];
  let ready = false;
  const acl = { ready: () => ready, prepare: async (s: string) => { order.push(`prepare ${s}`); ready = true; } };
  const inner = {
    answerNow: () => { order.push('answerNow'); return Buffer.from('fast'); },
    handle: async () => { order.push('handle'); return Buffer.from('slow'); },
  } as unknown as MessageHandler;
  const h = preparingDns(inner, () => 'dns-secret', acl);
  assert.equal(h.answerNow(Buffer.alloc(12), 'udp'), undefined, 'not from prepared answers before the token is known');
  assert.equal((await h.handle(Buffer.alloc(12), 'udp'))?.toString(), 'slow');
  assert.deepEqual(order, ['prepare dns-secret', 'handle']);
  assert.equal(h.answerNow(Buffer.alloc(12), 'udp')?.toString(), 'fast');
  await h.handle(Buffer.alloc(12), 'udp');
  assert.deepEqual(order, ['prepare dns-secret', 'handle', 'answerNow', 'handle'], 'prepared once');
});
