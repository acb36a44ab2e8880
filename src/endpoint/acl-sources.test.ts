// The grants a token's authorizer is built from: a namespaced token's links count only when they
// name policies and roles of its own namespace (Consul Enterprise's linking rule), so a link to
// global-management or another namespace's grants stored before that rule was enforced (or
// replicated from a primary that did not enforce it) grants nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ACL_POLICY_GLOBAL_MANAGEMENT_ID } from '../acl/index.ts';
import { ManualClock } from '../clock.ts';
import { silentLogger } from '../log.ts';
import { Replica } from '../state/index.ts';
import { MemoryStore } from '../store/index.ts';
import { putOp } from './index.ts';
import { tokenSources } from './acl-sources.ts';

test("a namespaced token's links outside its namespace grant nothing; its own namespace's do", async () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 2));
  const store = new MemoryStore({ clock });
  await store.open();
  const replica = new Replica({ store, clock, logger: silentLogger() });
  await replica.start();
  try {
    const GM = ACL_POLICY_GLOBAL_MANAGEMENT_ID;
    const policy = (ID: string, Name: string, Rules: string) => ({ ID, Name, Description: '', Rules, Hash: ID });
    const r = await store.txn({
      success: [
        putOp(`acl/policy/${GM}`, policy(GM, 'global-management', '')),
        putOp('acl/policy/d1', policy('d1', 'dflt', 'key_prefix "" { policy = "write" }')),
        putOp('t/default/team-b/acl/policy/b1', policy('b1', 'other', 'key_prefix "" { policy = "write" }')),
        putOp('t/default/team-a/acl/policy/a1', policy('a1', 'own', 'key_prefix "" { policy = "read" }')),
        putOp('acl/role/rd', { ID: 'rd', Name: 'dflt-role', Description: '', Policies: [{ ID: GM }], Hash: 'rd' }),
        putOp('t/default/team-a/acl/role/ra', { ID: 'ra', Name: 'own-role', Description: '', Policies: [{ ID: 'a1' }, { ID: 'd1' }], Hash: 'ra' }),
        putOp('t/default/team-a/acl/token/t1', {
          AccessorID: 't1', SecretID: 's1', Description: '', Local: false, CreateTime: '', Hash: 't1',
          Policies: [{ ID: GM }, { ID: 'd1' }, { ID: 'b1' }, { ID: 'a1' }], Roles: [{ ID: 'rd' }, { ID: 'ra' }],
        }),
        putOp('acl/token/t0', { AccessorID: 't0', SecretID: 's0', Description: '', Local: false, CreateTime: '', Hash: 't0', Policies: [{ ID: GM }] }),
      ],
    });
    await replica.waitFor(r.revision);
    const t1 = replica.acl.tokens.get('t1')!;
    assert.equal(t1.Namespace, 'team-a');
    const got = tokenSources(replica.acl, t1, 'dc1');
    assert.equal(got.management, false, 'global-management of the default namespace is not a team-a token\'s');
    assert.deepEqual(got.sources.map((s) => [s.origin.Policy?.ID, s.origin.Role?.ID]), [['a1', undefined]]);
    // A default-namespace token is unchanged.
    assert.equal(tokenSources(replica.acl, replica.acl.tokens.get('t0')!, 'dc1').management, true);
  } finally {
    replica.stop();
  }
});
