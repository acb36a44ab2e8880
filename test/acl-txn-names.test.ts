// ACL checks of /v1/txn catalog ops against the names the write really touches. Consul vets the
// names an op gives, and its rules match them case-sensitively (a rule for service "web" does not
// cover "WEB"); the write finds instances and checks case-insensitively, so the stored service an
// op replaces, deletes or attaches a check to needs write under its own name too (as catalog
// register asks, Consul's vetRegisterWithACL).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { httpCaller, ROOT, startAclAgent, tokenWithRules } from './support/acl.ts';
import type { DevAgent } from './support/agent.ts';

let a: DevAgent;
const call = httpCaller(() => a.httpAddr);
/** A token that may write service "api" and every node, not service "web". */
let apiOnly: { SecretID: string; AccessorID: string };
const denial = (perm: string, name: string) =>
  `Permission denied: token with AccessorID '${apiOnly.AccessorID}' lacks permission '${perm}' on ${JSON.stringify(name)}`;

before(async () => {
  a = await startAclAgent();
  const r = await call('PUT', '/v1/catalog/register', ROOT, {
    Node: 'Txn-Acl-Node', Address: '10.8.0.1', Service: { ID: 'Web-1', Service: 'web', Port: 80 },
    Checks: [{ CheckID: 'Web-Alive', ServiceID: 'Web-1', Status: 'passing' }],
  });
  assert.equal(r.status, 200, r.text);
  apiOnly = await tokenWithRules(call, 'service "api" { policy = "write" }\nnode_prefix "" { policy = "write" }');
});
after(() => a.stop());

const txn = (token: string, ops: unknown[]) => call('PUT', '/v1/txn', token, ops);
const webInstance = async () => (await call('GET', '/v1/catalog/service/web', ROOT)).json.map((s: { ServiceID: string; ServicePort: number }) => [s.ServiceID, s.ServicePort]);

test('a service set naming an existing instance in another case needs write on the instance\'s service', async () => {
  const r = await txn(apiOnly.SecretID, [{ Service: { Verb: 'set', Node: 'txn-acl-node', Service: { ID: 'WEB-1', Service: 'api', Port: 81 } } }]);
  assert.equal(r.status, 409, r.text);
  assert.deepEqual(r.json.Errors, [{ OpIndex: 0, What: denial('service:write', 'web') }]);
  assert.deepEqual(await webInstance(), [['Web-1', 80]], 'the web instance is untouched');
  const own = await txn(apiOnly.SecretID, [{ Service: { Verb: 'set', Node: 'txn-acl-node', Service: { ID: 'api-1', Service: 'api', Port: 81 } } }]);
  assert.equal(own.status, 200, own.text);
});

test('a service delete by another spelling of the ID needs write on the stored service', async () => {
  const r = await txn(apiOnly.SecretID, [{ Service: { Verb: 'delete', Node: 'TXN-ACL-NODE', Service: { ID: 'web-1', Service: 'api' } } }]);
  assert.equal(r.status, 409, r.text);
  assert.deepEqual(r.json.Errors, [{ OpIndex: 0, What: denial('service:write', 'web') }]);
  assert.deepEqual(await webInstance(), [['Web-1', 80]]);
});

test('a check set for an instance in another case needs write on the instance\'s service, whatever ServiceName says', async () => {
  const r = await txn(apiOnly.SecretID, [{ Check: { Verb: 'set', Check: {
    Node: 'txn-acl-node', CheckID: 'sneaky', ServiceID: 'WEB-1', ServiceName: 'api', Status: 'critical' } } }]);
  assert.equal(r.status, 409, r.text);
  assert.deepEqual(r.json.Errors, [{ OpIndex: 0, What: denial('service:write', 'web') }]);
  const del = await txn(apiOnly.SecretID, [{ Check: { Verb: 'delete', Check: { Node: 'txn-acl-node', CheckID: 'web-ALIVE' } } }]);
  assert.equal(del.status, 409, del.text);
  assert.deepEqual(del.json.Errors, [{ OpIndex: 0, What: denial('service:write', 'web') }]);
  const checks = (await call('GET', '/v1/health/node/Txn-Acl-Node', ROOT)).json.map((c: { CheckID: string }) => c.CheckID);
  assert.deepEqual(checks, ['Web-Alive']);
});

test('rules match the given name case-sensitively, as Consul\'s authorizer does', async () => {
  const web = await tokenWithRules(call, 'service "web" { policy = "write" }\nnode_prefix "" { policy = "write" }');
  const upper = await txn(web.SecretID, [{ Service: { Verb: 'set', Node: 'txn-acl-node', Service: { ID: 'Web-1', Service: 'WEB', Port: 82 } } }]);
  assert.equal(upper.status, 409, upper.text);
  assert.deepEqual(upper.json.Errors, [{ OpIndex: 0,
    What: `Permission denied: token with AccessorID '${web.AccessorID}' lacks permission 'service:write' on "WEB"` }]);
  const same = await txn(web.SecretID, [{ Service: { Verb: 'set', Node: 'TXN-ACL-NODE', Service: { ID: 'WEB-1', Service: 'web', Port: 82 } } }]);
  assert.equal(same.status, 200, same.text);
  assert.deepEqual(await webInstance(), [['WEB-1', 82]], 'the instance, its ID as the op spells it (as Consul stores it)');
});
