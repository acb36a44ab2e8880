// The agent-local ACL checks of a client agent in an admin partition: its services, checks and
// node meet that partition's rules (Consul Enterprise fills the agent's partition into the
// authorizer context), not the default partition's top-level ones.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../clock.ts';
import { chainedAuthorizer, denyAll } from '../../acl/index.ts';
import { newPolicyAuthorizer } from '../../acl/scoped-authorizer.ts';
import { parseRules } from '../../acl/rules.ts';
import type { AclIdentity } from '../../endpoint/index.ts';
import { LocalState } from './state.ts';
import { checkVisible, serviceVisible, vetCheckRegister, vetServiceRead, vetServiceRegister } from './acl.ts';
import type { LocalService } from './definition.ts';

const identity = (rules: string): AclIdentity =>
  ({ authorizer: chainedAuthorizer([newPolicyAuthorizer([parseRules(rules)]), denyAll()]), accessorID: 'acc', tokenGiven: true }) as AclIdentity;

const state = (partition?: string) => new LocalState({ clock: new ManualClock(0), random: () => 0, nodeName: 'n1', partition, checkUpdateIntervalMs: 0, triggerSync: () => {} });
const web = { ID: 'web', Service: 'web', Tags: [], Port: 80 } as unknown as LocalService;
const nodeCheck = { Node: 'n1', CheckID: 'up', Name: 'up', Status: 'passing', ServiceID: '', ServiceName: '' } as never;

test('a client agent in partition p1 checks its services and node in p1', () => {
  const p1 = state('P1');
  assert.equal(p1.partition, 'p1');
  const topLevel = identity('service_prefix "" { policy = "write" } node_prefix "" { policy = "write" }');
  const inP1 = identity('partition "p1" { service_prefix "" { policy = "write" } node_prefix "" { policy = "write" } }');
  assert.throws(() => vetServiceRegister(topLevel, p1, web), /Permission denied/);
  assert.doesNotThrow(() => vetServiceRegister(inP1, p1, web));
  assert.equal(serviceVisible(topLevel, web, p1.partition), false);
  assert.equal(serviceVisible(inP1, web, p1.partition), true);
  assert.throws(() => vetServiceRead(topLevel, 'web', undefined, p1.partition), /Permission denied/);
  assert.throws(() => vetCheckRegister(topLevel, p1, nodeCheck), /Permission denied/);
  assert.doesNotThrow(() => vetCheckRegister(inP1, p1, nodeCheck));
  assert.equal(checkVisible(topLevel, p1, nodeCheck), false);
  assert.equal(checkVisible(inP1, p1, nodeCheck), true);

  // An agent of the default partition keeps the top-level rules.
  const def = state();
  assert.doesNotThrow(() => vetServiceRegister(topLevel, def, web));
  assert.throws(() => vetServiceRegister(inP1, def, web), /Permission denied/);
  assert.equal(checkVisible(topLevel, def, nodeCheck), true);
});
